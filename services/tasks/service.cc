// grpc plugin "tasks": containerd.services.tasks.v1.Tasks over the
// tasks-service plugin. Wait is a callback method: a waiter holds no thread.
#include <memory>
#include <mutex>

#include "github.com/containerd/containerd/api/services/tasks/v1/tasks.grpc.pb.h"
#include "services/containers/local.h"
#include "services/grpc_util.h"
#include "services/tasks/local.h"

namespace mcd::services::tasks {
namespace {

using Base = api::Tasks::WithCallbackMethod_Wait<api::Tasks::Service>;
using Empty = google::protobuf::Empty;

// A Wait finishes when the process exits, or when the call is cancelled: by
// the client, or by the daemon shutting down (gRPC cancels pending calls at
// its shutdown deadline, then waits for every reactor to finish; a waiter on
// a long-running process must not hold the daemon's exit until it ends).
class WaitReactor final : public grpc::ServerUnaryReactor {
 public:
  struct Shared {
    std::mutex mu;
    bool claimed = false;
    WaitReactor* reactor = nullptr;
  };
  WaitReactor() : shared_(std::make_shared<Shared>()) { shared_->reactor = this; }
  std::shared_ptr<Shared> shared() const { return shared_; }

  // The first caller fills the response (fill) and finishes; later callers do
  // nothing. The reactor lives until OnDone, which only follows Finish.
  template <typename Fill>
  static void FinishOnce(const std::shared_ptr<Shared>& s, const grpc::Status& st, Fill&& fill) {
    WaitReactor* r = nullptr;
    {
      std::lock_guard lock(s->mu);
      if (s->claimed || !s->reactor) return;
      s->claimed = true;
      r = s->reactor;
    }
    fill();
    r->Finish(st);
  }

  void OnCancel() override {
    FinishOnce(shared_, grpc::Status(grpc::StatusCode::CANCELLED, "context canceled"), [] {});
  }
  void OnDone() override {
    {
      std::lock_guard lock(shared_->mu);
      shared_->reactor = nullptr;
    }
    delete this;
  }

 private:
  std::shared_ptr<Shared> shared_;
};

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
    auto* reactor = new WaitReactor();
    auto shared = reactor->shared();
    grpc::Status st = Handle(sc, [&](const Context& ctx) {
      local_->Wait(ctx, *req, [shared, resp](std::exception_ptr err, const api::WaitResponse& r) {
        grpc::Status status = grpc::Status::OK;
        if (err) {
          try {
            std::rethrow_exception(err);
          } catch (const std::exception& e) {
            status = ToStatus(e);
          }
        }
        WaitReactor::FinishOnce(shared, status, [&] {
          if (!err) *resp = r;
        });
      });
    });
    if (!st.ok()) WaitReactor::FinishOnce(shared, st, [] {});
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
