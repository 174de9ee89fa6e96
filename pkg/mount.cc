#include "pkg/mount.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "pkg/log.h"

namespace mcd::mount {
namespace {

struct FlagOpt {
  bool clear;
  unsigned long flag;
};

// fstab option names that are mount flags rather than filesystem data.
const std::map<std::string, FlagOpt, std::less<>>& Flags() {
  static const std::map<std::string, FlagOpt, std::less<>> m = {
      {"async", {true, MS_SYNCHRONOUS}},
      {"atime", {true, MS_NOATIME}},
      {"bind", {false, MS_BIND}},
      {"defaults", {false, 0}},
      {"dev", {true, MS_NODEV}},
      {"diratime", {true, MS_NODIRATIME}},
      {"dirsync", {false, MS_DIRSYNC}},
      {"exec", {true, MS_NOEXEC}},
      {"mand", {false, MS_MANDLOCK}},
      {"noatime", {false, MS_NOATIME}},
      {"nodev", {false, MS_NODEV}},
      {"nodiratime", {false, MS_NODIRATIME}},
      {"noexec", {false, MS_NOEXEC}},
      {"nomand", {true, MS_MANDLOCK}},
      {"norelatime", {true, MS_RELATIME}},
      {"nostrictatime", {true, MS_STRICTATIME}},
      {"nosuid", {false, MS_NOSUID}},
      {"rbind", {false, MS_BIND | MS_REC}},
      {"relatime", {false, MS_RELATIME}},
      {"remount", {false, MS_REMOUNT}},
      {"ro", {false, MS_RDONLY}},
      {"rw", {true, MS_RDONLY}},
      {"strictatime", {false, MS_STRICTATIME}},
      {"suid", {true, MS_NOSUID}},
      {"sync", {false, MS_SYNCHRONOUS}},
  };
  return m;
}

const std::map<std::string, unsigned long, std::less<>>& Propagation() {
  static const std::map<std::string, unsigned long, std::less<>> m = {
      {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
      {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  return m;
}

struct Parsed {
  unsigned long flags = 0;
  unsigned long propagation = 0;
  std::string data;
};

Parsed Parse(const std::vector<std::string>& options) {
  Parsed p;
  for (const auto& o : options) {
    if (auto it = Flags().find(o); it != Flags().end()) {
      if (it->second.clear) {
        p.flags &= ~it->second.flag;
      } else {
        p.flags |= it->second.flag;
      }
    } else if (auto pit = Propagation().find(o); pit != Propagation().end()) {
      p.propagation |= pit->second;
    } else {
      if (!p.data.empty()) p.data += ',';
      p.data += o;
    }
  }
  return p;
}

// mount(2) with `dir` as the working directory, on a short-lived thread that
// stops sharing its filesystem attributes (unshare(CLONE_FS)) first: the
// daemon's own working directory never changes. Returns 0 or an errno.
int MountFromDir(const std::string& dir, const std::string& source, const std::string& target,
                 const std::string& type, unsigned long flags, const std::string& data) {
  int err = 0;
  std::thread t([&] {
    if (::unshare(CLONE_FS) != 0 || ::chdir(dir.c_str()) != 0) {
      err = errno;
      return;
    }
    if (::mount(source.c_str(), target.c_str(), type.c_str(), flags,
                data.empty() ? nullptr : data.c_str()) != 0) {
      err = errno;
    }
  });
  t.join();
  return err;
}

std::string Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char buf[PATH_MAX];
  if (::getcwd(buf, sizeof buf) == nullptr) throw errdefs::FromErrno(errno, "getcwd");
  return std::string(buf) + "/" + path;
}

}  // namespace

std::optional<Compacted> CompactLowerdirs(const std::vector<std::string>& options) {
  constexpr std::string_view kKey = "lowerdir=";
  auto it = std::find_if(options.begin(), options.end(),
                         [&](const std::string& o) { return o.starts_with(kKey); });
  if (it == options.end()) return std::nullopt;
  std::vector<std::string> dirs;
  std::istringstream in(it->substr(kKey.size()));
  for (std::string d; std::getline(in, d, ':');) {
    if (d.empty() || d[0] != '/') return std::nullopt;
    dirs.push_back(d);
  }
  if (dirs.empty()) return std::nullopt;
  // The longest common prefix, cut back to a '/' so that it names a proper
  // ancestor directory of every lowerdir ("/a/b" and "/a/b/c" give "/a").
  size_t common = dirs[0].size();
  for (const auto& d : dirs) {
    size_t i = 0;
    while (i < common && i < d.size() && d[i] == dirs[0][i]) ++i;
    common = i;
  }
  size_t slash = dirs[0].rfind('/', common - 1);  // every lowerdir starts with '/'
  for (const auto& d : dirs) {
    // A prefix ending right where a path ends ("/a/b" of "/a/b") is not an
    // ancestor of it: step back one more component.
    while (slash > 0 && d.size() <= slash + 1) slash = dirs[0].rfind('/', slash - 1);
  }
  Compacted c;
  c.dir = slash == 0 ? "/" : dirs[0].substr(0, slash);
  std::string lower(kKey);
  for (size_t i = 0; i < dirs.size(); ++i) {
    if (i) lower += ':';
    lower += dirs[i].substr(slash + 1);
  }
  c.options = options;
  c.options[static_cast<size_t>(it - options.begin())] = std::move(lower);
  return c;
}

bool Mount::ReadOnly() const {
  return std::find(options.begin(), options.end(), "ro") != options.end();
}

void MountOne(const Mount& m, const std::string& target) {
  if (!m.target.empty()) throw errdefs::NotImplemented("mount target " + m.target);
  Parsed p = Parse(m.options);
  // The kernel bounds mount data to a page (with its terminating NUL).
  const size_t page = static_cast<size_t>(::getpagesize());
  std::string from_dir;
  if (m.type == "overlay" && p.data.size() >= page) {
    if (auto c = CompactLowerdirs(m.options)) {
      p = Parse(c->options);
      from_dir = std::move(c->dir);
    }
  }
  if (p.data.size() >= page) {
    throw errdefs::InvalidArgument("mount options too long (" + std::to_string(p.data.size()) +
                                   " bytes) for " + m.type + " on " + target);
  }
  unsigned long flags = p.flags;
  const bool bind = (flags & MS_BIND) != 0;
  int err = 0;
  if (from_dir.empty()) {
    if (::mount(m.source.c_str(), target.c_str(), m.type.c_str(), flags,
                p.data.empty() ? nullptr : p.data.c_str()) != 0) {
      err = errno;
    }
  } else {
    err = MountFromDir(from_dir, m.source, Absolute(target), m.type, flags, p.data);
  }
  if (err != 0) {
    throw errdefs::FromErrno(err, "mount " + m.source + " (" + m.type + ") on " + target +
                                      (from_dir.empty() ? "" : " from " + from_dir));
  }
  auto undo = [&] { ::umount2(target.c_str(), MNT_DETACH); };
  if (bind && (flags & MS_RDONLY) && !(flags & MS_REMOUNT)) {
    // A bind mount ignores MS_RDONLY until remounted.
    unsigned long rf =
        MS_REMOUNT | MS_BIND | MS_RDONLY | (flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC));
    if (::mount("", target.c_str(), "", rf, nullptr) != 0) {
      int err = errno;
      undo();
      throw errdefs::FromErrno(err, "remount " + target + " read-only");
    }
  }
  if (p.propagation) {
    if (::mount("", target.c_str(), "", p.propagation, nullptr) != 0) {
      int err = errno;
      undo();
      throw errdefs::FromErrno(err, "change propagation of " + target);
    }
  }
}

void MountAll(const std::vector<Mount>& mounts, const std::string& target) {
  size_t done = 0;
  try {
    for (const auto& m : mounts) {
      MountOne(m, target);
      ++done;
    }
  } catch (...) {
    for (; done > 0; --done) ::umount2(target.c_str(), MNT_DETACH);
    throw;
  }
}

void Unmount(const std::string& target, int flags) {
  for (;;) {
    if (::umount2(target.c_str(), flags) == 0) return;
    if (errno == EINTR) continue;
    throw errdefs::FromErrno(errno, "unmount " + target);
  }
}

void UnmountAll(const std::string& target, int flags) {
  if (target.empty()) return;
  for (;;) {
    if (::umount2(target.c_str(), flags) == 0) continue;  // another may be stacked
    if (errno == EINTR) continue;
    if (errno == EINVAL || errno == ENOENT) return;  // not (or no longer) a mount point
    throw errdefs::FromErrno(errno, "unmount " + target);
  }
}

std::vector<std::string> MountPointsUnder(const std::string& prefix) {
  std::ifstream in("/proc/self/mountinfo");
  std::vector<std::string> points;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devs, root, point;
    fields >> id >> parent >> devs >> root >> point;
    if (point == prefix || point.rfind(prefix + "/", 0) == 0) points.push_back(point);
  }
  return points;
}

void UnmountAllUnder(const std::string& prefix) {
  auto points = MountPointsUnder(prefix);
  std::sort(points.begin(), points.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& p : points) ::umount2(p.c_str(), MNT_DETACH);
}

bool IsMountPoint(const std::string& path) {
  struct statx a, b;
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &a) != 0) {
    return false;
  }
