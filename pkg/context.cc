#include "pkg/context.h"

#include "pkg/errdefs.h"
#include "pkg/identifiers.h"

namespace mcd {

const std::string& Context::Namespace() const {
  if (ns.empty()) throw errdefs::FailedPrecondition("namespace is required");
  if (!identifiers::IsValid(ns)) {
    try {
      identifiers::Validate(ns);
    } catch (const errdefs::Error& e) {
      throw errdefs::Error(e.code(), std::string("namespace validation: ") + e.what());
    }
  }
  return ns;
}

Context MakeContext(std::string ns, std::string lease) {
  Context ctx;
  ctx.ns = std::move(ns);
  ctx.lease = std::move(lease);
  return ctx;
}

}  // namespace mcd
