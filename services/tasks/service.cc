// grpc plugin "tasks": containerd.services.tasks.v1.Tasks over the
// tasks-service plugin. Wait is a callback method: a waiter holds no thread.
#include "github.com/containerd/containerd/api/services/tasks/v1/tasks.grpc.pb.h"
#include "services/containers/local.h"
#include "services/grpc_util.h"
#include "services/tasks/local.h"

namespace mcd::services::tasks {
namespace {

using Base = api::Tasks::WithCallbackMethod_Wait<api::Tasks::Service>;
using Empty = google::protobuf::Empty;

class Service final : public Base, public GrpcService {
 public:
  explicit Service(std::shared_ptr<Local> local) : local_(std::move(local)) {}
  grpc::Service* service() override { return this; }

  grpc::Status Create(grpc::ServerContext* sc, const api::CreateTaskRequest* req,
                      api::CreateTaskResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->Create(ctx, *req, resp); });
  }
  grpc::Status Start(grpc::ServerContext* sc, const api::StartRequest* req,
                     api::StartResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->Start(ctx, *req, resp); });
  }
  grpc::Status Delete(grpc::ServerContext* sc, const api::DeleteTaskRequest* req,
                      api::DeleteResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->Delete(ctx, *req, resp); });
  }
  grpc::Status DeleteProcess(grpc::ServerContext* sc, const api::DeleteProcessRequest* req,
                             api::DeleteResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->DeleteProcess(ctx, *req, resp); });
  }
  grpc::Status Get(grpc::ServerContext* sc, const api::GetRequest* req,
                   api::GetResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->Get(ctx, *req, resp); });
  }
  grpc::Status List(grpc::ServerContext* sc, const api::ListTasksRequest* req,
                    api::ListTasksResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->List(ctx, *req, resp); });
  }
  grpc::Status Kill(grpc::ServerContext* sc, const api::KillRequest* req, Empty*) override {
    return Handle(sc, [&](const Context& ctx) { local_->Kill(ctx, *req); });
  }
  grpc::Status Exec(grpc::ServerContext* sc, const api::ExecProcessRequest* req, Empty*) override {
    return Handle(sc, [&](const Context& ctx) { local_->Exec(ctx, *req); });
  }
  grpc::Status ResizePty(grpc::ServerContext* sc, const api::ResizePtyRequest* req,
                         Empty*) override {
    return Handle(sc, [&](const Context& ctx) { local_->ResizePty(ctx, *req); });
  }
  grpc::Status CloseIO(grpc::ServerContext* sc, const api::CloseIORequest* req, Empty*) override {
    return Handle(sc, [&](const Context& ctx) { local_->CloseIO(ctx, *req); });
  }
  grpc::Status Pause(grpc::ServerContext* sc, const api::PauseTaskRequest* req, Empty*) override {
    return Handle(sc, [&](const Context& ctx) { local_->Pause(ctx, *req); });
  }
  grpc::Status Resume(grpc::ServerContext* sc, const api::ResumeTaskRequest* req, Empty*) override {
    return Handle(sc, [&](const Context& ctx) { local_->Resume(ctx, *req); });
  }
  grpc::Status ListPids(grpc::ServerContext* sc, const api::ListPidsRequest* req,
                        api::ListPidsResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->ListPids(ctx, *req, resp); });
  }
  grpc::Status Checkpoint(grpc::ServerContext* sc, const api::CheckpointTaskRequest* req,
                          api::CheckpointTaskResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->Checkpoint(ctx, *req, resp); });
  }
  grpc::Status Update(grpc::ServerContext* sc, const api::UpdateTaskRequest* req, Empty*) override {
    return Handle(sc, [&](const Context& ctx) { local_->Update(ctx, *req); });
  }
  grpc::Status Metrics(grpc::ServerContext* sc, const api::MetricsRequest* req,
                       api::MetricsResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->Metrics(ctx, *req, resp); });
  }

  grpc::ServerUnaryReactor* Wait(grpc::CallbackServerContext* sc, const api::WaitRequest* req,
                                 api::WaitResponse* resp) override {
    auto* reactor = sc->DefaultReactor();
    grpc::Status st = Handle(sc, [&](const Context& ctx) {
      local_->Wait(ctx, *req, [reactor, resp](std::exception_ptr err, const api::WaitResponse& r) {
        if (!err) {
          *resp = r;
          reactor->Finish(grpc::Status::OK);
          return;
        }
        try {
          std::rethrow_exception(err);
        } catch (const std::exception& e) {
          reactor->Finish(ToStatus(e));
        }
      });
    });
    if (!st.ok()) reactor->Finish(st);
    return reactor;
  }

 private:
  std::shared_ptr<Local> local_;
};

plugin::Registrar reg{{
    .type = plugin::kGRPC,
    .id = "tasks",
    .requires_ = {plugin::kService},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      auto local = ic.GetAs<Local>(plugin::kService, "tasks-service");
      // Wired here, once every service plugin exists: the containers
      // service refuses to delete a container that still has a task.
      std::weak_ptr<Local> weak = local;
      ic.GetAs<containers::Local>(plugin::kService, "containers-service")
          ->SetDeleteCheck([weak](const Context& ctx, const std::string& id) {
            if (auto l = weak.lock()) l->CheckContainerDelete(ctx, id);
          });
      return std::make_shared<Service>(local);
    },
}};

}  // namespace
}  // namespace mcd::services::tasks
