#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>

#include "pkg/errdefs.h"
#include "snapshots/snapshotter.h"

namespace mcd::snapshots {

Usage DiskUsage(const std::string& root) {
  Usage u;
  std::set<std::pair<dev_t, ino_t>> seen;
  auto add = [&](const std::string& p) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) return;
    if (seen.emplace(st.st_dev, st.st_ino).second)
      u.size += static_cast<int64_t>(st.st_blocks) * 512;
  };
  add(root);
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(root, std::filesystem::directory_options::none,
                                                   ec);
  if (ec) throw errdefs::FromErrno(ec.value(), "walk " + root);
  for (; it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) throw errdefs::FromErrno(ec.value(), "walk " + root);
    add(it->path().string());
  }
  u.inodes = static_cast<int64_t>(seen.size());
  return u;
}

}  // namespace mcd::snapshots
