// grpc plugin "snapshots": containerd.services.snapshots.v1.Snapshots over
// the snapshots-service plugin.
#include "github.com/containerd/containerd/api/services/snapshots/v1/snapshots.grpc.pb.h"
#include "services/grpc_util.h"
#include "services/snapshots/local.h"

namespace mcd::services::snapshots {
namespace {

class Service final : public api::Snapshots::Service, public GrpcService {
 public:
  explicit Service(std::shared_ptr<Local> local) : local_(std::move(local)) {}
  grpc::Service* service() override { return this; }

  grpc::Status Prepare(grpc::ServerContext* sc, const api::PrepareSnapshotRequest* req,
                       api::PrepareSnapshotResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->Prepare(ctx, *req, resp); });
  }
  grpc::Status View(grpc::ServerContext* sc, const api::ViewSnapshotRequest* req,
                    api::ViewSnapshotResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->View(ctx, *req, resp); });
  }
  grpc::Status Mounts(grpc::ServerContext* sc, const api::MountsRequest* req,
                      api::MountsResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->Mounts(ctx, *req, resp); });
  }
  grpc::Status Commit(grpc::ServerContext* sc, const api::CommitSnapshotRequest* req,
                      google::protobuf::Empty*) override {
    return Handle(sc, [&](const Context& ctx) { local_->Commit(ctx, *req); });
  }
  grpc::Status Remove(grpc::ServerContext* sc, const api::RemoveSnapshotRequest* req,
                      google::protobuf::Empty*) override {
    return Handle(sc, [&](const Context& ctx) { local_->Remove(ctx, *req); });
  }
  grpc::Status Stat(grpc::ServerContext* sc, const api::StatSnapshotRequest* req,
                    api::StatSnapshotResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->Stat(ctx, *req, resp); });
  }
  grpc::Status Update(grpc::ServerContext* sc, const api::UpdateSnapshotRequest* req,
                      api::UpdateSnapshotResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->Update(ctx, *req, resp); });
  }
  // A bounded, quick stream (one pass over the records, batches of 100):
  // the handler returns when the walk ends, so no thread waits on a client.
  grpc::Status List(grpc::ServerContext* sc, const api::ListSnapshotsRequest* req,
                    grpc::ServerWriter<api::ListSnapshotsResponse>* w) override {
    return Handle(sc, [&](const Context& ctx) {
      local_->List(ctx, *req, [&](const api::ListSnapshotsResponse& r) { return w->Write(r); });
    });
  }
  grpc::Status Usage(grpc::ServerContext* sc, const api::UsageRequest* req,
                     api::UsageResponse* resp) override {
    return Handle(sc, [&](const Context& ctx) { local_->Usage(ctx, *req, resp); });
  }
  grpc::Status Cleanup(grpc::ServerContext* sc, const api::CleanupRequest* req,
                       google::protobuf::Empty*) override {
    return Handle(sc, [&](const Context& ctx) { local_->Cleanup(ctx, *req); });
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
