// grpc plugin "diff": containerd.services.diff.v1.Diff over diff-service.
#include "github.com/containerd/containerd/api/services/diff/v1/diff.grpc.pb.h"
#include "services/diff/local.h"
#include "services/grpc_util.h"

namespace mcd::services::diff {
namespace {

class Service final : public api::Diff::CallbackService, public GrpcService {
 public:
  explicit Service(std::shared_ptr<Local> local) : local_(std::move(local)) {}
  grpc::Service* service() override { return this; }

  grpc::ServerUnaryReactor* Apply(grpc::CallbackServerContext* sc, const api::ApplyRequest* req,
                                  api::ApplyResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Apply(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Diff(grpc::CallbackServerContext* sc, const api::DiffRequest* req,
                                 api::DiffResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Diff(ctx, *req, resp); });
  }

 private:
  std::shared_ptr<Local> local_;
};

plugin::Registrar reg{{
    .type = plugin::kGRPC,
    .id = "diff",
    .requires_ = {plugin::kService},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      return std::make_shared<Service>(ic.GetAs<Local>(plugin::kService, "diff-service"));
    },
}};

}  // namespace
}  // namespace mcd::services::diff
