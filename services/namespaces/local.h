#pragma once
// containerd.services.namespaces.v1 logic (the io.containerd.service.v1 plugin
// "namespaces-service"): validation, field-path updates, events.
#include <memory>

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/services/namespaces/v1/namespace.pb.h"
#include "metadata/namespaces.h"
#include "pkg/context.h"

namespace mcd::services::namespaces {

namespace api = containerd::services::namespaces::v1;

class Local : public plugin::Instance {
 public:
  Local(std::shared_ptr<metadata::DB> db, events::Exchange* events)
      : store_(std::move(db)), events_(events) {}

  void Get(const Context& ctx, const api::GetNamespaceRequest& req,
           api::GetNamespaceResponse* resp);
  void List(const Context& ctx, const api::ListNamespacesRequest& req,
            api::ListNamespacesResponse* resp);
  void Create(const Context& ctx, const api::CreateNamespaceRequest& req,
              api::CreateNamespaceResponse* resp);
  void Update(const Context& ctx, const api::UpdateNamespaceRequest& req,
              api::UpdateNamespaceResponse* resp);
  void Delete(const Context& ctx, const api::DeleteNamespaceRequest& req);

 private:
  void Fill(const std::string& name, api::Namespace* out);
  void PublishIn(const Context& ctx, const std::string& topic, const google::protobuf::Message& ev);
  metadata::NamespaceStore store_;
  events::Exchange* events_;
};

}  // namespace mcd::services::namespaces
