#include "services/leases/local.h"

#include "metadata/db.h"
#include "pkg/timestamp.h"

namespace mcd::services::leases {
namespace {

namespace ml = metadata::leases;

void ToProto(const ml::Lease& l, api::Lease* out) {
  out->set_id(l.id);
  *out->mutable_created_at() = ToTimestamp(l.created_at);
  for (const auto& [k, v] : l.labels) (*out->mutable_labels())[k] = v;
}

ml::Resource FromProto(const api::Resource& r) {
  return ml::Resource{r.id(), r.type()};
}

}  // namespace

void Local::Create(const Context& ctx, const api::CreateRequest& req, api::CreateResponse* resp) {
  auto l = store_.Create(ctx.Namespace(), req.id(),
                         ml::Labels(req.labels().begin(), req.labels().end()));
  ToProto(l, resp->mutable_lease());
}

void Local::Delete(const Context& ctx, const api::DeleteRequest& req) {
  store_.Delete(ctx.Namespace(), req.id());
  if (req.sync()) gc_->ScheduleAndWait();
}

void Local::List(const Context& ctx, const api::ListRequest& req, api::ListResponse* resp) {
  std::vector<std::string> filters(req.filters().begin(), req.filters().end());
  for (const auto& l : store_.List(ctx.Namespace(), filters)) ToProto(l, resp->add_leases());
}

void Local::AddResource(const Context& ctx, const api::AddResourceRequest& req) {
  store_.AddResource(ctx.Namespace(), req.id(), FromProto(req.resource()));
}

void Local::DeleteResource(const Context& ctx, const api::DeleteResourceRequest& req) {
  store_.DeleteResource(ctx.Namespace(), req.id(), FromProto(req.resource()));
}

void Local::ListResources(const Context& ctx, const api::ListResourcesRequest& req,
                          api::ListResourcesResponse* resp) {
  for (const auto& r : store_.ListResources(ctx.Namespace(), req.id())) {
    auto* out = resp->add_resources();
    out->set_id(r.id);
    out->set_type(r.type);
  }
}

namespace {
plugin::Registrar reg{{
    .type = plugin::kService,
    .id = "leases-service",
    // containerd's list (introspection shows it): like containerd, the gc
    // scheduler is found because it registers (metadata/) before services/.
    .requires_ = {plugin::kMetadata},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      return std::make_shared<Local>(ic.GetAs<metadata::DB>(plugin::kMetadata),
                                     ic.GetAs<metadata::gc::Scheduler>(plugin::kGC, "scheduler"));
    },
}};
}  // namespace

}  // namespace mcd::services::leases
