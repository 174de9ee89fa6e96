#include "services/snapshots/local.h"

#include <fmt/format.h>

#include "github.com/containerd/containerd/api/events/snapshot.pb.h"
#include "pkg/errdefs.h"
#include "pkg/timestamp.h"

namespace mcd::services::snapshots {
namespace {

namespace sn = mcd::snapshots;

sn::Labels LabelsOf(const google::protobuf::Map<std::string, std::string>& m) {
  return sn::Labels(m.begin(), m.end());
}

// Snapshot records keep Unix nanoseconds.
google::protobuf::Timestamp TimestampOf(int64_t ns) {
  return ToTimestamp(std::chrono::system_clock::time_point(std::chrono::nanoseconds(ns)));
}

}  // namespace

metadata::SnapshotStore& Local::Store(const std::string& snapshotter) {
  if (snapshotter.empty()) throw errdefs::InvalidArgument("snapshotter argument missing");
  auto it = stores_.find(snapshotter);
  if (it == stores_.end()) {
    throw errdefs::InvalidArgument(fmt::format("snapshotter not loaded: {}", snapshotter));
  }
  return *it->second;
}

void Local::ToProto(const sn::Info& info, api::Info* out) {
  out->set_name(info.name);
  out->set_parent(info.parent);
  out->set_kind(static_cast<api::Kind>(info.kind));
  *out->mutable_created_at() = TimestampOf(info.created_ns);
  *out->mutable_updated_at() = TimestampOf(info.updated_ns);
  for (const auto& [k, v] : info.labels) (*out->mutable_labels())[k] = v;
}

void Local::Prepare(const Context& ctx, const api::PrepareSnapshotRequest& req,
                    api::PrepareSnapshotResponse* resp) {
  auto& s = Store(req.snapshotter());
  auto mounts = s.Prepare(ctx, req.key(), req.parent(), LabelsOf(req.labels()));
  mount::ToProto(mounts, resp->mutable_mounts());
  containerd::events::SnapshotPrepare ev;
  ev.set_key(req.key());
  ev.set_parent(req.parent());
  events_->Publish(ctx, "/snapshot/prepare", ev);
}

void Local::View(const Context& ctx, const api::ViewSnapshotRequest& req,
                 api::ViewSnapshotResponse* resp) {
  auto& s = Store(req.snapshotter());
  mount::ToProto(s.View(ctx, req.key(), req.parent(), LabelsOf(req.labels())),
                 resp->mutable_mounts());
}

void Local::Mounts(const Context& ctx, const api::MountsRequest& req, api::MountsResponse* resp) {
  mount::ToProto(Store(req.snapshotter()).Mounts(ctx, req.key()), resp->mutable_mounts());
}

void Local::Commit(const Context& ctx, const api::CommitSnapshotRequest& req) {
  Store(req.snapshotter()).Commit(ctx, req.name(), req.key(), LabelsOf(req.labels()));
  containerd::events::SnapshotCommit ev;
  ev.set_key(req.key());
  ev.set_name(req.name());
  events_->Publish(ctx, "/snapshot/commit", ev);
}

void Local::Remove(const Context& ctx, const api::RemoveSnapshotRequest& req) {
  Store(req.snapshotter()).Remove(ctx, req.key());
  containerd::events::SnapshotRemove ev;
  ev.set_key(req.key());
  events_->Publish(ctx, "/snapshot/remove", ev);
}

void Local::Stat(const Context& ctx, const api::StatSnapshotRequest& req,
                 api::StatSnapshotResponse* resp) {
  ToProto(Store(req.snapshotter()).Stat(ctx, req.key()), resp->mutable_info());
}

void Local::Update(const Context& ctx, const api::UpdateSnapshotRequest& req,
                   api::UpdateSnapshotResponse* resp) {
  auto& s = Store(req.snapshotter());
  sn::Info info;
  info.name = req.info().name();
  info.labels = LabelsOf(req.info().labels());
  std::vector<std::string> paths(req.update_mask().paths().begin(),
                                 req.update_mask().paths().end());
  ToProto(s.Update(ctx, info, paths), resp->mutable_info());
}

void Local::List(const Context& ctx, const api::ListSnapshotsRequest& req,
                 const std::function<bool(const api::ListSnapshotsResponse&)>& send) {
  auto& s = Store(req.snapshotter());
  api::ListSnapshotsResponse batch;
  bool ok = true;
  try {
    filters::Filter filter = filters::ParseAll({req.filters().begin(), req.filters().end()});
    s.Walk(
        ctx,
        [&](const sn::Info& info) {
          ToProto(info, batch.add_info());
          if (batch.info_size() >= 100) {
            ok = send(batch);
            batch.Clear();
          }
          return ok;
        },
        filter);
  } catch (const errdefs::Error& e) {
    // containerd's snapshots service passes the filter's or the walk's error
    // (a bad namespace, say) on unconverted: clients see its text with the
    // class Unknown.
    throw errdefs::Unknown(e.what());
  }
  if (ok && batch.info_size() > 0) send(batch);
}

void Local::Usage(const Context& ctx, const api::UsageRequest& req, api::UsageResponse* resp) {
  auto u = Store(req.snapshotter()).GetUsage(ctx, req.key());
  resp->set_size(u.size);
  resp->set_inodes(u.inodes);
}

void Local::Cleanup(const Context& ctx, const api::CleanupRequest& req) {
  Store(req.snapshotter()).CollectBackend();
}

namespace {
plugin::Registrar reg{{
    .type = plugin::kService,
    .id = "snapshots-service",
    .requires_ = {plugin::kEvent, plugin::kMetadata},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      auto db = ic.GetAs<metadata::DB>(plugin::kMetadata);
      std::map<std::string, std::shared_ptr<metadata::SnapshotStore>> stores;
      for (const auto& l : ic.plugins().OfType(plugin::kSnapshot)) {
        auto sn = std::dynamic_pointer_cast<mcd::snapshots::Snapshotter>(l->instance);
        if (!sn) continue;
        auto store = std::make_shared<metadata::SnapshotStore>(db, sn);
        // Backend snapshots a crash left without a record go now; after a
        // clean stop there are none, and start-up reads no snapshot list.
        if (!db->StoppedCleanly()) store->CollectBackend();
        stores.emplace(l->reg->id, std::move(store));
      }
      metadata::RegisterSnapshotsGC(*db, stores);
      return std::make_shared<Local>(std::move(stores), ic.events);
    },
}};
}  // namespace

}  // namespace mcd::services::snapshots