#ifdef STATX_ATTR_MOUNT_ROOT
  if (a.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) {
    return (a.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
  }
#endif
  std::string parent = path + "/..";
  if (::statx(AT_FDCWD, parent.c_str(), 0, STATX_BASIC_STATS, &b) != 0) return false;
  return a.stx_dev_major != b.stx_dev_major || a.stx_dev_minor != b.stx_dev_minor ||
         a.stx_ino == b.stx_ino;
}

namespace {
// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto octal = [&](size_t j) { return s[j] >= '0' && s[j] <= '7'; };
    if (s[i] == '\\' && i + 3 < s.size() && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}
}  // namespace

std::optional<MountInfo> LookupIn(std::string_view mountinfo, const std::string& real_path) {
  std::optional<MountInfo> best;
  std::istringstream in{std::string(mountinfo)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devs, root, point, field;
    fields >> id >> parent >> devs >> root >> point;
    point = Unescape(point);
    bool above = point == "/" || real_path == point || real_path.rfind(point + "/", 0) == 0;
    if (!above || (best && point.size() < best->point.size())) continue;
    while (fields >> field && field != "-") {
    }
    MountInfo m{.point = point, .fstype = "", .source = ""};
    fields >> m.fstype >> m.source;
    m.source = Unescape(m.source);
    best = std::move(m);
  }
  return best;
}

