// grpc plugin "snapshots": containerd.services.snapshots.v1.Snapshots over
// the snapshots-service plugin.
#include "github.com/containerd/containerd/api/services/snapshots/v1/snapshots.grpc.pb.h"
#include "services/grpc_util.h"
#include "services/snapshots/local.h"

namespace mcd::services::snapshots {
namespace {

class Service final : public api::Snapshots::CallbackService, public GrpcService {
 public:
  explicit Service(std::shared_ptr<Local> local) : local_(std::move(local)) {}
  grpc::Service* service() override { return this; }

  grpc::ServerUnaryReactor* Prepare(grpc::CallbackServerContext* sc,
                                    const api::PrepareSnapshotRequest* req,
                                    api::PrepareSnapshotResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Prepare(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* View(grpc::CallbackServerContext* sc,
                                 const api::ViewSnapshotRequest* req,
                                 api::ViewSnapshotResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->View(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Mounts(grpc::CallbackServerContext* sc, const api::MountsRequest* req,
                                   api::MountsResponse* resp) override {
    return Unary(sc, Runs::kInline,
                 [this, req, resp](const Context& ctx) { local_->Mounts(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Commit(grpc::CallbackServerContext* sc,
                                   const api::CommitSnapshotRequest* req,
                                   google::protobuf::Empty*) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req](const Context& ctx) { local_->Commit(ctx, *req); });
  }
  grpc::ServerUnaryReactor* Remove(grpc::CallbackServerContext* sc,
                                   const api::RemoveSnapshotRequest* req,
                                   google::protobuf::Empty*) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req](const Context& ctx) { local_->Remove(ctx, *req); });
  }
  grpc::ServerUnaryReactor* Stat(grpc::CallbackServerContext* sc,
                                 const api::StatSnapshotRequest* req,
                                 api::StatSnapshotResponse* resp) override {
    return Unary(sc, Runs::kInline,
                 [this, req, resp](const Context& ctx) { local_->Stat(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Update(grpc::CallbackServerContext* sc,
                                   const api::UpdateSnapshotRequest* req,
                                   api::UpdateSnapshotResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Update(ctx, *req, resp); });
  }
  grpc::ServerWriteReactor<api::ListSnapshotsResponse>* List(
      grpc::CallbackServerContext* sc, const api::ListSnapshotsRequest* req) override {
    // Metadata reads in batches of 100.
    return new GatheredWriter<api::ListSnapshotsResponse>(
        sc, [this, req](const Context& ctx, std::vector<api::ListSnapshotsResponse>* out) {
          local_->List(ctx, *req, [out](const api::ListSnapshotsResponse& r) {
            out->push_back(r);
            return true;
          });
        });
  }
  grpc::ServerUnaryReactor* Usage(grpc::CallbackServerContext* sc, const api::UsageRequest* req,
                                  api::UsageResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Usage(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Cleanup(grpc::CallbackServerContext* sc, const api::CleanupRequest* req,
                                    google::protobuf::Empty*) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req](const Context& ctx) { local_->Cleanup(ctx, *req); });
  }

 private:
  std::shared_ptr<Local> local_;
};

plugin::Registrar reg{{
    .type = plugin::kGRPC,
    .id = "snapshots",
    .requires_ = {plugin::kService},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      return std::make_shared<Service>(ic.GetAs<Local>(plugin::kService, "snapshots-service"));
    },
}};

}  // namespace
}  // namespace mcd::services::snapshots
