// Plugin io.containerd.monitor.v1 / cgroups, as containerd 1.6 registers it:
// requires the event plugin, config `no_prometheus`, advertises the default
// platform.
#include "events/exchange.h"
#include "runtime/monitor/monitor.h"
#include "ttrpc/io.h"

namespace mcd::monitor {
namespace {

plugin::Registrar reg{{
    .type = kTaskMonitor,
    .id = "cgroups",
    .requires_ = {plugin::kEvent},
    .config = toml::table{{"no_prometheus", false}},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      ic.AddDefaultPlatform();
      return std::make_shared<CgroupsMonitor>(ic.events, ttrpc::Io());
    },
}};

}  // namespace
}  // namespace mcd::monitor
