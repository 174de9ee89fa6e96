// grpc plugin "tasks": containerd.services.tasks.v1.Tasks over the
// tasks-service plugin. Every call may reach a shim, so all but Get and Wait
// run on the blocking pool; those two finish when the shim answers and hold
// no thread meanwhile.
#include <memory>
#include <mutex>

#include "github.com/containerd/containerd/api/services/tasks/v1/tasks.grpc.pb.h"
#include "services/containers/local.h"
#include "services/grpc_util.h"
#include "services/tasks/local.h"

namespace mcd::services::tasks {
namespace {

using Base = api::Tasks::CallbackService;
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

  grpc::ServerUnaryReactor* Create(grpc::CallbackServerContext* sc,
                                   const api::CreateTaskRequest* req,
                                   api::CreateTaskResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Create(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Start(grpc::CallbackServerContext* sc, const api::StartRequest* req,
                                  api::StartResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Start(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* sc,
                                   const api::DeleteTaskRequest* req,
                                   api::DeleteResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Delete(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* DeleteProcess(grpc::CallbackServerContext* sc,
                                          const api::DeleteProcessRequest* req,
                                          api::DeleteResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->DeleteProcess(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* sc, const api::GetRequest* req,
                                api::GetResponse* resp) override {
    return Deferred(sc, [this, req, resp](const Context& ctx, Done done) {
      local_->Get(ctx, *req, resp, std::move(done));
    });
  }
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* sc, const api::ListTasksRequest* req,
                                 api::ListTasksResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->List(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Kill(grpc::CallbackServerContext* sc, const api::KillRequest* req,
                                 Empty*) override {
    return Unary(sc, Runs::kBlocking, [this, req](const Context& ctx) { local_->Kill(ctx, *req); });
  }
  grpc::ServerUnaryReactor* Exec(grpc::CallbackServerContext* sc,
                                 const api::ExecProcessRequest* req, Empty*) override {
    return Unary(sc, Runs::kBlocking, [this, req](const Context& ctx) { local_->Exec(ctx, *req); });
  }
  grpc::ServerUnaryReactor* ResizePty(grpc::CallbackServerContext* sc,
                                      const api::ResizePtyRequest* req, Empty*) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req](const Context& ctx) { local_->ResizePty(ctx, *req); });
  }
  grpc::ServerUnaryReactor* CloseIO(grpc::CallbackServerContext* sc, const api::CloseIORequest* req,
                                    Empty*) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req](const Context& ctx) { local_->CloseIO(ctx, *req); });
  }
  grpc::ServerUnaryReactor* Pause(grpc::CallbackServerContext* sc, const api::PauseTaskRequest* req,
                                  Empty*) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req](const Context& ctx) { local_->Pause(ctx, *req); });
  }
  grpc::ServerUnaryReactor* Resume(grpc::CallbackServerContext* sc,
                                   const api::ResumeTaskRequest* req, Empty*) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req](const Context& ctx) { local_->Resume(ctx, *req); });
  }
  grpc::ServerUnaryReactor* ListPids(grpc::CallbackServerContext* sc,
                                     const api::ListPidsRequest* req,
                                     api::ListPidsResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->ListPids(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Checkpoint(grpc::CallbackServerContext* sc,
                                       const api::CheckpointTaskRequest* req,
                                       api::CheckpointTaskResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Checkpoint(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Update(grpc::CallbackServerContext* sc,
                                   const api::UpdateTaskRequest* req, Empty*) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req](const Context& ctx) { local_->Update(ctx, *req); });
  }
  grpc::ServerUnaryReactor* Metrics(grpc::CallbackServerContext* sc, const api::MetricsRequest* req,
                                    api::MetricsResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Metrics(ctx, *req, resp); });
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
