#pragma once
// containerd's task monitor, io.containerd.monitor.v1 / cgroups
// (metrics/cgroups): with runtime v1 the shim does not report OOMs, the
// daemon does. For each v1 task it watches the task's memory cgroup and
// publishes /tasks/oom (containerd.events.TaskOOM{container_id}) in the
// task's namespace on every OOM there.
//
// The tasks service calls Monitor when it creates a v1 task (and at start-up
// for every v1 task it reconnects to) and Stop before deleting it, as
// containerd's services/tasks does. v2 tasks are not watched: their shim
// reports OOMs itself. containerd's Prometheus collector is only served with
// a metrics address, which this daemon has not: `no_prometheus` is accepted
// and changes nothing.
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "plugins/plugin.h"
#include "runtime/cgroupstats/metrics.h"
#include "runtime/cgroupstats/oom.h"

namespace mcd::events {
class Exchange;
}

namespace mcd::monitor {

// containerd's plugin.TaskMonitorPlugin.
inline constexpr const char* kTaskMonitor = "io.containerd.monitor.v1";
inline constexpr const char* kTaskOOMTopic = "/tasks/oom";

class CgroupsMonitor : public plugin::Instance,
                       public std::enable_shared_from_this<CgroupsMonitor> {
 public:
  // Make it with std::make_shared: watches call back through a weak_ptr.
  CgroupsMonitor(events::Exchange* events, boost::asio::io_context& io);
  ~CgroupsMonitor() override;

  // Watches the cgroup of the v1 task `id` in namespace `ns` whose init
  // process is `pid` (its cgroups loaded as containerd's linux.Task does).
  // A task without a cgroup (NotFound) or without a memory controller is not
  // watched (containerd logs the latter and goes on); other errors throw
  // (containerd fails the create with "monitor task: ..."). Watching the
  // same task again replaces its watch.
  void Monitor(const std::string& ns, const std::string& id, pid_t pid);
  // The same with the cgroup the runtime already loaded for the task.
  void Monitor(const std::string& ns, const std::string& id, const cgroupstats::Cgroup& cg);

  // Ends the task's watch, if any: no event is published for it afterwards.
  // (containerd keeps the OOM watch until the cgroup is removed, which the
  // delete that follows does anyway.)
  void Stop(const std::string& ns, const std::string& id);

  // Tasks watched now.
  size_t Watching() const;

  void Close() override;

 private:
  struct Entry {
    uint64_t gen;
    std::unique_ptr<cgroupstats::OomWatch> watch;
  };
  void Trigger(const std::string& ns, const std::string& id);
  void Gone(const std::string& key, uint64_t gen);

  events::Exchange* events_;
  boost::asio::io_context& io_;
  mutable std::mutex mu_;
  uint64_t next_gen_ = 0;
  std::map<std::string, Entry> watches_;  // by "<ns>/<id>"
};

}  // namespace mcd::monitor
