// Plugin io.containerd.internal.v1 / restart, configured as containerd 1.6's:
// `interval` (a Go duration, "10s").
#include "metadata/gc_scheduler.h"
#include "services/restart/monitor.h"

namespace mcd::services::restart {
namespace {

plugin::Registrar reg{{
    .type = plugin::kInternal,
    .id = "restart",
    .requires_ = {plugin::kEvent, plugin::kService},
    .config = toml::table{{"interval", "10s"}},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      auto interval = metadata::gc::ParseDuration(ic.config["interval"].value_or(""));
      // containerd takes 0 as its default.
      if (interval.count() <= 0) interval = std::chrono::seconds(10);
      return std::make_shared<Monitor>(
          ic.GetAs<namespaces::Local>(plugin::kService, "namespaces-service"),
          ic.GetAs<containers::Local>(plugin::kService, "containers-service"),
          ic.GetAs<snapshots::Local>(plugin::kService, "snapshots-service"),
          ic.GetAs<tasks::Local>(plugin::kService, "tasks-service"), ic.events,
          std::chrono::duration_cast<Monitor::Clock::duration>(interval));
    },
}};

}  // namespace
}  // namespace mcd::services::restart
