// io.containerd.snapshotter.v1 / btrfs: each snapshot is a btrfs subvolume
// in containerd's layout, <root>/active|view|snapshots/<id>. A snapshot
// with a parent is a btrfs snapshot of the parent's subvolume (read-only
// for a view), a commit is a read-only snapshot of the active one, and a
// mount is the root's device with the subvolume's id.
#include <btrfsutil.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <cstring>

#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "pkg/mount.h"
#include "snapshots/local.h"

namespace mcd::snapshots {
namespace {

void Check(btrfs_util_error err, const char* what, const std::string& path) {
  if (err == BTRFS_UTIL_OK) return;
  int e = errno;
  throw errdefs::FromErrno(e, fmt::format("{} {}: {}", what, path, btrfs_util_strerror(err)));
}

class Btrfs final : public LocalSnapshotter {
 public:
  Btrfs(std::string root, std::string device)
      : LocalSnapshotter("btrfs", std::move(root)), device_(std::move(device)) {}
  ~Btrfs() override { DrainRemovals(); }

 protected:
  std::string DirOf(const std::string& id, Kind kind) const override {
    const char* sub = kind == Kind::kActive ? "active" : kind == Kind::kView ? "view" : "snapshots";
    return fmt::format("{}/{}/{}", root(), sub, id);
  }
  std::vector<std::string> DirParents() const override {
    return {root() + "/active", root() + "/view", root() + "/snapshots"};
  }

  void MakeDir(const std::string& dir, const Resolved& s) override {
    RemoveDir(dir);  // a crash's leftover of this id, if any
    if (s.parent_ids.empty()) {
      Check(btrfs_util_create_subvolume(dir.c_str(), 0, nullptr, nullptr),
            "failed to create subvolume", dir);
      return;
    }
    int flags = s.kind == Kind::kView ? BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY : 0;
    Check(btrfs_util_create_snapshot(DirOf(s.parent_ids[0], Kind::kCommitted).c_str(), dir.c_str(),
                                     flags, nullptr, nullptr),
          "failed to snapshot into", dir);
  }

  void CommitDir(const std::string& from, const std::string& to) override {
    RemoveDir(to);  // a leftover, if any
    Check(btrfs_util_create_snapshot(from.c_str(), to.c_str(), BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY,
                                     nullptr, nullptr),
          "failed to snapshot into", to);
  }

  void RemoveDir(const std::string& dir) override {
    struct stat st;
    if (::lstat(dir.c_str(), &st) != 0) {
      if (errno == ENOENT) return;
      throw errdefs::FromErrno(errno, "lstat " + dir);
    }
    if (btrfs_util_is_subvolume(dir.c_str()) != BTRFS_UTIL_OK) return fs::RemoveAll(dir);
    // Recursive: a container may have made subvolumes of its own inside.
    Check(btrfs_util_delete_subvolume(dir.c_str(), BTRFS_UTIL_DELETE_SUBVOLUME_RECURSIVE),
          "failed to delete subvolume", dir);
  }

  std::string UsageDir(const std::string& id) const override { return DirOf(id, Kind::kActive); }
  // As containerd's: what the active subvolume changed over its parent.
  Usage ActiveUsage(const Resolved& s) const override {
    std::string dir = DirOf(s.id, Kind::kActive);
    if (s.parent_ids.empty()) return DiskUsage(dir);
    return DiffUsage(DirOf(s.parent_ids[0], Kind::kCommitted), dir);
  }

  std::vector<mount::Mount> MountsOf(const Resolved& s) const override {
    std::string dir = DirOf(s.id, s.kind);
    uint64_t id = 0;
    Check(btrfs_util_subvolume_id(dir.c_str(), &id), "failed to get subvolume id of", dir);
    std::vector<std::string> opts = {fmt::format("subvolid={}", id)};
    if (s.kind != Kind::kActive) opts.emplace_back("ro");
    return {mount::Mount("btrfs", device_, std::move(opts))};
  }
  const char* MountsErrorContext() const override { return "failed to get active snapshot"; }
  const char* CommitErrorContext() const override { return "failed to commit"; }

 private:
  std::string device_;  // the source of the root's btrfs mount
};

plugin::Registrar reg{{
    .type = plugin::kSnapshot,
    .id = "btrfs",
    .requires_ = {},
    .config = toml::table{{"root_path", ""}},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      ic.AddDefaultPlatform();
      std::string root = RootOf(ic);
      ic.exports()["root"] = root;
      // As containerd: the root is made (or mended) 0700 even where btrfs
      // is then found missing.
      struct stat st;
      if (::stat(root.c_str(), &st) != 0) {
        if (errno != ENOENT) throw errdefs::FromErrno(errno, "stat " + root);
        if (::mkdir(root.c_str(), 0700) != 0) throw errdefs::FromErrno(errno, "mkdir " + root);
      } else if ((st.st_mode & 07777) != 0700 && ::chmod(root.c_str(), 0700) != 0) {
        throw errdefs::FromErrno(errno, "chmod " + root);
      }
      auto m = mount::Lookup(root);
      if (m.fstype != "btrfs") {
        throw plugin::SkipPlugin(fmt::format(
            "path {} ({}) must be a btrfs filesystem to be used with the btrfs snapshotter", root,
            m.fstype));
      }
      for (const char* sub : {"/active", "/view", "/snapshots"}) {
        std::string dir = root + sub;
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
          throw errdefs::FromErrno(errno, "mkdir " + dir);
        }
      }
      return std::make_shared<Btrfs>(root, m.source);
    },
}};

}  // namespace
}  // namespace mcd::snapshots
