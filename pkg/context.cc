#include "pkg/context.h"

#include "pkg/errdefs.h"
#include "pkg/identifiers.h"

namespace mcd {

const std::string& Context::Namespace() const {
  if (ns.empty()) throw errdefs::FailedPrecondition("namespace is required");
  return ns;
}

Context MakeContext(std::string ns, std::string lease) {
  if (!ns.empty()) identifiers::Validate(ns);
  Context ctx;
  ctx.ns = std::move(ns);
  ctx.lease = std::move(lease);
  return ctx;
}

}  // namespace mcd
