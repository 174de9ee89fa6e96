#include "runtime/v2/shim_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <cerrno>
#include <mutex>

#include "pkg/errdefs.h"
#include "ttrpc/io.h"

namespace mcd::runtime {
namespace {

constexpr size_t kTail = 4096;

class FifoLog final : public ShimLog, public std::enable_shared_from_this<FifoLog> {
 public:
  // Every operation on the descriptor runs on one strand: reads and the
  // close can come from different threads.
  FifoLog(int fd, bool copy)
      : strand_(boost::asio::make_strand(ttrpc::Io())), sd_(strand_, fd), copy_(copy) {}

  void Read() {
    sd_.async_read_some(boost::asio::buffer(buf_),
                        [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                          if (ec) return;  // closed or cancelled
                          self->Copy(n);
                          self->Read();
                        });
  }
  void Close() override {
    boost::asio::post(strand_, [self = shared_from_this()] {
      boost::system::error_code ec;
      if (self->sd_.is_open()) self->sd_.close(ec);
    });
  }
  boost::asio::strand<boost::asio::io_context::executor_type>& strand() { return strand_; }
  std::string Tail() const override {
    std::lock_guard lk(mu_);
    return tail_;
  }

 private:
  void Copy(size_t n) {
    // containerd copies the shim's log lines to its stderr verbatim.
    size_t off = copy_ ? 0 : n;
    while (off < n) {
      ssize_t w = ::write(2, buf_.data() + off, n - off);
      if (w <= 0 && errno != EINTR) break;
      if (w > 0) off += static_cast<size_t>(w);
    }
    std::lock_guard lk(mu_);
    tail_.append(buf_.data(), n);
    if (tail_.size() > kTail) tail_.erase(0, tail_.size() - kTail);
  }

  mutable std::mutex mu_;  // tail_
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::posix::stream_descriptor sd_;
  std::array<char, 8192> buf_{};
  std::string tail_;
  bool copy_;
};

}  // namespace

std::shared_ptr<ShimLog> ShimLog::Open(const std::string& bundle) {
  return OpenFifo(bundle + "/log", true);
}

std::shared_ptr<ShimLog> ShimLog::OpenFifo(const std::string& path, bool copy) {
  if (::mkfifo(path.c_str(), 0700) != 0 && errno != EEXIST)
    throw errdefs::FromErrno(errno, "open shim log pipe: mkfifo " + path);
  int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw errdefs::FromErrno(errno, "open shim log pipe: " + path);
  auto log = std::make_shared<FifoLog>(fd, copy);
  boost::asio::post(log->strand(), [log] { log->Read(); });
  return log;
}

}  // namespace mcd::runtime
