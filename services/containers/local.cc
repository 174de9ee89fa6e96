#include "services/containers/local.h"

#include "github.com/containerd/containerd/api/events/container.pb.h"
#include "pkg/errdefs.h"

namespace mcd::services::containers {

void Local::ToProto(const metadata::Container& c, api::Container* out) {
  const auto& r = c.rec;
  out->set_id(c.id);
  *out->mutable_labels() = r.labels();
  out->set_image(r.image());
  out->mutable_runtime()->set_name(r.runtime_name());
  if (r.has_runtime_options()) *out->mutable_runtime()->mutable_options() = r.runtime_options();
  if (r.has_spec()) *out->mutable_spec() = r.spec();
  out->set_snapshotter(r.snapshotter());
  out->set_snapshot_key(r.snapshot_key());
  *out->mutable_created_at() = r.created_at();
  *out->mutable_updated_at() = r.updated_at();
  *out->mutable_extensions() = r.extensions();
}

metadata::Container Local::FromProto(const api::Container& c) {
  metadata::Container out;
  out.id = c.id();
  auto& r = out.rec;
  *r.mutable_labels() = c.labels();
  r.set_image(c.image());
  if (c.has_runtime()) {
    r.set_runtime_name(c.runtime().name());
    if (c.runtime().has_options()) *r.mutable_runtime_options() = c.runtime().options();
  }
  if (c.has_spec()) *r.mutable_spec() = c.spec();
  r.set_snapshotter(c.snapshotter());
  r.set_snapshot_key(c.snapshot_key());
  *r.mutable_extensions() = c.extensions();
  return out;
}

void Local::Get(const Context& ctx, const api::GetContainerRequest& req,
                api::GetContainerResponse* resp) {
  ToProto(store_.Get(ctx.Namespace(), req.id()), resp->mutable_container());
}

void Local::List(const Context& ctx, const api::ListContainersRequest& req,
                 api::ListContainersResponse* resp) {
  std::vector<std::string> filters(req.filters().begin(), req.filters().end());
  for (const auto& c : store_.List(ctx.Namespace(), filters)) ToProto(c, resp->add_containers());
}

void Local::Create(const Context& ctx, const api::CreateContainerRequest& req,
                   api::CreateContainerResponse* resp) {
  const auto& ns = ctx.Namespace();
  auto created = store_.Create(ns, FromProto(req.container()));
  ToProto(created, resp->mutable_container());
  containerd::events::ContainerCreate ev;
  ev.set_id(created.id);
  ev.set_image(created.rec.image());
  ev.mutable_runtime()->set_name(created.rec.runtime_name());
  if (created.rec.has_runtime_options()) {
    *ev.mutable_runtime()->mutable_options() = created.rec.runtime_options();
  }
  events_->Publish(ctx, "/containers/create", ev);
}

void Local::Update(const Context& ctx, const api::UpdateContainerRequest& req,
                   api::UpdateContainerResponse* resp) {
  if (req.container().id().empty())
    throw errdefs::Error(errdefs::Code::kInvalidArgument, "Container.ID required");
  const auto& ns = ctx.Namespace();
  std::vector<std::string> paths;
  if (req.has_update_mask())
    paths.assign(req.update_mask().paths().begin(), req.update_mask().paths().end());
  auto updated = store_.Update(ns, FromProto(req.container()), paths);
  ToProto(updated, resp->mutable_container());
  containerd::events::ContainerUpdate ev;
  ev.set_id(updated.id);
  ev.set_image(updated.rec.image());
  *ev.mutable_labels() = updated.rec.labels();
  ev.set_snapshot_key(updated.rec.snapshot_key());
  events_->Publish(ctx, "/containers/update", ev);
}

void Local::SetDeleteCheck(DeleteCheck check) {
  std::lock_guard lk(check_mu_);
  delete_check_ = std::move(check);
}

void Local::Delete(const Context& ctx, const api::DeleteContainerRequest& req) {
  const auto& ns = ctx.Namespace();
  DeleteCheck check;
  {
    std::lock_guard lk(check_mu_);
    check = delete_check_;
  }
  if (check) check(ctx, req.id());
  store_.Delete(ns, req.id());
  containerd::events::ContainerDelete ev;
  ev.set_id(req.id());
  events_->Publish(ctx, "/containers/delete", ev);
}

namespace {
plugin::Registrar reg{{
    .type = plugin::kService,
    .id = "containers-service",
    .requires_ = {plugin::kEvent, plugin::kMetadata},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      return std::make_shared<Local>(ic.GetAs<metadata::DB>(plugin::kMetadata), ic.events);
    },
}};
}  // namespace

}  // namespace mcd::services::containers
