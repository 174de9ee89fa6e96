#include "runtime/cgroupstats/oom.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "pkg/errdefs.h"
#include "pkg/fd.h"
#include "pkg/log.h"

namespace mcd::cgroupstats {

namespace asio = boost::asio;

struct OomWatch::State : std::enable_shared_from_this<OomWatch::State> {
  State(asio::io_context& io, std::vector<std::string> d, Callbacks c)
      : strand(asio::make_strand(io)), sd(strand), dirs(std::move(d)), cbs(std::move(c)) {}

  // Every operation on the descriptor runs on the strand: the wait and the
  // close (from Stop) can come from different threads.
  asio::strand<asio::io_context::executor_type> strand;
  asio::posix::stream_descriptor sd;
  std::vector<std::string> dirs;  // the cgroup's directories, for the removal check
  Callbacks cbs;
  std::atomic<bool> stopped{false};
  std::atomic<bool> ended{false};

  void Arm() {
    sd.async_wait(asio::posix::stream_descriptor::wait_read,
                  asio::bind_executor(
                      strand, [self = shared_from_this()](const boost::system::error_code& ec) {
                        self->OnReadable(ec);
                      }));
  }

  void OnReadable(const boost::system::error_code& ec) {
    if (ec || stopped || !sd.is_open()) return;  // closed by Stop
    // Always drain the counter, or the descriptor stays readable.
    uint64_t count = 0;
    if (::read(sd.native_handle(), &count, sizeof count) < 0) {
      if (errno == EAGAIN || errno == EINTR) return Arm();
      log::Error("cgroups: reading the OOM eventfd failed, OOM notifications stopped",
                 {{"error", errdefs::ErrnoText(errno)}});
      return End();
    }
    // The kernel signals once more when the cgroup goes away: that is the
    // end of the watch, not an OOM.
    if (Deleted()) {
      End();
      if (!stopped) Call(cbs.gone, "gone");
      return;
    }
    Call(cbs.oom, "oom");
    Arm();
  }

  // containerd's checkExists: the cgroup is deleted once any of its
  // directories is missing.
  bool Deleted() const {
    struct stat st;
    for (const auto& d : dirs) {
      if (::lstat(d.c_str(), &st) != 0 && errno == ENOENT) return true;
    }
    return false;
  }

  void End() {
    ended = true;
    boost::system::error_code ignored;
    if (sd.is_open()) sd.close(ignored);
  }

  void Call(const std::function<void()>& fn, const char* what) {
    if (!fn || stopped) return;
    try {
      fn();
    } catch (const std::exception& e) {
      log::Error("cgroups: OOM watch callback failed", {{"callback", what}, {"error", e.what()}});
    }
  }
};

std::unique_ptr<OomWatch> OomWatch::Start(asio::io_context& io, const Cgroup& cg, Callbacks cbs) {
  std::string memory;
  std::vector<std::string> dirs;
  for (const auto& s : cg.subsystems) {
    dirs.push_back(s.dir);
    if (s.name == "memory") memory = s.dir;
  }
  if (memory.empty()) throw MemoryNotSupported();

  UniqueFd efd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!efd) throw errdefs::FromErrno(errno, "eventfd");
  const std::string control = memory + "/memory.oom_control";
  UniqueFd oom_control(::open(control.c_str(), O_RDONLY | O_CLOEXEC));
  if (!oom_control) throw errdefs::FromErrno(errno, "open " + control);
  // "<eventfd> <file> [args]": the memory controller's registration line;
  // the OOM event takes no argument. The kernel keeps its own references,
  // so the oom_control fd is closed once written.
  const std::string line =
      std::to_string(efd.get()) + " " + std::to_string(oom_control.get()) + " ";
  const std::string event_control = memory + "/cgroup.event_control";
  UniqueFd ctl(::open(event_control.c_str(), O_WRONLY | O_CLOEXEC));
  if (!ctl) throw errdefs::FromErrno(errno, "open " + event_control);
  ssize_t n;
  do {
    n = ::write(ctl.get(), line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw errdefs::FromErrno(errno, "write " + event_control);

  auto state = std::make_shared<State>(io, std::move(dirs), std::move(cbs));
  state->sd.assign(efd.get());
  efd.release();
  // Start on the strand, so the first wait never races a Stop.
  asio::post(state->strand, [state] {
    if (!state->stopped) state->Arm();
  });
  return std::unique_ptr<OomWatch>(new OomWatch(std::move(state)));
}

OomWatch::~OomWatch() {
  Stop();
}

void OomWatch::Stop() {
  if (state_->stopped.exchange(true)) return;
  // Closing the eventfd also makes the kernel drop the registration.
  asio::post(state_->strand, [s = state_] { s->End(); });
}

bool OomWatch::Active() const {
  return !state_->stopped && !state_->ended;
}

}  // namespace mcd::cgroupstats
