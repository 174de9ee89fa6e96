// io.containerd.snapshotter.v1 / overlayfs: each snapshot is <id>/fs (the
// layer or upper dir) and, when active, <id>/work; mounts as containerd's
// overlay snapshotter builds them.
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "snapshots/local.h"

namespace mcd::snapshots {
namespace {

class Overlay final : public LocalSnapshotter {
 public:
  explicit Overlay(std::string root)
      : LocalSnapshotter("overlayfs", std::move(root)),
        // containerd turns the index off whenever the kernel knows the option,
        // so lower layers can be shared by many mounts.
        index_off_(fs::Exists("/sys/module/overlay/parameters/index")) {}

 protected:
  void PrepareDir(const std::string& dir, const Resolved& s) override {
    std::string fsdir = dir + "/fs";
    if (::mkdir(fsdir.c_str(), 0755) != 0) throw errdefs::FromErrno(errno, "mkdir " + fsdir);
    if (s.kind == Kind::kActive) {
      std::string work = dir + "/work";
      if (::mkdir(work.c_str(), 0711) != 0) throw errdefs::FromErrno(errno, "mkdir " + work);
    }
    if (!s.parent_ids.empty()) {
      // The upper dir's root takes the owner of the layer below it.
      struct stat st;
      std::string pfs = Upper(s.parent_ids[0]);
      if (::stat(pfs.c_str(), &st) != 0) throw errdefs::FromErrno(errno, "failed to stat parent");
      if (::lchown(fsdir.c_str(), st.st_uid, st.st_gid) != 0) {
        throw errdefs::FromErrno(errno, "failed to chown");
      }
    }
  }
  std::string UsageDir(const std::string& id) const override { return Upper(id); }
  const char* MountsErrorContext() const override { return "failed to get active mount"; }

  std::vector<mount::Mount> MountsOf(const Resolved& s) const override {
    if (s.parent_ids.empty()) {
      // One layer: overlay would refuse a single lower dir, so bind it.
      return {mount::Mount("bind", Upper(s.id), {s.kind == Kind::kView ? "ro" : "rw", "rbind"})};
    }
    std::vector<std::string> opts;
    if (index_off_) opts.push_back("index=off");
    if (s.kind == Kind::kActive) {
      opts.push_back("workdir=" + SnapshotDir(s.id) + "/work");
      opts.push_back("upperdir=" + Upper(s.id));
    } else if (s.parent_ids.size() == 1) {
      return {mount::Mount("bind", Upper(s.parent_ids[0]), {"ro", "rbind"})};
    }
    std::string lower = "lowerdir=";
    for (size_t i = 0; i < s.parent_ids.size(); ++i) {
      if (i) lower += ':';
      lower += Upper(s.parent_ids[i]);
    }
    opts.push_back(std::move(lower));
    return {mount::Mount("overlay", "overlay", std::move(opts))};
  }

 private:
  std::string Upper(const std::string& id) const { return SnapshotDir(id) + "/fs"; }
  bool index_off_;
};

plugin::Registrar reg{{
    .type = plugin::kSnapshot,
    .id = "overlayfs",
    .requires_ = {},
    .config = toml::table{{"root_path", ""}, {"upperdir_label", false}},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      ic.AddDefaultPlatform();
      std::string root = RootOf(ic);
      // overlay must be known to the kernel (it may be a module not yet loaded).
      if (fs::ReadFile("/proc/filesystems").find("\toverlay\n") == std::string::npos &&
          !fs::Exists("/sys/module/overlay")) {
        throw plugin::SkipPlugin("overlayfs is not supported");
      }
      ic.exports()["root"] = root;
      return std::make_shared<Overlay>(root);
    },
}};

}  // namespace
}  // namespace mcd::snapshots
