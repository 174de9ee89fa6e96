#pragma once
// containerd.services.snapshots.v1 logic (the io.containerd.service.v1 plugin
// "snapshots-service"): one namespaced store per loaded snapshotter, events
// for prepare, commit and remove. Other plugins (the differ, GC, containers)
// reach the stores through Store().
#include <map>
#include <memory>

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/services/snapshots/v1/snapshots.pb.h"
#include "metadata/snapshots.h"
#include "pkg/context.h"

namespace mcd::services::snapshots {

namespace api = containerd::services::snapshots::v1;

class Local : public plugin::Instance {
 public:
  Local(std::map<std::string, std::shared_ptr<metadata::SnapshotStore>> stores,
        events::Exchange* events)
      : stores_(std::move(stores)), events_(events) {}

  // InvalidArgument as containerd when the name is empty or not loaded.
  metadata::SnapshotStore& Store(const std::string& snapshotter);
  const std::map<std::string, std::shared_ptr<metadata::SnapshotStore>>& stores() const {
    return stores_;
  }

  void Prepare(const Context& ctx, const api::PrepareSnapshotRequest& req,
               api::PrepareSnapshotResponse* resp);
  void View(const Context& ctx, const api::ViewSnapshotRequest& req,
            api::ViewSnapshotResponse* resp);
  void Mounts(const Context& ctx, const api::MountsRequest& req, api::MountsResponse* resp);
  void Commit(const Context& ctx, const api::CommitSnapshotRequest& req);
  void Remove(const Context& ctx, const api::RemoveSnapshotRequest& req);
  void Stat(const Context& ctx, const api::StatSnapshotRequest& req,
            api::StatSnapshotResponse* resp);
  void Update(const Context& ctx, const api::UpdateSnapshotRequest& req,
              api::UpdateSnapshotResponse* resp);
  // Calls send once per batch of up to 100 infos; send returns false when
  // the client went away.
  void List(const Context& ctx, const api::ListSnapshotsRequest& req,
            const std::function<bool(const api::ListSnapshotsResponse&)>& send);
  void Usage(const Context& ctx, const api::UsageRequest& req, api::UsageResponse* resp);
  void Cleanup(const Context& ctx, const api::CleanupRequest& req);

  static void ToProto(const mcd::snapshots::Info& info, api::Info* out);

 private:
  std::map<std::string, std::shared_ptr<metadata::SnapshotStore>> stores_;
  events::Exchange* events_;
};

}  // namespace mcd::services::snapshots
