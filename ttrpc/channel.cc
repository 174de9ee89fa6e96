#include "ttrpc/channel.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

namespace mcd::ttrpc {

namespace {
constexpr size_t kReadChunk = 64 << 10;
}

Channel::Channel(Socket socket) : socket_(std::move(socket)), rbuf_(kReadChunk) {}

void Channel::StartReading() {
  ResumeReading();
}

void Channel::ResumeReading() {
  if (reading_ || closed_ || !CanRead()) return;
  DoRead();
}

void Channel::DoRead() {
  reading_ = true;
  socket_.async_read_some(boost::asio::buffer(rbuf_), [self = shared_from_this()](
                                                          boost::system::error_code ec, size_t n) {
    self->reading_ = false;
    if (self->closed_) return;
    if (ec) {
      self->Close();
      return;
    }
    self->decoder_.Feed(std::string_view(self->rbuf_.data(), n),
                        [&](FrameDecoder::Frame&& f) { self->OnFrame(std::move(f)); });
    self->ResumeReading();
  });
}

void Channel::Send(std::string frame) {
  if (closed_ || close_after_flush_) return;
  backlog_ += frame.size();
  queued_.push_back(std::move(frame));
  if (writing_.empty()) DoWrite();
}

void Channel::DoWrite() {
  writing_.swap(queued_);
  std::vector<boost::asio::const_buffer> bufs;
  bufs.reserve(writing_.size());
  for (const auto& f : writing_) bufs.emplace_back(boost::asio::buffer(f));
  boost::asio::async_write(socket_, bufs,
                           [self = shared_from_this()](boost::system::error_code ec, size_t) {
                             if (self->closed_) {
                               self->writing_.clear();
                               return;
                             }
                             for (const auto& f : self->writing_) self->backlog_ -= f.size();
                             self->writing_.clear();
                             if (ec) {
                               self->Close();
                               return;
                             }
                             if (!self->queued_.empty()) {
                               self->DoWrite();
                             } else if (self->close_after_flush_) {
                               self->Close();
                               return;
                             }
                             self->ResumeReading();
                           });
}

void Channel::CloseAfterFlush() {
  if (closed_) return;
  if (writing_.empty() && queued_.empty()) {
    Close();
    return;
  }
  close_after_flush_ = true;
}

void Channel::Close() {
  if (closed_) return;
  closed_ = true;
  decoder_.Stop();
  boost::system::error_code ignored;
  socket_.shutdown(Socket::shutdown_both, ignored);
  socket_.close(ignored);
  queued_.clear();
  backlog_ = 0;
  OnClosed();
}

}  // namespace mcd::ttrpc
