#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <vector>

#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "snapshots/snapshotter.h"

namespace mcd::snapshots {
namespace {

class Counter {
 public:
  void Add(const struct stat& st) {
    if (seen_.emplace(st.st_dev, st.st_ino).second) {
      u_.size += static_cast<int64_t>(st.st_blocks) * 512;
    }
  }
  Usage Result() const { return Usage{u_.size, static_cast<int64_t>(seen_.size())}; }

 private:
  Usage u_;
  std::set<std::pair<dev_t, ino_t>> seen_;
};

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw errdefs::FromErrno(errno, "open " + dir);
  while (auto* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      out.emplace_back(e->d_name);
    }
  }
  ::closedir(d);
  return out;
}

std::optional<std::string> Xattr(const std::string& path, const char* name) {
  std::vector<char> v(256);
  ssize_t n = ::lgetxattr(path.c_str(), name, v.data(), v.size());
  if (n < 0 && errno == ERANGE) {
    n = ::lgetxattr(path.c_str(), name, nullptr, 0);
    if (n >= 0) {
      v.resize(static_cast<size_t>(n));
      n = ::lgetxattr(path.c_str(), name, v.data(), v.size());
    }
  }
  if (n < 0) return std::nullopt;  // absent, or a filesystem without xattrs
  return std::string(v.data(), static_cast<size_t>(n));
}

std::string ReadLink(const std::string& p) {
  std::error_code ec;
  return std::filesystem::read_symlink(p, ec).string();
}

// containerd's (continuity's) sameFile: the same inode, or equal mode,
// owner and device number and file capabilities, and for a non-directory
// the same size and modification time; when both times lack nanoseconds
// (an archive's), the contents decide.
bool SameFile(const std::string& ap, const struct stat& a, const std::string& bp,
              const struct stat& b) {
  if (a.st_dev == b.st_dev && a.st_ino == b.st_ino) return true;
  if (a.st_mode != b.st_mode || a.st_uid != b.st_uid || a.st_gid != b.st_gid ||
      a.st_rdev != b.st_rdev) {
    return false;
  }
  if (Xattr(ap, "security.capability") != Xattr(bp, "security.capability")) return false;
  if (S_ISDIR(a.st_mode)) return true;
  if (a.st_size != b.st_size || a.st_mtim.tv_sec != b.st_mtim.tv_sec) return false;
  if (a.st_mtim.tv_nsec == 0 && b.st_mtim.tv_nsec == 0) {
    if (S_ISLNK(a.st_mode)) return ReadLink(ap) == ReadLink(bp);
    return a.st_size == 0 || fs::SameContent(ap, bp);
  }
  return a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

// Counts what upper/rel has that lower/rel has not (lower_dir: whether the
// lower side is a directory at all).
void DiffWalk(const std::string& lower, const std::string& upper, bool lower_dir, Counter& count) {
  for (const auto& n : Names(upper)) {
    std::string up = upper + "/" + n, lp = lower + "/" + n;
    struct stat us, ls;
    if (::lstat(up.c_str(), &us) != 0) throw errdefs::FromErrno(errno, "lstat " + up);
    bool in_lower = lower_dir && ::lstat(lp.c_str(), &ls) == 0;
    if (!in_lower || !SameFile(lp, ls, up, us)) count.Add(us);
    if (S_ISDIR(us.st_mode)) DiffWalk(lp, up, in_lower && S_ISDIR(ls.st_mode), count);
  }
}

}  // namespace

Usage DiskUsage(const std::string& root) {
  Counter count;
  struct stat st;
  if (::lstat(root.c_str(), &st) == 0) count.Add(st);
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(root, std::filesystem::directory_options::none,
                                                   ec);
  if (ec) throw errdefs::FromErrno(ec.value(), "walk " + root);
  for (; it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) throw errdefs::FromErrno(ec.value(), "walk " + root);
    if (::lstat(it->path().c_str(), &st) == 0) count.Add(st);
  }
  return count.Result();
}

Usage DiffUsage(const std::string& lower, const std::string& upper) {
  Counter count;
  DiffWalk(lower, upper, true, count);
  return count.Result();
}

}  // namespace mcd::snapshots
