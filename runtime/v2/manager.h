#pragma once
// The TaskManager (plugin io.containerd.runtime.v2 / task): starts a shim per
// task, keeps the connected tasks by namespace, deletes them, and on start-up
// reconnects to the shims that outlived a daemon restart and cleans up after
// those that died. Nothing polls: a shim's death is the ttrpc connection
// closing.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/any.pb.h>

#include "github.com/containerd/containerd/api/types/mount.pb.h"
#include "pkg/context.h"
#include "plugins/plugin.h"
#include "runtime/v2/background.h"
#include "runtime/v2/binary.h"
#include "runtime/v2/host_dirs.h"
#include "runtime/v2/runc_start.h"
#include "runtime/v2/task.h"
#include "runtime/v2/task_table.h"

namespace mcd::events {
class Exchange;
}

namespace mcd::runtime {

struct CreateOpts {
  std::string spec;  // the container's OCI spec bytes (JSON)
  std::vector<containerd::types::Mount> rootfs;
  std::string stdin_path, stdout_path, stderr_path;
  bool terminal = false;
  std::string checkpoint;
  std::string runtime;  // runtime name or absolute shim path
  std::optional<google::protobuf::Any> runtime_options;
  std::optional<google::protobuf::Any> task_options;
};

// What the tasks service needs of a runtime: this TaskManager (v2 shims) and
// the v1 runtime (runtime/v1, the v1 `containerd-shim`) both provide it.
class PlatformRuntime {
 public:
  virtual ~PlatformRuntime() = default;
  virtual std::shared_ptr<Task> Create(const Context& ctx, const std::string& id,
                                       const CreateOpts& opts) = 0;
  virtual std::shared_ptr<Task> Get(const std::string& ns, const std::string& id) const = 0;
  virtual std::vector<std::shared_ptr<Task>> List(const std::string& ns) const = 0;
  virtual Exit Delete(const Context& ctx, const std::string& id) = 0;
  virtual bool HasTasks(const std::string& ns) const = 0;
};

struct ManagerConfig {
  std::string root, state;    // the plugin's dirs
  std::string grpc_address;   // shims' -address
  std::string ttrpc_address;  // shims' TTRPC_ADDRESS
  std::string self;           // shims' -publish-binary; shims are also found beside it
  bool sched_core = false;
  std::chrono::milliseconds connect_timeout{2000};  // dial + Connect at start-up
  std::chrono::milliseconds delete_timeout{10000};  // `shim delete` of a dead shim
};

class TaskManager : public plugin::Instance,
                    public PlatformRuntime,
                    public std::enable_shared_from_this<TaskManager> {
 public:
  TaskManager(ManagerConfig cfg, events::Exchange* events);
  ~TaskManager() override;

  // Walks the bundles: live shims are reconnected before this returns (in
  // parallel, each bounded by connect_timeout); dead ones wait for Serving().
  void Load();
  // The daemon listens: clean up after dead shims, each on its own thread.
  void Serving() override;
  // The daemon's state goes with it: kill and delete every task.
  void Discard() override;
  // Daemon shutdown: disconnect from shims (they and their containers keep
  // running), wait for cleanups in progress, remove the host directories
  // its tasks' runtimes made that are empty now.
  void Close() override;

  // Starts a shim and creates the task. AlreadyExists when the id has a task.
  std::shared_ptr<Task> Create(const Context& ctx, const std::string& id,
                               const CreateOpts& opts) override;
  // NotFound ("task <id> not found") when none.
  std::shared_ptr<Task> Get(const std::string& ns, const std::string& id) const override;
  // Every task of a namespace; empty ns: of all namespaces.
  std::vector<std::shared_ptr<Task>> List(const std::string& ns) const override;
  // Deletes the task's init process and frees the id (rootfs unmounted,
  // bundle renamed away); the shim's shutdown and the removal of the bundle's
  // files finish in the background: the caller has its exit at once.
  Exit Delete(const Context& ctx, const std::string& id) override;

  bool HasTasks(const std::string& ns) const override;
  // Number of dead-shim cleanups and delete tails still running (tests,
  // benchmarks).
  size_t PendingCleanups() const;

 private:
  struct Dead {
    Bundle bundle;
    ShimCommand cmd;             // binary empty when no shim ever started
    std::shared_ptr<Task> task;  // tombstone to stop, may be null
    // Found dead at start-up: containerd publishes no events for those (its
    // cleanup finds no task to report).
    bool at_startup = false;
  };

  ShimCommand Command(const Bundle& b, const std::string& binary) const;
  std::shared_ptr<Task> Connect(const Bundle& b, const ShimCommand& cmd, const std::string& runtime,
                                const std::string& address);
  void Watch(const std::shared_ptr<Task>& t);
  void OnShimLost(const std::shared_ptr<Task>& t);
  void Spawn(Dead d);
  void Cleanup(Dead d);
  // Runs fn on a detached thread counted in jobs_ (Close waits for it);
  // the thread keeps the manager alive.
  void InBackground(std::function<void()> fn);
  // Background end of a Delete: shim Shutdown, close, remove the hidden bundle.
  void Retire(std::shared_ptr<Task> t, Bundle::Retired files);
  // At start-up, a retired bundle left by a crash: stop its shim, remove it.
  void FinishRetired(const std::string& ns, const std::string& hidden);
  void Erase(const std::string& ns, const std::string& id, const Task* t);

  ManagerConfig cfg_;
  events::Exchange* events_;
  RuntimeResolver resolver_;
  RuncStart runc_start_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  TaskTable<std::shared_ptr<Task>> tasks_;
  std::set<std::string> creating_;       // "<ns>/<id>" reserved by a Create in flight
  std::multiset<std::string> retiring_;  // "<ns>/<id>" whose deleted shim is shutting down
  std::vector<Dead> dead_;               // found at Load, cleaned at Serving
  bool serving_ = false;
  bool closing_ = false;
  BackgroundJobs jobs_{mu_, cv_};
  HostDirs host_dirs_;
};

}  // namespace mcd::runtime
