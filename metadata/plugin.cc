// io.containerd.metadata.v1 / rocksdb: opens the metadata database.
#include "plugins/plugin.h"
#include "metadata/db.h"

namespace mcd::metadata {
namespace {

plugin::Registrar reg{{
    .type = plugin::kMetadata,
    .id = "rocksdb",
    .requires_ = {plugin::kEvent},  // content and snapshotters join as they land
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      ic.exports()["path"] = ic.root;  // introspection, as containerd's bolt path
      return DB::Open(ic.root);
    },
}};

}  // namespace
}  // namespace mcd::metadata
