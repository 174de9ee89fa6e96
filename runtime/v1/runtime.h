#pragma once
// containerd's runtime v1 (plugin io.containerd.runtime.v1 / linux): one v1
// `containerd-shim` a task, started by the daemon (shim.h) and spoken to
// through the v2 task API of runtime::Task (shim_api.h). Bundles as
// containerd's: <state>/<ns>/<id> (config.json, rootfs, address, shim.pid,
// and the shim's init.pid, log.json) and the work dir <root>/<ns>/<id>.
// A shim's death is seen as its connection closing (and, for shims this
// daemon started, as the shim being reaped); the runtime then cleans up
// after it: runc delete --force, rootfs unmounted, bundle removed, shim's
// process group killed, TaskExit and TaskDelete published.
#include <sys/types.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "github.com/containerd/containerd/runtime/linux/runctypes/runc.pb.h"
#include "plugins/plugin.h"
#include "runtime/v2/background.h"
#include "runtime/v2/manager.h"
#include "runtime/v2/task_table.h"

namespace mcd::metadata {
class DB;
}

namespace mcd::runtime::v1 {

inline constexpr const char* kRuntimeName = "io.containerd.runtime.v1.linux";

struct Config {
  std::string root, state;   // the plugin's dirs
  std::string grpc_address;  // shims' -address (and their socket's hash)
  std::string self;          // shims' -containerd-binary
  std::string shim = "containerd-shim";
  std::string runtime = "runc";
  std::string runtime_root;
  bool shim_debug = false;
};

class Runtime : public plugin::Instance,
                public PlatformRuntime,
                public std::enable_shared_from_this<Runtime> {
 public:
  Runtime(Config cfg, events::Exchange* events, std::shared_ptr<metadata::DB> db);
  ~Runtime() override;

  // Walks the bundles: live shims are reconnected, dead ones cleaned up.
  void Load();
  // The daemon's state goes with it: kill and delete every task.
  void Discard() override;
  // Daemon shutdown: disconnect (the shims and their containers live on);
  // remove the host directories its tasks' runtimes made that are empty now.
  void Close() override;

  std::shared_ptr<Task> Create(const Context& ctx, const std::string& id,
                               const CreateOpts& opts) override;
  std::shared_ptr<Task> Get(const std::string& ns, const std::string& id) const override;
  std::vector<std::shared_ptr<Task>> List(const std::string& ns) const override;
  Exit Delete(const Context& ctx, const std::string& id) override;
  bool HasTasks(const std::string& ns) const override;

 private:
  struct Shim;
  using RuncOptions = containerd::linux::runc::RuncOptions;

  std::string BundlePath(const std::string& ns, const std::string& id) const;
  std::string WorkDir(const std::string& ns, const std::string& id) const;
  // The container's RuncOptions from the metadata store (defaults when the
  // container or its options are gone).
  RuncOptions StoredOptions(const std::string& ns, const std::string& id) const;
  std::shared_ptr<Shim> Find(const std::string& ns, const std::string& id) const;
  void Watch(const std::shared_ptr<Shim>& s);
  void OnShimLost(const std::shared_ptr<Shim>& s);
  // After a dead shim (s may be null at start-up).
  void CleanupDead(const std::string& ns, const std::string& id, const std::shared_ptr<Shim>& s);
  void Erase(const std::string& ns, const std::string& id, const Shim* s);
  void InBackground(std::function<void()> fn);
  void RemoveBundle(const std::string& ns, const std::string& id) const;

  Config cfg_;
  events::Exchange* events_;
  std::shared_ptr<metadata::DB> db_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  TaskTable<std::shared_ptr<Shim>> shims_;
  bool closing_ = false;
  BackgroundJobs jobs_{mu_, cv_};
  HostDirs host_dirs_;
};

// RuncOptions from a container's runtime options Any (defaults when absent);
// InvalidArgument ("invalid runtime options format") for another type.
containerd::linux::runc::RuncOptions ParseRuncOptions(const google::protobuf::Any* any);

// CreateOptions.shim_cgroup of a task's options ("" for other options).
std::string ShimCgroup(const google::protobuf::Any* task_options);

}  // namespace mcd::runtime::v1
