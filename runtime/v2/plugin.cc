// Plugin io.containerd.runtime.v2 / task, configured as containerd 1.6's:
// `platforms` (advertised) and `sched_core` (SCHED_CORE=1 for shims).
#include "events/exchange.h"
#include "metadata/namespaces.h"
#include "pkg/errdefs.h"
#include "runtime/v2/manager.h"

namespace mcd::runtime {
namespace {

plugin::Registrar reg{{
    .type = plugin::kRuntimeV2,
    .id = "task",
    .requires_ = {plugin::kEvent, plugin::kMetadata},
    .config =
        toml::table{{"platforms", toml::array{plugin::DefaultPlatform()}}, {"sched_core", false}},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      if (const auto* ps = ic.config["platforms"].as_array()) {
        for (const auto& p : *ps) {
          auto s = p.value<std::string>();
          if (!s || s->empty()) throw errdefs::InvalidArgument("platforms: expected strings");
          ic.platforms().push_back(*s);
        }
      }
      ManagerConfig cfg;
      cfg.root = ic.root;
      cfg.state = ic.state;
      cfg.grpc_address = ic.daemon.grpc_address;
      cfg.ttrpc_address = ic.daemon.ttrpc_address;
      cfg.self = ic.daemon.binary;
      cfg.sched_core = ic.config["sched_core"].value_or(false);
      auto m = std::make_shared<TaskManager>(cfg, ic.events);
      m->Load();
      // Running tasks keep a namespace from being deleted.
      std::weak_ptr<TaskManager> wm = m;
      metadata::NamespaceStore::AddContentsHook([wm](const std::string& ns) {
        auto mgr = wm.lock();
        return mgr && mgr->HasTasks(ns) ? std::vector<std::string>{"tasks"}
                                        : std::vector<std::string>{};
      });
      return m;
    },
}};

}  // namespace
}  // namespace mcd::runtime
