// grpc plugin "introspection": containerd.services.introspection.v1.Introspection.
#include <unistd.h>

#include "github.com/containerd/containerd/api/services/introspection/v1/introspection.grpc.pb.h"
#include "services/grpc_util.h"
#include "services/introspection/local.h"

namespace mcd::services::introspection {
namespace {

class Service final : public api::Introspection::CallbackService, public GrpcService {
 public:
  explicit Service(std::shared_ptr<Local> local) : local_(std::move(local)) {}
  grpc::Service* service() override { return this; }

  grpc::ServerUnaryReactor* Plugins(grpc::CallbackServerContext* sc, const api::PluginsRequest* req,
                                    api::PluginsResponse* resp) override {
    return Unary(sc, Runs::kInline,
                 [this, req, resp](const Context& ctx) { local_->Plugins(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Server(grpc::CallbackServerContext* sc, const google::protobuf::Empty*,
                                   api::ServerResponse* resp) override {
    return Unary(sc, Runs::kInline,
                 [this, resp](const Context&) { resp->set_uuid(local_->UUID()); });
  }

 private:
  std::shared_ptr<Local> local_;
};

plugin::Registrar reg{{
    .type = plugin::kGRPC,
    .id = "introspection",
    .requires_ = {plugin::kService},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      return std::make_shared<Service>(ic.GetAs<Local>(plugin::kService, "introspection-service"));
    },
}};

}  // namespace
}  // namespace mcd::services::introspection
