#include "services/images/local.h"

#include "github.com/containerd/containerd/api/events/image.pb.h"
#include "pkg/errdefs.h"
#include "pkg/log.h"

namespace mcd::services::images {

void Local::ToProto(const metadata::Image& img, api::Image* out) {
  out->set_name(img.name);
  *out->mutable_labels() = img.rec.labels();
  const auto& t = img.rec.target();
  auto* d = out->mutable_target();
  d->set_media_type(t.media_type());
  d->set_digest(t.digest());
  d->set_size(t.size());
  *d->mutable_annotations() = t.annotations();
  *out->mutable_created_at() = img.rec.created_at();
  *out->mutable_updated_at() = img.rec.updated_at();
}

metadata::Image Local::FromProto(const api::Image& img) {
  metadata::Image out;
  out.name = img.name();
  *out.rec.mutable_labels() = img.labels();
  auto* t = out.rec.mutable_target();
  t->set_media_type(img.target().media_type());
  t->set_digest(img.target().digest());
  t->set_size(img.target().size());
  *t->mutable_annotations() = img.target().annotations();
  return out;
}

void Local::Get(const Context& ctx, const api::GetImageRequest& req, api::GetImageResponse* resp) {
  ToProto(store_.Get(ctx.Namespace(), req.name()), resp->mutable_image());
}

void Local::List(const Context& ctx, const api::ListImagesRequest& req,
                 api::ListImagesResponse* resp) {
  std::vector<std::string> filters(req.filters().begin(), req.filters().end());
  for (const auto& img : store_.List(ctx.Namespace(), filters)) ToProto(img, resp->add_images());
}

void Local::Create(const Context& ctx, const api::CreateImageRequest& req,
                   api::CreateImageResponse* resp) {
  log::Debug("create image",
             {{"name", req.image().name()}, {"target", req.image().target().digest()}});
  if (req.image().name().empty()) {
    throw errdefs::Error(errdefs::Code::kInvalidArgument, "Image.Name required");
  }
  auto created = store_.Create(ctx.Namespace(), FromProto(req.image()));
  ToProto(created, resp->mutable_image());
  containerd::services::images::v1::ImageCreate ev;
  ev.set_name(created.name);
  *ev.mutable_labels() = created.rec.labels();
  events_->Publish(ctx, "/images/create", ev);
}

void Local::Update(const Context& ctx, const api::UpdateImageRequest& req,
                   api::UpdateImageResponse* resp) {
  if (req.image().name().empty()) {
    throw errdefs::Error(errdefs::Code::kInvalidArgument, "Image.Name required");
  }
  std::vector<std::string> paths;
  if (req.has_update_mask()) {
    paths.assign(req.update_mask().paths().begin(), req.update_mask().paths().end());
  }
  auto updated = store_.Update(ctx.Namespace(), FromProto(req.image()), paths);
  ToProto(updated, resp->mutable_image());
  containerd::services::images::v1::ImageUpdate ev;
  ev.set_name(updated.name);
  *ev.mutable_labels() = updated.rec.labels();
  events_->Publish(ctx, "/images/update", ev);
}

void Local::Delete(const Context& ctx, const api::DeleteImageRequest& req) {
  log::Debug("delete image", {{"name", req.name()}});
  store_.Delete(ctx.Namespace(), req.name());
  containerd::services::images::v1::ImageDelete ev;
  ev.set_name(req.name());
  events_->Publish(ctx, "/images/delete", ev);
  if (req.sync()) gc_->ScheduleAndWait();
}

namespace {
plugin::Registrar reg{{
    .type = plugin::kService,
    .id = "images-service",
    // containerd's list (introspection shows it); events come through ic.events.
    .requires_ = {plugin::kMetadata, plugin::kGC},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      return std::make_shared<Local>(ic.GetAs<metadata::DB>(plugin::kMetadata),
                                     ic.GetAs<metadata::gc::Scheduler>(plugin::kGC, "scheduler"),
                                     ic.events);
    },
}};
}  // namespace

}  // namespace mcd::services::images
