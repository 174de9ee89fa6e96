#include "runtime/monitor/monitor.h"

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "pkg/context.h"
#include "pkg/errdefs.h"
#include "pkg/log.h"

namespace mcd::monitor {

CgroupsMonitor::CgroupsMonitor(events::Exchange* events, boost::asio::io_context& io)
    : events_(events), io_(io) {}

CgroupsMonitor::~CgroupsMonitor() {
  Close();
}

void CgroupsMonitor::Monitor(const std::string& ns, const std::string& id, pid_t pid) {
  cgroupstats::Cgroup cg;
  try {
    cg = cgroupstats::Load(pid);
  } catch (const errdefs::Error& e) {
    // No cgroup (the process is gone or has none): nothing to watch, as
    // containerd's v1 task reports a NotFound cgroup.
    if (e.code() == errdefs::Code::kNotFound) return;
    throw;
  }
  Monitor(ns, id, cg);
}

void CgroupsMonitor::Monitor(const std::string& ns, const std::string& id,
                             const cgroupstats::Cgroup& cg) {
  const std::string key = ns + "/" + id;
  uint64_t gen;
  {
    std::lock_guard lk(mu_);
    gen = ++next_gen_;
  }
  std::weak_ptr<CgroupsMonitor> self = weak_from_this();
  std::unique_ptr<cgroupstats::OomWatch> watch;
  try {
    watch = cgroupstats::OomWatch::Start(io_, cg,
                                         {.oom =
                                              [self, ns, id] {
                                                if (auto m = self.lock()) m->Trigger(ns, id);
                                              },
                                          .gone =
                                              [self, key, gen] {
                                                if (auto m = self.lock()) m->Gone(key, gen);
                                              }});
  } catch (const cgroupstats::MemoryNotSupported& e) {
    log::Warn("OOM monitoring failed", {{"error", e.what()}});
    return;
  }
  log::Debug("monitoring task for OOM", {{"namespace", ns}, {"id", id}});
  std::unique_ptr<cgroupstats::OomWatch> old;
  std::lock_guard lk(mu_);
  auto& e = watches_[key];
  old = std::move(e.watch);  // stopped once the lock is released
  e = Entry{gen, std::move(watch)};
}

void CgroupsMonitor::Stop(const std::string& ns, const std::string& id) {
  std::unique_ptr<cgroupstats::OomWatch> watch;
  std::lock_guard lk(mu_);
  auto it = watches_.find(ns + "/" + id);
  if (it == watches_.end()) return;
  watch = std::move(it->second.watch);
  watches_.erase(it);
  watch->Stop();
}

size_t CgroupsMonitor::Watching() const {
  std::lock_guard lk(mu_);
  return watches_.size();
}

void CgroupsMonitor::Close() {
  std::map<std::string, Entry> all;
  {
    std::lock_guard lk(mu_);
    all.swap(watches_);
  }
  // Destroying the watches stops them.
}

void CgroupsMonitor::Trigger(const std::string& ns, const std::string& id) {
  containerd::events::TaskOOM ev;
  ev.set_container_id(id);
  try {
    events_->Publish(MakeContext(ns), kTaskOOMTopic, ev);
  } catch (const std::exception& e) {
    log::Error("post OOM event", {{"error", e.what()}});
  }
}

// The cgroup was removed: its watch ended by itself.
void CgroupsMonitor::Gone(const std::string& key, uint64_t gen) {
  std::unique_ptr<cgroupstats::OomWatch> watch;
  std::lock_guard lk(mu_);
  auto it = watches_.find(key);
  if (it == watches_.end() || it->second.gen != gen) return;  // replaced or stopped
  watch = std::move(it->second.watch);
  watches_.erase(it);
}

}  // namespace mcd::monitor
