// io.containerd.metadata.v1 / rocksdb: opens the metadata database.
#include "metadata/db.h"
#include "plugins/plugin.h"

namespace mcd::metadata {
namespace {

plugin::Registrar reg{{
    .type = plugin::kMetadata,
    .id = "rocksdb",
    .requires_ = {plugin::kEvent},  // content and snapshotters join as they land
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      return DB::Open(ic.root);
    },
}};

}  // namespace
}  // namespace mcd::metadata
