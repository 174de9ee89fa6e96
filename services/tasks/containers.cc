// The container record as the containers store keeps it
// (v1/<ns>/containers/<id>, records.Container).
#include "metadata/db.h"
#include "pkg/errdefs.h"
#include "services/tasks/local.h"

#if __has_include("mcd/containers.pb.h")
#include "mcd/containers.pb.h"
#define MCD_HAVE_CONTAINERS 1
#endif

namespace mcd::services::tasks {

ContainerInfo GetContainer(metadata::DB& db, const Context& ctx, const std::string& id) {
  const std::string& ns = ctx.Namespace();
#ifdef MCD_HAVE_CONTAINERS
  auto v = db.Get(metadata::ObjectKey(ns, "containers", id));
  if (!v) throw errdefs::NotFound("container \"" + id + "\"");
  mcd::records::Container rec;
  if (!rec.ParseFromString(*v)) throw errdefs::Internal("container \"" + id + "\": corrupt record");
  ContainerInfo info;
  info.runtime = rec.runtime_name();
  if (rec.has_runtime_options()) info.runtime_options = rec.runtime_options();
  info.spec = rec.spec().value();
  return info;
#else
  (void)db;
  (void)ns;
  throw errdefs::NotFound("container \"" + id + "\"");
#endif
}

}  // namespace mcd::services::tasks
