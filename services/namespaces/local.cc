#include "services/namespaces/local.h"

#include <fmt/format.h>

#include "github.com/containerd/containerd/api/events/namespace.pb.h"
#include "pkg/errdefs.h"
#include "pkg/identifiers.h"

namespace mcd::services::namespaces {

void Local::Fill(const std::string& name, api::Namespace* out) {
  out->set_name(name);
  for (const auto& [k, v] : store_.GetLabels(name)) (*out->mutable_labels())[k] = v;
}

void Local::Get(const Context&, const api::GetNamespaceRequest& req,
                api::GetNamespaceResponse* resp) {
  identifiers::Validate(req.name());
  Fill(req.name(), resp->mutable_namespace_());
}

void Local::List(const Context&, const api::ListNamespacesRequest&,
                 api::ListNamespacesResponse* resp) {
  for (const auto& name : store_.List()) Fill(name, resp->add_namespaces());
}

void Local::Create(const Context&, const api::CreateNamespaceRequest& req,
                   api::CreateNamespaceResponse* resp) {
  const auto& ns = req.namespace_();
  metadata::Labels labels(ns.labels().begin(), ns.labels().end());
  store_.Create(ns.name(), labels);
  *resp->mutable_namespace_() = ns;
  containerd::events::NamespaceCreate ev;
  ev.set_name(ns.name());
  *ev.mutable_labels() = ns.labels();
  events_->Publish(MakeContext(ns.name()), "/namespaces/create", ev);
}

void Local::Update(const Context&, const api::UpdateNamespaceRequest& req,
                   api::UpdateNamespaceResponse* resp) {
  const auto& ns = req.namespace_();
  identifiers::Validate(ns.name());
  if (req.has_update_mask() && req.update_mask().paths_size() > 0) {
    for (const auto& path : req.update_mask().paths()) {
      if (path.rfind("labels.", 0) != 0) {
        throw errdefs::InvalidArgument(fmt::format("cannot update {:?} field", path));
      }
    }
    for (const auto& path : req.update_mask().paths()) {
      std::string key = path.substr(7);
      auto it = ns.labels().find(key);
      store_.SetLabel(ns.name(), key, it == ns.labels().end() ? "" : it->second);
    }
  } else {
    store_.ReplaceLabels(ns.name(), metadata::Labels(ns.labels().begin(), ns.labels().end()));
  }
  Fill(ns.name(), resp->mutable_namespace_());
  containerd::events::NamespaceUpdate ev;
  ev.set_name(ns.name());
  *ev.mutable_labels() = resp->namespace_().labels();
  events_->Publish(MakeContext(ns.name()), "/namespaces/update", ev);
}

void Local::Delete(const Context&, const api::DeleteNamespaceRequest& req) {
  store_.Delete(req.name());
  containerd::events::NamespaceDelete ev;
  ev.set_name(req.name());
  events_->Publish(MakeContext(req.name()), "/namespaces/delete", ev);
}

namespace {
plugin::Registrar reg{{
    .type = plugin::kService,
    .id = "namespaces-service",
    .requires_ = {plugin::kEvent, plugin::kMetadata},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      return std::make_shared<Local>(ic.GetAs<metadata::DB>(plugin::kMetadata), ic.events);
    },
}};
}  // namespace

}  // namespace mcd::services::namespaces