MountInfo Lookup(const std::string& path) {
  std::error_code ec;
  auto real = std::filesystem::canonical(path, ec);
  if (ec) {
    throw errdefs::FromErrno(ec.value(), fmt::format("failed to resolve symlink for {:?}", path));
  }
  auto m = LookupIn(fs::ReadFile("/proc/self/mountinfo"), real.string());
  if (!m) throw errdefs::NotFound(fmt::format("failed to find the mount info for {:?}", path));
  return *m;
}

std::vector<std::string> CleanupTempMounts(const std::string& dir) {
  fs::MkdirAll(dir, 0700);
  std::vector<std::string> warnings;
  auto points = MountPointsUnder(dir);
  std::sort(points.begin(), points.end(), std::greater<>());
  for (const auto& p : points) {
    if (p == dir) continue;
    try {
      UnmountAll(p, 0);
    } catch (const std::exception& e) {
      warnings.push_back(e.what());
    }
  }
  // The directories (a crash may also come between mkdir and mount).
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (!e.is_directory() || IsMountPoint(e.path())) continue;
    if (::rmdir(e.path().c_str()) != 0)
      warnings.push_back("remove " + e.path().string() + ": " + std::strerror(errno));
  }
  return warnings;
}

TempMount::TempMount(const std::vector<Mount>& mounts, const std::string& parent_dir) {
  std::string base = parent_dir;
  if (base.empty()) {
    const char* t = std::getenv("TMPDIR");
    base = (t && *t) ? t : "/tmp";
  }
  std::string tmpl = base + "/containerd-mountXXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw errdefs::FromErrno(errno, "mkdtemp in " + base);
  path_ = tmpl;
  try {
    MountAll(mounts, path_);
    mounted_ = true;
  } catch (...) {
    ::rmdir(path_.c_str());
    throw;
  }
}

void TempMount::Release() {
  if (path_.empty()) return;
  if (mounted_) {
    UnmountAll(path_, 0);
    mounted_ = false;
  }
  if (::rmdir(path_.c_str()) != 0 && errno != ENOENT) {
    throw errdefs::FromErrno(errno, "remove " + path_);
  }
  path_.clear();
}

TempMount::~TempMount() {
  try {
    Release();
  } catch (const std::exception& e) {
    // Busy (a reader still inside): detach so nothing stays mounted.
    UnmountAll(path_, MNT_DETACH);
    ::rmdir(path_.c_str());
    log::Warn("temporary mount cleanup", {{"path", path_}, {"error", e.what()}});
  }
}

Mount FromProto(const containerd::types::Mount& m) {
  Mount r;
  r.type = m.type();
  r.source = m.source();
  r.target = m.target();
  r.options.assign(m.options().begin(), m.options().end());
  return r;
}

void ToProto(const Mount& m, containerd::types::Mount* out) {
  out->set_type(m.type);
  out->set_source(m.source);
  out->set_target(m.target);
  out->clear_options();
  for (const auto& o : m.options) out->add_options(o);
}

std::vector<Mount> FromProto(
    const google::protobuf::RepeatedPtrField<containerd::types::Mount>& ms) {
  std::vector<Mount> r;
  r.reserve(ms.size());
  for (const auto& m : ms) r.push_back(FromProto(m));
  return r;
}

void ToProto(const std::vector<Mount>& ms,
             google::protobuf::RepeatedPtrField<containerd::types::Mount>* out) {
  out->Clear();
  for (const auto& m : ms) ToProto(m, out->Add());
}

}  // namespace mcd::mount
