// grpc plugin "containers": containerd.services.containers.v1.Containers over
// the containers-service plugin. ListStream writes one container at a time,
// so a slow client holds no thread.
#include "github.com/containerd/containerd/api/services/containers/v1/containers.grpc.pb.h"
#include "services/containers/local.h"
#include "services/grpc_util.h"

namespace mcd::services::containers {
namespace {

using Base = api::Containers::CallbackService;

class Service final : public Base, public GrpcService {
 public:
  explicit Service(std::shared_ptr<Local> local) : local_(std::move(local)) {}
  grpc::Service* service() override { return this; }

  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* sc,
                                const api::GetContainerRequest* req,
                                api::GetContainerResponse* resp) override {
    return Unary(sc, Runs::kInline,
                 [this, req, resp](const Context& ctx) { local_->Get(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* sc,
                                 const api::ListContainersRequest* req,
                                 api::ListContainersResponse* resp) override {
    return Unary(sc, Runs::kInline,
                 [this, req, resp](const Context& ctx) { local_->List(ctx, *req, resp); });
  }
  grpc::ServerWriteReactor<api::ListContainerMessage>* ListStream(
      grpc::CallbackServerContext* sc, const api::ListContainersRequest* req) override {
    // One container a message.
    return new GatheredWriter<api::ListContainerMessage>(
        sc, [this, req](const Context& ctx, std::vector<api::ListContainerMessage>* out) {
          api::ListContainersResponse all;
          local_->List(ctx, *req, &all);
          out->resize(static_cast<size_t>(all.containers_size()));
          for (int i = 0; i < all.containers_size(); ++i)
            (*out)[static_cast<size_t>(i)].mutable_container()->Swap(all.mutable_containers(i));
        });
  }
  grpc::ServerUnaryReactor* Create(grpc::CallbackServerContext* sc,
                                   const api::CreateContainerRequest* req,
                                   api::CreateContainerResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Create(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Update(grpc::CallbackServerContext* sc,
                                   const api::UpdateContainerRequest* req,
                                   api::UpdateContainerResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Update(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* sc,
                                   const api::DeleteContainerRequest* req,
                                   google::protobuf::Empty*) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req](const Context& ctx) { local_->Delete(ctx, *req); });
  }

 private:
  std::shared_ptr<Local> local_;
};

plugin::Registrar reg{{
    .type = plugin::kGRPC,
    .id = "containers",
    .requires_ = {plugin::kService},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      return std::make_shared<Service>(ic.GetAs<Local>(plugin::kService, "containers-service"));
    },
}};

}  // namespace
}  // namespace mcd::services::containers
