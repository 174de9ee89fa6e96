#pragma once
// containerd.services.tasks.v1 logic (the io.containerd.service.v1 plugin
// "tasks-service") over the runtime v2 TaskManager. Task state always comes
// from the shim; the shim publishes the task events itself.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <google/protobuf/any.pb.h>

#include "github.com/containerd/containerd/api/services/tasks/v1/tasks.pb.h"
#include "metadata/containers.h"
#include "metadata/content.h"
#include "metadata/db.h"
#include "pkg/context.h"
#include "pkg/fs.h"
#include "runtime/monitor/monitor.h"
#include "runtime/v2/manager.h"

namespace mcd::services::tasks {

namespace api = containerd::services::tasks::v1;

// What the tasks service reads of a container record.
struct ContainerInfo {
  std::string runtime;
  std::optional<google::protobuf::Any> runtime_options;
  std::string spec;                // the spec Any's value: OCI JSON
  google::protobuf::Any spec_any;  // as stored, for checkpoints
};

// Reads a container from the containers store: NotFound
// (`container "<id>" in namespace "<ns>": not found`) when missing.
ContainerInfo GetContainer(const metadata::ContainerStore& store, const Context& ctx,
                           const std::string& id);

class Local : public plugin::Instance {
 public:
  // `v1`: the runtime v1 (io.containerd.runtime.v1.linux), null when its
  // plugin did not load.
  // `monitor`: the task monitor (io.containerd.monitor.v1), null when its
  // plugin did not load.
  Local(std::shared_ptr<metadata::DB> db, std::shared_ptr<runtime::TaskManager> tasks,
        std::shared_ptr<runtime::PlatformRuntime> v1 = nullptr,
        std::shared_ptr<monitor::CgroupsMonitor> monitor = nullptr)
      : containers_(db),
        content_(db->content),
        tasks_(std::move(tasks)),
        v1_(std::move(v1)),
        monitor_(std::move(monitor)) {}

  // The containers service asks this before deleting a container: a
  // container with a task (running or not yet deleted) stays.
  void CheckContainerDelete(const Context& ctx, const std::string& id);

  void Create(const Context& ctx, const api::CreateTaskRequest& req, api::CreateTaskResponse* resp);
  void Start(const Context& ctx, const api::StartRequest& req, api::StartResponse* resp);
  void Delete(const Context& ctx, const api::DeleteTaskRequest& req, api::DeleteResponse* resp);
  void DeleteProcess(const Context& ctx, const api::DeleteProcessRequest& req,
                     api::DeleteResponse* resp);
  // Answers through done once the shim has (no thread waits); resp is
  // filled before done(nullptr). Throws when there is no task to ask.
  void Get(const Context& ctx, const api::GetRequest& req, api::GetResponse* resp,
           std::function<void(std::exception_ptr)> done);
  // The same, waiting for the answer (callers on threads of their own).
  void Get(const Context& ctx, const api::GetRequest& req, api::GetResponse* resp);
  void List(const Context& ctx, const api::ListTasksRequest& req, api::ListTasksResponse* resp);
  void Kill(const Context& ctx, const api::KillRequest& req);
  void Exec(const Context& ctx, const api::ExecProcessRequest& req);
  void ResizePty(const Context& ctx, const api::ResizePtyRequest& req);
  void CloseIO(const Context& ctx, const api::CloseIORequest& req);
  void Pause(const Context& ctx, const api::PauseTaskRequest& req);
  void Resume(const Context& ctx, const api::ResumeTaskRequest& req);
  void ListPids(const Context& ctx, const api::ListPidsRequest& req, api::ListPidsResponse* resp);
  void Checkpoint(const Context& ctx, const api::CheckpointTaskRequest& req,
                  api::CheckpointTaskResponse* resp);
  void Update(const Context& ctx, const api::UpdateTaskRequest& req);
  void Metrics(const Context& ctx, const api::MetricsRequest& req, api::MetricsResponse* resp);
  // Asynchronous: `done` runs once with the exit or the error, on an io
  // thread or at once; no thread waits meanwhile.
  void Wait(const Context& ctx, const api::WaitRequest& req,
            std::function<void(std::exception_ptr, const api::WaitResponse&)> done);

 private:
  std::shared_ptr<runtime::Task> GetTask(const Context& ctx, const std::string& id);
  // The runtime for a container's runtime name, as containerd picks it:
  // exactly the v1 name is runtime v1, anything else v2.
  runtime::PlatformRuntime& RuntimeFor(const std::string& name);
  // A task of either runtime; null when none.
  std::shared_ptr<runtime::Task> FindTask(const std::string& ns, const std::string& id) const;
  // The tasks of a namespace in both runtimes.
  std::vector<std::shared_ptr<runtime::Task>> AllTasks(const std::string& ns) const;
  // Checks the exec exists (NotFound otherwise), as containerd's Process().
  void CheckProcess(runtime::Task& t, const std::string& exec_id);

  metadata::ContainerStore containers_;
  std::shared_ptr<content::Store> content_;  // namespaced: checkpoint images
  // Checkpoints unpacked for a restore, by "<ns>/<id>": the shim restores
  // from them at Start, so they go when the task is deleted.
  std::mutex restores_mu_;
  std::map<std::string, std::shared_ptr<fs::TempDir>> restores_;
  std::shared_ptr<runtime::TaskManager> tasks_;
  std::shared_ptr<runtime::PlatformRuntime> v1_;
  std::shared_ptr<monitor::CgroupsMonitor> monitor_;
};

}  // namespace mcd::services::tasks
