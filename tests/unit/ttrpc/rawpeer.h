#pragma once
// A ttrpc peer written with plain sockets, to send what a well-behaved
// implementation never would and to look at exactly what is on the wire.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <optional>
#include <stdexcept>
#include <string>

#include "mcd/ttrpc.pb.h"
#include "pkg/fd.h"
#include "ttrpc/frame.h"

namespace mcd::ttrpc::test {

inline sockaddr_un Addr(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  path.copy(a.sun_path, sizeof a.sun_path - 1);
  return a;
}

class RawConn {
 public:
  explicit RawConn(int fd) : fd_(fd) {}
  static RawConn Dial(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a = Addr(path);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      throw std::runtime_error("dial " + path);
    }
    return RawConn(fd);
  }
  int fd() const { return fd_.get(); }

  void Write(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd_.get(), bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("write failed");
      off += static_cast<size_t>(n);
    }
  }
  void WriteHeader(uint32_t len, uint32_t id, uint8_t type) {
    unsigned char h[kHeaderSize];
    EncodeHeader(Header{len, id, type, 0}, h);
    Write(std::string(reinterpret_cast<char*>(h), kHeaderSize));
  }
  void WriteRequest(uint32_t id, const std::string& service, const std::string& method,
                    const std::string& payload) {
    mcd::ttrpc::Request r;
    r.set_service(service);
    r.set_method(method);
    r.set_payload(payload);
    Write(EncodeFrame(id, MessageType::kRequest, r.SerializeAsString()));
  }

  // The next frame, or nullopt at EOF.
  std::optional<FrameDecoder::Frame> Read() {
    std::optional<FrameDecoder::Frame> got;
    while (!got) {
      if (!pending_.empty()) {
        std::string data = std::move(pending_);
        pending_.clear();
        size_t consumed = 0;
        // Feed one byte at a time so bytes after the frame stay queued.
        while (consumed < data.size() && !got) {
          dec_.Feed(std::string_view(data).substr(consumed, 1),
                    [&](FrameDecoder::Frame&& f) { got = std::move(f); });
          ++consumed;
        }
        pending_ = data.substr(consumed);
        if (got) break;
      }
      char buf[4096];
      ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
      if (n <= 0) return std::nullopt;
      pending_.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
  mcd::ttrpc::Response ReadResponse(uint32_t* id = nullptr) {
    auto f = Read();
    if (!f) throw std::runtime_error("eof instead of a response");
    if (id) *id = f->header.stream_id;
    mcd::ttrpc::Response r;
    if (f->header.type != 2 || !r.ParseFromString(f->payload))
      throw std::runtime_error("not a response");
    return r;
  }

 private:
  UniqueFd fd_;
  FrameDecoder dec_;
  std::string pending_;
};

// A listening socket that accepts by hand.
class RawListener {
 public:
  explicit RawListener(const std::string& path) {
    fd_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a = Addr(path);
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(fd_.get(), 16) != 0) {
      throw std::runtime_error("listen " + path);
    }
  }
  RawConn Accept() {
    int c = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) throw std::runtime_error("accept");
    return RawConn(c);
  }

 private:
  UniqueFd fd_;
};

}  // namespace mcd::ttrpc::test
