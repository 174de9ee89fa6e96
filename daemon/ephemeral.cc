#include "daemon/ephemeral.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "pkg/errdefs.h"
#include "pkg/fs.h"

namespace mcd::daemon {

Ephemeral::Ephemeral() {
  char tmpl[] = "/tmp/minicontainerd-XXXXXX";
  if (!::mkdtemp(tmpl)) throw errdefs::FromErrno(errno, "mkdtemp");
  dir_ = tmpl;
  // Traversable, or user-namespaced containers cannot reach their rootfs.
  ::chmod(dir_.c_str(), 0711);
}

Ephemeral::~Ephemeral() {
  UnmountAllUnder(dir_);
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

void UnmountAllUnder(const std::string& prefix) {
  std::ifstream in("/proc/self/mountinfo");
  std::vector<std::string> points;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string id, parent, devs, root, point;
    ls >> id >> parent >> devs >> root >> point;
    if (point == prefix || point.rfind(prefix + "/", 0) == 0) points.push_back(point);
  }
  std::sort(points.begin(), points.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& p : points) ::umount2(p.c_str(), MNT_DETACH);
}

}  // namespace mcd::daemon
