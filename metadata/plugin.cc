// io.containerd.metadata.v1 / rocksdb: opens the metadata database.
#include "plugins/plugin.h"
#include "content/local.h"
#include "metadata/content.h"
#include "metadata/db.h"
#include "metadata/leases.h"
#include "pkg/errdefs.h"
#include "pkg/log.h"

namespace mcd::metadata {
namespace {

plugin::Registrar reg{{
    .type = plugin::kMetadata,
    .id = "rocksdb",
    // As containerd's bolt: it publishes nothing itself.
    .requires_ = {plugin::kContent, plugin::kSnapshot},
    // containerd's bolt option: "shared" or "isolated" (metadata/content.h).
    .config = toml::table{{"content_sharing_policy", "shared"}},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      // Checked first, as containerd: a bad policy opens nothing.
      std::string policy = ic.config["content_sharing_policy"].value_or(std::string());
      if (policy.empty()) policy = "shared";
      if (policy != "shared" && policy != "isolated") {
        throw errdefs::InvalidArgument("unknown policy: " + policy);
      }
      log::Info("metadata content store policy set", {{"policy", policy}});
      ic.exports()["path"] = ic.root;  // introspection, as containerd's bolt path
      auto db = DB::Open(ic.root);
      db->TrackCleanStop();
      // The namespaced view of the content plugin, as containerd's
      // db.ContentStore(); services reach it through the metadata plugin.
      db->content = std::make_shared<ContentStore>(
          db, ic.GetAs<content::LocalStore>(plugin::kContent, "content"), policy == "shared");
      db->content->RegisterGC();
      leases::UpgradeLayout(*db);
      leases::RegisterGC(*db);
      ic.exports()["policy"] = policy;
      return db;
    },
    // A containerd config sets the policy on its bolt plugin.
    .config_aliases = {"io.containerd.metadata.v1.bolt"},
}};

}  // namespace
}  // namespace mcd::metadata
