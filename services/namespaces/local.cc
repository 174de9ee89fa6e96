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

// containerd publishes create and update events in the caller's namespace
// (only delete switches to the deleted one) and reports a failure to publish
// as an unknown error after the change is committed.
void Local::PublishIn(const Context& ctx, const std::string& topic,
                      const google::protobuf::Message& ev) {
  try {
    events_->Publish(ctx, topic, ev);
  } catch (const errdefs::Error& e) {
    // The exchange already says "failed publishing event: ..." as containerd's.
    throw errdefs::Unknown(e.what());
  }
}

// Like containerd, a missing namespace reads as one without labels.
void Local::Get(const Context&, const api::GetNamespaceRequest& req,
                api::GetNamespaceResponse* resp) {
  Fill(req.name(), resp->mutable_namespace_());
}

void Local::List(const Context&, const api::ListNamespacesRequest&,
                 api::ListNamespacesResponse* resp) {
  for (const auto& name : store_.List()) Fill(name, resp->add_namespaces());
}

void Local::Create(const Context& ctx, const api::CreateNamespaceRequest& req,
                   api::CreateNamespaceResponse* resp) {
  const auto& ns = req.namespace_();
  metadata::Labels labels(ns.labels().begin(), ns.labels().end());
  store_.Create(ns.name(), labels);
  *resp->mutable_namespace_() = ns;
  containerd::events::NamespaceCreate ev;
  ev.set_name(ns.name());
  *ev.mutable_labels() = ns.labels();
  PublishIn(ctx, "/namespaces/create", ev);
}

// The response is empty, as containerd's.
void Local::Update(const Context& ctx, const api::UpdateNamespaceRequest& req,
                   api::UpdateNamespaceResponse*) {
  const auto& ns = req.namespace_();
  if (req.has_update_mask() && req.update_mask().paths_size() > 0) {
    std::vector<std::pair<std::string, std::string>> changes;
    for (const auto& path : req.update_mask().paths()) {
      if (path.rfind("labels.", 0) != 0) {
        // containerd answers with a bare InvalidArgument status here.
        throw errdefs::Error(errdefs::Code::kInvalidArgument,
                             fmt::format("cannot update {:?} field", path));
      }
      std::string key = path.substr(7);
      auto it = ns.labels().find(key);
      changes.emplace_back(key, it == ns.labels().end() ? "" : it->second);
    }
    store_.SetLabels(ns.name(), changes);
  } else {
    store_.ReplaceLabels(ns.name(), metadata::Labels(ns.labels().begin(), ns.labels().end()));
  }
  containerd::events::NamespaceUpdate ev;
  ev.set_name(ns.name());
  *ev.mutable_labels() = ns.labels();
  PublishIn(ctx, "/namespaces/update", ev);
}

void Local::Delete(const Context&, const api::DeleteNamespaceRequest& req) {
  store_.Delete(req.name());
  containerd::events::NamespaceDelete ev;
  ev.set_name(req.name());
  PublishIn(MakeContext(req.name()), "/namespaces/delete", ev);
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
