#pragma once
// OOM notifications of a cgroup v1 memory controller, as containerd's
// cgroups monitor receives them for v1 tasks (metrics/cgroups/v1/oom.go with
// containerd/cgroups' OOMEventFD): an eventfd registered through the memory
// directory's cgroup.event_control for memory.oom_control. The kernel
// signals it on every OOM in the cgroup, and once more when the cgroup is
// removed; the latter is not an OOM: a signal that finds one of the cgroup's
// directories gone ends the watch (containerd's State() == Deleted check).
//
// The eventfd is waited on with Boost.Asio on the io_context given (the
// daemon's shared one): no thread and no polling per cgroup.
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <stdexcept>

#include "runtime/cgroupstats/metrics.h"

namespace mcd::cgroupstats {

// The cgroup has no memory controller: containerd's ErrMemoryNotSupported
// (its monitor logs it and watches nothing).
class MemoryNotSupported : public std::runtime_error {
 public:
  MemoryNotSupported()
      : std::runtime_error("cgroups: memory cgroup not supported on this system") {}
};

class OomWatch {
 public:
  struct Callbacks {
    // An OOM happened in the cgroup (the cgroup still exists).
    std::function<void()> oom;
    // The cgroup was removed: the watch ended and its fds are closed.
    // Not called after Stop.
    std::function<void()> gone;
  };

  // Registers for cg's OOM notifications and starts waiting. Throws
  // MemoryNotSupported when cg has no memory controller, an errdefs error
  // naming the file when registering fails (NotFound: the cgroup is gone).
  // Callbacks run on an io thread, one at a time, in order; they must not
  // block.
  static std::unique_ptr<OomWatch> Start(boost::asio::io_context& io, const Cgroup& cg,
                                         Callbacks cbs);

  // Stops (see Stop).
  ~OomWatch();
  OomWatch(const OomWatch&) = delete;
  OomWatch& operator=(const OomWatch&) = delete;

  // No callback starts after Stop returns (one already running finishes);
  // the eventfd is closed on the io context right after, which also
  // unregisters it in the kernel. Idempotent.
  void Stop();

  // True until the cgroup was found removed or Stop was called.
  bool Active() const;

  struct State;

 private:
  explicit OomWatch(std::shared_ptr<State> s) : state_(std::move(s)) {}
  std::shared_ptr<State> state_;
};

}  // namespace mcd::cgroupstats
