// io.containerd.snapshotter.v1 / native: each snapshot is a full copy of its
// parent at <root>/snapshots/<id>, bind mounted.
#include <sys/stat.h>

#include "pkg/errdefs.h"
#include "pkg/process.h"
#include "snapshots/copy.h"
#include "snapshots/local.h"

namespace mcd::snapshots {
namespace {

class Native final : public LocalSnapshotter {
 public:
  explicit Native(std::string root) : LocalSnapshotter("native", std::move(root)) {}

 protected:
  bool HasDir(const Resolved& s) const override {
    return s.kind == Kind::kActive || s.parent_ids.empty();
  }
  void PrepareDir(const std::string& dir, const Resolved& s) override {
    if (::chmod(dir.c_str(), 0755) != 0) throw errdefs::FromErrno(errno, "chmod " + dir);
    if (s.kind == Kind::kActive && !s.parent_ids.empty()) {
      CopyDir(SnapshotDir(s.parent_ids[0]), dir);
    }
  }
  std::string UsageDir(const std::string& id) const override { return SnapshotDir(id); }
  const char* MountsErrorContext() const override { return "failed to get snapshot mount"; }

  std::vector<mount::Mount> MountsOf(const Resolved& s) const override {
    // A view of a committed parent reads the parent's directory itself.
    std::string source = (s.parent_ids.empty() || s.kind == Kind::kActive)
                             ? SnapshotDir(s.id)
                             : SnapshotDir(s.parent_ids[0]);
    // containerd's native order: its default options, then the access flag
    // (overlayfs puts the flag first).
    return {mount::Mount("bind", source, {"rbind", s.kind == Kind::kView ? "ro" : "rw"})};
  }
};

plugin::Registrar reg{{
    .type = plugin::kSnapshot,
    .id = "native",
    .requires_ = {},
    .config = toml::table{{"root_path", ""}},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      ic.AddDefaultPlatform();
      std::string root = RootOf(ic);
      return std::make_shared<Native>(root);
    },
}};

}  // namespace
}  // namespace mcd::snapshots
