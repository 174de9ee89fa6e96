#include "pkg/mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "pkg/errdefs.h"
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

}  // namespace

bool Mount::ReadOnly() const {
  return std::find(options.begin(), options.end(), "ro") != options.end();
}

void MountOne(const Mount& m, const std::string& target) {
  if (!m.target.empty()) throw errdefs::NotImplemented("mount target " + m.target);
  Parsed p = Parse(m.options);
  // The kernel bounds mount data to a page; containerd shortens long
  // overlay lowerdir lists with relative paths, which this does not do yet.
  if (p.data.size() >= static_cast<size_t>(::getpagesize())) {
    throw errdefs::InvalidArgument("mount options too long (" + std::to_string(p.data.size()) +
                                   " bytes) for " + m.type + " on " + target);
  }
  unsigned long flags = p.flags;
  const bool bind = (flags & MS_BIND) != 0;
  if (::mount(m.source.c_str(), target.c_str(), m.type.c_str(), flags,
              p.data.empty() ? nullptr : p.data.c_str()) != 0) {
    throw errdefs::FromErrno(errno, "mount " + m.source + " (" + m.type + ") on " + target);
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

void UnmountAllUnder(const std::string& prefix) {
  std::ifstream in("/proc/self/mountinfo");
  std::vector<std::string> points;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devs, root, point;
    fields >> id >> parent >> devs >> root >> point;
    if (point == prefix || point.rfind(prefix + "/", 0) == 0) points.push_back(point);
  }
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

TempMount::TempMount(const std::vector<Mount>& mounts, const std::string& parent_dir) {
  std::string base = parent_dir;
  if (base.empty()) {
    const char* t = std::getenv("TMPDIR");
    base = (t && *t) ? t : "/tmp";
  }
  std::string tmpl = base + "/containerd-mount.XXXXXX";
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
