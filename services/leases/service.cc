// grpc plugin "leases": containerd.services.leases.v1.Leases over the
// leases-service plugin.
#include "github.com/containerd/containerd/api/services/leases/v1/leases.grpc.pb.h"
#include "services/grpc_util.h"
#include "services/leases/local.h"

namespace mcd::services::leases {
namespace {

class Service final : public api::Leases::CallbackService, public GrpcService {
 public:
  explicit Service(std::shared_ptr<Local> local) : local_(std::move(local)) {}
  grpc::Service* service() override { return this; }

  grpc::ServerUnaryReactor* Create(grpc::CallbackServerContext* sc, const api::CreateRequest* req,
                                   api::CreateResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Create(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* sc, const api::DeleteRequest* req,
                                   google::protobuf::Empty*) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req](const Context& ctx) { local_->Delete(ctx, *req); });
  }
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* sc, const api::ListRequest* req,
                                 api::ListResponse* resp) override {
    return Unary(sc, Runs::kInline,
                 [this, req, resp](const Context& ctx) { local_->List(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* AddResource(grpc::CallbackServerContext* sc,
                                        const api::AddResourceRequest* req,
                                        google::protobuf::Empty*) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req](const Context& ctx) { local_->AddResource(ctx, *req); });
  }
  grpc::ServerUnaryReactor* DeleteResource(grpc::CallbackServerContext* sc,
                                           const api::DeleteResourceRequest* req,
                                           google::protobuf::Empty*) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req](const Context& ctx) { local_->DeleteResource(ctx, *req); });
  }
  grpc::ServerUnaryReactor* ListResources(grpc::CallbackServerContext* sc,
                                          const api::ListResourcesRequest* req,
                                          api::ListResourcesResponse* resp) override {
    return Unary(sc, Runs::kInline,
                 [this, req, resp](const Context& ctx) { local_->ListResources(ctx, *req, resp); });
  }

 private:
  std::shared_ptr<Local> local_;
};

plugin::Registrar reg{{
    .type = plugin::kGRPC,
    .id = "leases",
    .requires_ = {plugin::kService},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      return std::make_shared<Service>(ic.GetAs<Local>(plugin::kService, "leases-service"));
    },
}};

}  // namespace
}  // namespace mcd::services::leases
