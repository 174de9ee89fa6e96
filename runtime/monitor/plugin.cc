// Plugin io.containerd.monitor.v1 / cgroups, as containerd 1.6 registers it:
// requires the event plugin, config `no_prometheus`, advertises the default
// platform.
#include <sys/utsname.h>

#include "events/exchange.h"
#include "runtime/monitor/monitor.h"
#include "ttrpc/io.h"

namespace mcd::monitor {
namespace {

// containerd's platforms.DefaultSpec(): the daemon's own os/arch.
std::string DefaultPlatform() {
  utsname u{};
  ::uname(&u);
  std::string m = u.machine;
  if (m == "x86_64") return "linux/amd64";
  if (m == "aarch64") return "linux/arm64";
  return "linux/" + m;
}

plugin::Registrar reg{{
    .type = kTaskMonitor,
    .id = "cgroups",
    .requires_ = {plugin::kEvent},
    .config = toml::table{{"no_prometheus", false}},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      ic.platforms().push_back(DefaultPlatform());
      return std::make_shared<CgroupsMonitor>(ic.events, ttrpc::Io());
    },
}};

}  // namespace
}  // namespace mcd::monitor
