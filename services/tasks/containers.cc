// The container record through the containers store (containerd's tasks
// service reads metadata directly too).
#include "services/tasks/local.h"

namespace mcd::services::tasks {

ContainerInfo GetContainer(const metadata::ContainerStore& store, const Context& ctx,
                           const std::string& id) {
  metadata::Container c = store.Get(ctx.Namespace(), id);
  ContainerInfo info;
  info.runtime = c.rec.runtime_name();
  if (c.rec.has_runtime_options()) info.runtime_options = c.rec.runtime_options();
  info.spec = c.rec.spec().value();
  info.spec_any = c.rec.spec();
  return info;
}

}  // namespace mcd::services::tasks
