#pragma once
// containerd.services.leases.v1 logic (the io.containerd.service.v1 plugin
// "leases-service") over metadata::leases::Store. Delete with `sync` runs
// one garbage collection before answering, as containerd's.
#include <memory>

#include "github.com/containerd/containerd/api/services/leases/v1/leases.pb.h"
#include "metadata/gc_scheduler.h"
#include "metadata/leases.h"
#include "pkg/context.h"
#include "plugins/plugin.h"

namespace mcd::services::leases {

namespace api = containerd::services::leases::v1;

class Local : public plugin::Instance {
 public:
  Local(std::shared_ptr<metadata::DB> db, std::shared_ptr<metadata::gc::Scheduler> gc)
      : gc_(std::move(gc)), store_(std::move(db)) {}

  void Create(const Context& ctx, const api::CreateRequest& req, api::CreateResponse* resp);
  void Delete(const Context& ctx, const api::DeleteRequest& req);
  void List(const Context& ctx, const api::ListRequest& req, api::ListResponse* resp);
  void AddResource(const Context& ctx, const api::AddResourceRequest& req);
  void DeleteResource(const Context& ctx, const api::DeleteResourceRequest& req);
  void ListResources(const Context& ctx, const api::ListResourcesRequest& req,
                     api::ListResourcesResponse* resp);

 private:
  std::shared_ptr<metadata::gc::Scheduler> gc_;
  metadata::leases::Store store_;
};

}  // namespace mcd::services::leases
