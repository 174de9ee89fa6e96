#pragma once
// One ttrpc connection's socket: frames in through FrameDecoder, frames out
// through a write queue flushed in batches. Every member runs on the
// connection's strand; subclasses (client and server side) handle frames.
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/strand.hpp>
#include <memory>
#include <string>
#include <vector>

#include "ttrpc/frame.h"

namespace mcd::ttrpc {

class Channel : public std::enable_shared_from_this<Channel> {
 public:
  using Executor = boost::asio::strand<boost::asio::io_context::executor_type>;
  // The socket's executor is the connection's strand: every completion
  // handler runs serialised without locks.
  using Socket = boost::asio::basic_stream_socket<boost::asio::local::stream_protocol, Executor>;

  explicit Channel(Socket socket);
  virtual ~Channel() = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  Executor executor() { return socket_.get_executor(); }

  // All of the following: on the strand only.
  void StartReading();
  void Send(std::string frame);
  // Closes the socket now; OnClosed runs once.
  void Close();
  // Closes once every queued frame is written (or at once if none).
  void CloseAfterFlush();
  bool is_closed() const { return closed_; }
  // Bytes queued or being written: the peer is not reading when this grows.
  size_t write_backlog() const { return backlog_; }
  // Resumes a read paused because CanRead() was false.
  void ResumeReading();

 protected:
  virtual void OnFrame(FrameDecoder::Frame&& frame) = 0;
  virtual void OnClosed() = 0;
  // Backpressure: no further read is issued while this is false; it is
  // asked again after each write and on ResumeReading().
  virtual bool CanRead() const { return true; }
  Socket& socket() { return socket_; }

 private:
  void DoRead();
  void DoWrite();

  Socket socket_;
  FrameDecoder decoder_;
  std::vector<char> rbuf_;
  std::vector<std::string> queued_;
  std::vector<std::string> writing_;
  size_t backlog_ = 0;
  bool reading_ = false;
  bool closed_ = false;
  bool close_after_flush_ = false;
};

}  // namespace mcd::ttrpc
