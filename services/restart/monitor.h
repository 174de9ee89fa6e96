#pragma once
// The restart monitor (plugin io.containerd.internal.v1 / restart): keeps a
// container's task in the status its `containerd.io/restart.status` label asks
// for ("running" or "stopped"), as containerd 1.6's does, with the task's
// output going where `containerd.io/restart.loguri` (or the older
// `containerd.io/restart.logpath`) says.
//
// containerd checks every container on a timer (`interval`, 10 s). Here a
// container is checked an interval after something happens to it (created
// or updated, its task exited or was deleted: as late as containerd's next
// round, so a client acting on it meanwhile is not raced), and every
// container at start-up; `interval` also bounds how often one container is
// acted on (a task that keeps dying is restarted at most once an interval)
// and is the delay before a failed action is tried again.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "events/exchange.h"
#include "plugins/plugin.h"
#include "services/containers/local.h"
#include "services/namespaces/local.h"
#include "services/snapshots/local.h"
#include "services/tasks/local.h"

namespace mcd::services::restart {

inline constexpr const char* kStatusLabel = "containerd.io/restart.status";
inline constexpr const char* kLogURILabel = "containerd.io/restart.loguri";
inline constexpr const char* kLogPathLabel = "containerd.io/restart.logpath";

class Monitor : public plugin::Instance {
 public:
  using Clock = std::chrono::steady_clock;
  Monitor(std::shared_ptr<namespaces::Local> namespaces,
          std::shared_ptr<containers::Local> containers,
          std::shared_ptr<snapshots::Local> snapshots, std::shared_ptr<tasks::Local> tasks,
          events::Exchange* events, Clock::duration interval);
  ~Monitor() override;

  void Serving() override;
  void Close() override;

 private:
  struct Key {
    std::string ns, id;  // id empty: every labelled container of ns
    auto operator<=>(const Key&) const = default;
  };
  void OnEvent(const events::Envelope& env);
  // Queues a check of `k` at `at` (or sooner if one is queued already).
  void Schedule(const Key& k, Clock::time_point at);
  void Run();
  void CheckNamespace(const std::string& ns);
  void Check(const Context& ctx, const containers::api::Container& c);
  // Stops the container's task (SIGKILL to all, wait, delete); no task: nothing.
  void StopTask(const Context& ctx, const std::string& id);
  void StartTask(const Context& ctx, const containers::api::Container& c);

  std::shared_ptr<namespaces::Local> namespaces_;
  std::shared_ptr<containers::Local> containers_;
  std::shared_ptr<snapshots::Local> snapshots_;
  std::shared_ptr<tasks::Local> tasks_;
  events::Exchange* events_;
  const Clock::duration interval_;

  std::shared_ptr<events::Subscription> sub_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<Key, Clock::time_point> due_;       // queued checks
  std::map<Key, Clock::time_point> last_act_;  // when a container was last acted on
  bool closing_ = false;
  std::thread worker_;
};

}  // namespace mcd::services::restart
