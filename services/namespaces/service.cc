// grpc plugin "namespaces": containerd.services.namespaces.v1.Namespaces over
// the namespaces-service plugin.
#include "github.com/containerd/containerd/api/services/namespaces/v1/namespace.grpc.pb.h"
#include "services/grpc_util.h"
#include "services/namespaces/local.h"

namespace mcd::services::namespaces {
namespace {

class Service final : public api::Namespaces::CallbackService, public GrpcService {
 public:
  explicit Service(std::shared_ptr<Local> local) : local_(std::move(local)) {}
  grpc::Service* service() override { return this; }

  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* sc,
                                const api::GetNamespaceRequest* req,
                                api::GetNamespaceResponse* resp) override {
    return Unary(sc, Runs::kInline,
                 [this, req, resp](const Context& ctx) { local_->Get(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* sc,
                                 const api::ListNamespacesRequest* req,
                                 api::ListNamespacesResponse* resp) override {
    return Unary(sc, Runs::kInline,
                 [this, req, resp](const Context& ctx) { local_->List(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Create(grpc::CallbackServerContext* sc,
                                   const api::CreateNamespaceRequest* req,
                                   api::CreateNamespaceResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Create(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Update(grpc::CallbackServerContext* sc,
                                   const api::UpdateNamespaceRequest* req,
                                   api::UpdateNamespaceResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Update(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* sc,
                                   const api::DeleteNamespaceRequest* req,
                                   google::protobuf::Empty*) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req](const Context& ctx) { local_->Delete(ctx, *req); });
  }

 private:
  std::shared_ptr<Local> local_;
};

plugin::Registrar reg{{
    .type = plugin::kGRPC,
    .id = "namespaces",
    .requires_ = {plugin::kService},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      return std::make_shared<Service>(ic.GetAs<Local>(plugin::kService, "namespaces-service"));
    },
}};

}  // namespace
}  // namespace mcd::services::namespaces
