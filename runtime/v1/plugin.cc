// Plugin io.containerd.runtime.v1 / linux, configured as containerd 1.6's:
// `shim`, `runtime`, `runtime_root`, `no_shim`, `shim_debug`.
#include "metadata/db.h"
#include "metadata/namespaces.h"
#include "pkg/errdefs.h"
#include "runtime/v1/runtime.h"

namespace mcd::runtime::v1 {
namespace {

plugin::Registrar reg{{
    .type = plugin::kRuntime,
    .id = "linux",
    .requires_ = {plugin::kEvent, plugin::kMetadata},
    .config = toml::table{{"shim", "containerd-shim"},
                          {"runtime", "runc"},
                          {"runtime_root", ""},
                          {"no_shim", false},
                          {"shim_debug", false}},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      ic.AddDefaultPlatform();
      // containerd's no_shim runs the shim's service inside the daemon (Go
      // code this daemon does not have).
      if (ic.config["no_shim"].value_or(false))
        throw errdefs::InvalidArgument(
            "no_shim = true (the in-process shim) is not supported: use the containerd-shim "
            "binary (no_shim = false)");
      Config cfg;
      cfg.root = ic.root;
      cfg.state = ic.state;
      cfg.grpc_address = ic.daemon.grpc_address;
      cfg.self = ic.daemon.binary;
      cfg.shim = ic.config["shim"].value_or(std::string("containerd-shim"));
      cfg.runtime = ic.config["runtime"].value_or(std::string("runc"));
      cfg.runtime_root = ic.config["runtime_root"].value_or(std::string());
      cfg.shim_debug = ic.config["shim_debug"].value_or(false);
      if (cfg.shim.empty()) cfg.shim = "containerd-shim";
      if (cfg.runtime.empty()) cfg.runtime = "runc";
      auto r = std::make_shared<Runtime>(cfg, ic.events, ic.GetAs<metadata::DB>(plugin::kMetadata));
      r->Load();
      // Running tasks keep a namespace from being deleted.
      std::weak_ptr<Runtime> wr = r;
      metadata::NamespaceStore::AddContentsHook([wr](const std::string& ns) {
        auto rt = wr.lock();
        return rt && rt->HasTasks(ns) ? std::vector<std::string>{"tasks"}
                                      : std::vector<std::string>{};
      });
      return r;
    },
}};

}  // namespace
}  // namespace mcd::runtime::v1
