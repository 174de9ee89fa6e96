#include "runtime/v2/bundle.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <vector>

#include "pkg/errdefs.h"
#include "pkg/fd.h"
#include "pkg/fs.h"
#include "pkg/identifiers.h"

namespace mcd::runtime {
namespace {

std::string Dir(const std::string& p) {
  return p.substr(0, p.rfind('/'));
}
std::string Base(const std::string& p) {
  return p.substr(p.rfind('/') + 1);
}

void Mkdir(const std::string& p, mode_t mode) {
  if (::mkdir(p.c_str(), mode) != 0) throw errdefs::FromErrno(errno, "mkdir " + p);
  // mkdir is subject to the umask; the modes here are part of the contract.
  if (::chmod(p.c_str(), mode) != 0) throw errdefs::FromErrno(errno, "chmod " + p);
}

// Renames to a unique ".<name>.<n>" (a previous delete of the same id may
// still be removing its own hidden tree) so a crash mid-way leaves a hidden
// dir that the start-up walk removes instead of a half bundle. Returns the
// hidden path, empty when `path` did not exist.
std::string Hide(const std::string& path) {
  static std::atomic<uint64_t> seq{0};
  std::string hidden = Dir(path) + "/." + Base(path) + "." + std::to_string(++seq);
  if (::rename(path.c_str(), hidden.c_str()) != 0) {
    if (errno == ENOENT) return "";
    throw errdefs::FromErrno(errno, "rename " + path);
  }
  return hidden;
}

}  // namespace

void WriteFile(const std::string& path, std::string_view data, int mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd) throw errdefs::FromErrno(errno, "open " + path);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw errdefs::FromErrno(errno, "write " + path);
    off += static_cast<size_t>(n);
  }
}

unsigned RemappedRootGid(const std::string& spec) {
  auto j = nlohmann::json::parse(spec, nullptr, false);
  if (j.is_discarded()) throw errdefs::InvalidArgument("spec is not valid JSON");
  if (!j.is_object() || !j.contains("linux") || !j["linux"].is_object()) return 0;
  const auto& l = j["linux"];
  if (!l.contains("gidMappings") || !l["gidMappings"].is_array()) return 0;
  for (const auto& m : l["gidMappings"]) {
    if (m.is_object() && m.value("containerID", 1u) == 0) return m.value("hostID", 0u);
  }
  return 0;
}

void UnmountAll(const std::string& target) {
  // Each call removes the top mount; EINVAL means nothing is mounted there.
  for (int i = 0; i < 1024; ++i) {
    if (::umount2(target.c_str(), MNT_DETACH) == 0) continue;
    if (errno == EINVAL || errno == ENOENT) return;
    if (errno == EINTR) continue;
    throw errdefs::FromErrno(errno, "unmount " + target);
  }
  throw errdefs::Internal("unmount " + target + ": too many stacked mounts");
}

Bundle Bundle::Create(const std::string& root, const std::string& state, const std::string& ns,
                      const std::string& id, const std::string& spec) {
  try {
    identifiers::Validate(id);
  } catch (const errdefs::Error& e) {
    throw errdefs::Error(e.code(), "invalid task id " + id + ": " + e.what());
  }
  identifiers::Validate(ns);
  Bundle b = Load(state, ns, id);
  std::string work = root + "/" + ns + "/" + id;
  std::vector<std::string> created;
  try {
    fs::MkdirAll(state + "/" + ns, 0711);
    Mkdir(b.path_, 0700);
    created.push_back(b.path_);
    if (unsigned gid = RemappedRootGid(spec); gid != 0) {
      // The remapped container root must traverse the bundle to reach rootfs.
      if (::chown(b.path_.c_str(), -1, gid) != 0) throw errdefs::FromErrno(errno, "chown bundle");
      if (::chmod(b.path_.c_str(), 0710) != 0) throw errdefs::FromErrno(errno, "chmod bundle");
    }
    fs::MkdirAll(root + "/" + ns, 0711);
    Mkdir(b.File("rootfs"), 0711);
    // A work dir left by an earlier task of the same id is stale: start anew.
    if (::mkdir(work.c_str(), 0711) != 0) {
      if (errno != EEXIST) throw errdefs::FromErrno(errno, "mkdir " + work);
      fs::RemoveAll(work);
      Mkdir(work, 0711);
    } else if (::chmod(work.c_str(), 0711) != 0) {
      throw errdefs::FromErrno(errno, "chmod " + work);
    }
    created.push_back(work);
    if (::symlink(work.c_str(), b.File("work").c_str()) != 0)
      throw errdefs::FromErrno(errno, "symlink work");
    WriteFile(b.File("config.json"), spec, 0666);
  } catch (...) {
    for (const auto& p : created) fs::RemoveAll(p);
    throw;
  }
  return b;
}

Bundle Bundle::Load(const std::string& state, const std::string& ns, const std::string& id) {
  Bundle b;
  b.id_ = id;
  b.ns_ = ns;
  b.path_ = state + "/" + ns + "/" + id;
  return b;
}

Bundle::Retired Bundle::Retire() const {
  char buf[4096];
  ssize_t n = ::readlink(File("work").c_str(), buf, sizeof buf);
  std::string work = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  std::string rootfs = File("rootfs");
  UnmountAll(rootfs);
  // Still a mount point (EBUSY): stop before anything below it is removed.
  if (::rmdir(rootfs.c_str()) != 0 && errno != ENOENT)
    throw errdefs::FromErrno(errno, "failed to remove bundle rootfs");
  Retired r;
  r.bundle = Hide(path_);
  if (!work.empty()) r.work = Hide(work);
  return r;
}

void Bundle::Retired::Remove() const {
  if (!bundle.empty()) fs::RemoveAll(bundle);
  if (!work.empty()) fs::RemoveAll(work);
}

void Bundle::Delete() const {
  Retire().Remove();
}

std::vector<std::string> SubDirs(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::lstat((dir + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) out.push_back(name);
  }
  ::closedir(d);
  return out;
}

}  // namespace mcd::runtime
