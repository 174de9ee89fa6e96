#include "snapshots/copy.h"

#include "pkg/errdefs.h"
#include "pkg/process.h"

namespace mcd::snapshots {

void CopyDir(const std::string& src, const std::string& dst) {
  process::Options o;
  o.argv = {"cp", "-a", "--reflink=auto", "--", src + "/.", dst};
  auto r = process::Run(o);
  if (r.exit_code != 0) {
    throw errdefs::Unknown("copying of parent failed: " + r.err);
  }
}

}  // namespace mcd::snapshots
