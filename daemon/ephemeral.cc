#include "daemon/ephemeral.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>

#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "pkg/mount.h"

namespace mcd::daemon {

Ephemeral::Ephemeral() {
  char tmpl[] = "/tmp/minicontainerd-XXXXXX";
  if (!::mkdtemp(tmpl)) throw errdefs::FromErrno(errno, "mkdtemp");
  dir_ = tmpl;
  // Traversable, or user-namespaced containers cannot reach their rootfs.
  ::chmod(dir_.c_str(), 0711);
}

Ephemeral::~Ephemeral() {
  mount::UnmountAllUnder(dir_);
  try {
    fs::RemoveAll(dir_);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "minicontainerd: cleanup of %s: %s\n", dir_.c_str(), e.what());
  }
}

void Ephemeral::Announce(const std::string& address) const {
  std::printf("minicontainerd is ready\n  socket: %s\n  try:    ctr -a %s version\n",
              address.c_str(), address.c_str());
  std::fflush(stdout);
}

}  // namespace mcd::daemon
