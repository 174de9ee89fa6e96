#pragma once
// containerd.services.containers.v1 logic (the io.containerd.service.v1
// plugin "containers-service"): proto <-> store records, events.
#include <functional>
#include <memory>
#include <mutex>

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/services/containers/v1/containers.pb.h"
#include "metadata/containers.h"
#include "pkg/context.h"

namespace mcd::services::containers {

namespace api = containerd::services::containers::v1;

class Local : public plugin::Instance {
 public:
  Local(std::shared_ptr<metadata::DB> db, events::Exchange* events)
      : store_(std::move(db)), events_(events) {}

  void Get(const Context& ctx, const api::GetContainerRequest& req,
           api::GetContainerResponse* resp);
  void List(const Context& ctx, const api::ListContainersRequest& req,
            api::ListContainersResponse* resp);
  void Create(const Context& ctx, const api::CreateContainerRequest& req,
              api::CreateContainerResponse* resp);
  void Update(const Context& ctx, const api::UpdateContainerRequest& req,
              api::UpdateContainerResponse* resp);
  void Delete(const Context& ctx, const api::DeleteContainerRequest& req);

  // The runtime refuses the delete of a container whose task is alive by
  // throwing (FailedPrecondition) from this check; it runs before the delete.
  using DeleteCheck = std::function<void(const Context& ctx, const std::string& id)>;
  void SetDeleteCheck(DeleteCheck check);

  static void ToProto(const metadata::Container& c, api::Container* out);
  static metadata::Container FromProto(const api::Container& c);

 private:
  metadata::ContainerStore store_;
  events::Exchange* events_;
  std::mutex check_mu_;
  DeleteCheck delete_check_;
};

}  // namespace mcd::services::containers
