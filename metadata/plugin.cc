// io.containerd.metadata.v1 / rocksdb: opens the metadata database.
#include "plugins/plugin.h"
#include "content/local.h"
#include "metadata/content.h"
#include "metadata/db.h"
#include "metadata/leases.h"

namespace mcd::metadata {
namespace {

plugin::Registrar reg{{
    .type = plugin::kMetadata,
    .id = "rocksdb",
    .requires_ = {plugin::kEvent, plugin::kContent, plugin::kSnapshot},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      ic.exports()["path"] = ic.root;  // introspection, as containerd's bolt path
      auto db = DB::Open(ic.root);
      // The namespaced view of the content plugin, as containerd's
      // db.ContentStore(); services reach it through the metadata plugin.
      db->content = std::make_shared<ContentStore>(
          db, ic.GetAs<content::LocalStore>(plugin::kContent, "content"));
      db->content->RegisterGC();
      leases::UpgradeLayout(*db);
      leases::RegisterGC(*db);
      ic.exports()["policy"] = "shared";
      return db;
    },
}};

}  // namespace
}  // namespace mcd::metadata
