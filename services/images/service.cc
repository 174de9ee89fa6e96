// grpc plugin "images": containerd.services.images.v1.Images over the
// images-service plugin.
#include "github.com/containerd/containerd/api/services/images/v1/images.grpc.pb.h"
#include "services/grpc_util.h"
#include "services/images/local.h"

namespace mcd::services::images {
namespace {

class Service final : public api::Images::CallbackService, public GrpcService {
 public:
  explicit Service(std::shared_ptr<Local> local) : local_(std::move(local)) {}
  grpc::Service* service() override { return this; }

  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* sc, const api::GetImageRequest* req,
                                api::GetImageResponse* resp) override {
    return Unary(sc, Runs::kInline,
                 [this, req, resp](const Context& ctx) { local_->Get(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* sc, const api::ListImagesRequest* req,
                                 api::ListImagesResponse* resp) override {
    return Unary(sc, Runs::kInline,
                 [this, req, resp](const Context& ctx) { local_->List(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Create(grpc::CallbackServerContext* sc,
                                   const api::CreateImageRequest* req,
                                   api::CreateImageResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Create(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Update(grpc::CallbackServerContext* sc,
                                   const api::UpdateImageRequest* req,
                                   api::UpdateImageResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Update(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* sc,
                                   const api::DeleteImageRequest* req,
                                   google::protobuf::Empty*) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req](const Context& ctx) { local_->Delete(ctx, *req); });
  }

 private:
  std::shared_ptr<Local> local_;
};

plugin::Registrar reg{{
    .type = plugin::kGRPC,
    .id = "images",
    .requires_ = {plugin::kService},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      return std::make_shared<Service>(ic.GetAs<Local>(plugin::kService, "images-service"));
    },
}};

}  // namespace
}  // namespace mcd::services::images
