// grpc plugin "leases": containerd.services.leases.v1.Leases over the
// leases-service plugin.
#include "github.com/containerd/containerd/api/services/leases/v1/leases.grpc.pb.h"
#include "services/grpc_util.h"
#include "services/leases/local.h"

namespace mcd::services::leases {
namespace {

class Service final : public api::Leases::Service, public GrpcService {
 public:
  explicit Service(std::shared_ptr<Local> local) : local_(std::move(local)) {}
  grpc::Service* service() override { return this; }

  grpc::Status Create(grpc::ServerContext* sc, const api::CreateRequest* req,
                      api::CreateResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->Create(ctx, *req, resp); });
  }
  grpc::Status Delete(grpc::ServerContext* sc, const api::DeleteRequest* req,
                      google::protobuf::Empty*) override {
    return Handle(sc, [&](const Context& ctx) { local_->Delete(ctx, *req); });
  }
  grpc::Status List(grpc::ServerContext* sc, const api::ListRequest* req,
                    api::ListResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->List(ctx, *req, resp); });
  }
  grpc::Status AddResource(grpc::ServerContext* sc, const api::AddResourceRequest* req,
                           google::protobuf::Empty*) override {
    return Handle(sc, [&](const Context& ctx) { local_->AddResource(ctx, *req); });
  }
  grpc::Status DeleteResource(grpc::ServerContext* sc, const api::DeleteResourceRequest* req,
                              google::protobuf::Empty*) override {
    return Handle(sc, [&](const Context& ctx) { local_->DeleteResource(ctx, *req); });
  }
  grpc::Status ListResources(grpc::ServerContext* sc, const api::ListResourcesRequest* req,
                             api::ListResourcesResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->ListResources(ctx, *req, resp); });
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
