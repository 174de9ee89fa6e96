// The btrfs snapshotter on a real btrfs (a loop-mounted image): containerd's
// layout and mounts, commits as read-only snapshots, usage of what an active
// subvolume changed, removal of every subvolume (nested ones too), and the
// skip on any other filesystem; DiffUsage's notion of a change.
#include <btrfsutil.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "pkg/mount.h"
#include "pkg/process.h"
#include "plugins/plugin.h"
#include "snapshots/snapshotter.h"

namespace mcd::snapshots {
namespace {

void Must(const std::vector<std::string>& argv) {
  process::Options o;
  o.argv = argv;
  o.merge_stderr = true;
  auto r = process::Run(o);
  ASSERT_EQ(r.exit_code, 0) << argv[0] << ": " << r.out;
}

// A fresh btrfs mounted at <tmp>/mnt for one test. The loop device goes
// with the unmount (mount -o loop sets autoclear).
class BtrfsMount {
 public:
  BtrfsMount() {
    std::string img = dir_.path() + "/img";
    mnt_ = dir_.path() + "/mnt";
    ::close(::open(img.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    EXPECT_EQ(::truncate(img.c_str(), 256 << 20), 0);
    Must({"mkfs.btrfs", "-q", "-f", img});
    fs::MkdirAll(mnt_, 0755);
    Must({"mount", "-o", "loop", img, mnt_});
  }
  ~BtrfsMount() {
    if (::umount2(mnt_.c_str(), 0) != 0) ::umount2(mnt_.c_str(), MNT_DETACH);
  }
  const std::string& path() const { return mnt_; }

 private:
  fs::TempDir dir_{"mcd-btrfs-"};
  std::string mnt_;
};

std::shared_ptr<Snapshotter> Open(const std::string& root, std::string* skipped = nullptr) {
  for (const auto& r : plugin::Registry::Global().All()) {
    if (r.type != plugin::kSnapshot || r.id != "btrfs") continue;
    plugin::DaemonInfo di;
    di.root = root;
    plugin::Set set;
    plugin::Loaded self;
    self.reg = &r;
    toml::table cfg = r.config;
    plugin::InitContext ic(r, di, cfg, nullptr, set, self);
    ic.root = root + "/io.containerd.snapshotter.v1.btrfs";
    try {
      auto sn = std::dynamic_pointer_cast<Snapshotter>(r.init(ic));
      EXPECT_EQ(self.exports["root"], ic.root);
      return sn;
    } catch (const plugin::SkipPlugin& e) {
      if (skipped) *skipped = e.what();
      EXPECT_EQ(self.exports["root"], ic.root);
      return nullptr;
    }
  }
  ADD_FAILURE() << "no btrfs snapshotter registered";
  return nullptr;
}

void WriteFile(const std::string& p, const std::string& data) {
  std::ofstream(p) << data;
}

errdefs::Code CodeOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return errdefs::CodeOf(e);
  }
  return errdefs::Code::kOk;
}

bool IsSubvolume(const std::string& p) {
  return btrfs_util_is_subvolume(p.c_str()) == BTRFS_UTIL_OK;
}

bool ReadOnly(const std::string& p) {
  bool ro = false;
  return btrfs_util_get_subvolume_read_only(p.c_str(), &ro) == BTRFS_UTIL_OK && ro;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(BtrfsSnapshotter, SkipsAnyOtherFilesystemAsContainerd) {
  fs::TempDir d("mcd-btrfs-");
  std::string why;
  EXPECT_EQ(Open(d.path(), &why), nullptr);
  std::string root = d.path() + "/io.containerd.snapshotter.v1.btrfs";
  struct stat st;
  ASSERT_EQ(::stat(root.c_str(), &st), 0);  // made all the same, 0700
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  auto fstype = mount::Lookup(root).fstype;
  EXPECT_EQ(why, "path " + root + " (" + fstype +
                     ") must be a btrfs filesystem to be used with the btrfs snapshotter");
}

TEST(BtrfsSnapshotter, SubvolumesInContainerdsLayout) {
  BtrfsMount fs;
  auto sn = Open(fs.path());
  ASSERT_TRUE(sn);
  std::string root = fs.path() + "/io.containerd.snapshotter.v1.btrfs";
  std::string device = mount::Lookup(fs.path()).source;
  EXPECT_EQ(device.rfind("/dev/loop", 0), 0u) << device;

  // A snapshot without a parent is a new subvolume, mounted by its id.
  auto m = sn->Prepare("l1", "", {});
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].type, "btrfs");
  EXPECT_EQ(m[0].source, device);
  uint64_t id = 0;
  ASSERT_EQ(btrfs_util_subvolume_id((root + "/active/1").c_str(), &id), BTRFS_UTIL_OK);
  EXPECT_EQ(m[0].options, std::vector<std::string>{"subvolid=" + std::to_string(id)});
  EXPECT_TRUE(IsSubvolume(root + "/active/1"));
  {
    mount::TempMount tm(m);
    WriteFile(tm.path() + "/base", "b");
    fs::MkdirAll(tm.path() + "/dir", 0755);
  }
  auto u = sn->GetUsage("l1");
  EXPECT_EQ(u.inodes, 3);  // the root, the file and the directory

  // Commit: a read-only snapshot under snapshots/, the active one goes.
  sn->Commit("c1", "l1", {});
  EXPECT_TRUE(IsSubvolume(root + "/snapshots/1"));
  EXPECT_TRUE(ReadOnly(root + "/snapshots/1"));
  EXPECT_EQ(sn->GetUsage("c1").inodes, 3);
  EXPECT_EQ(CodeOf([&] { sn->Mounts("c1"); }), errdefs::Code::kFailedPrecondition);

  // A child is a writable snapshot of its parent; only its changes count.
  auto m2 = sn->Prepare("l2", "c1", {});
  EXPECT_TRUE(IsSubvolume(root + "/active/2"));
  EXPECT_FALSE(ReadOnly(root + "/active/2"));
  EXPECT_EQ(sn->GetUsage("l2").inodes, 0);
  {
    mount::TempMount tm(m2);
    EXPECT_EQ(fs::ReadFile(tm.path() + "/base"), "b");
    WriteFile(tm.path() + "/added", "a");
    ::unlink((tm.path() + "/base").c_str());
  }
  EXPECT_EQ(sn->GetUsage("l2").inodes, 1);  // the added file; a removal counts nothing

  // A view is a read-only snapshot under view/, mounted "ro".
  auto v = sn->View("v", "c1", {});
  ASSERT_EQ(v.size(), 1u);
  ASSERT_EQ(v[0].options.size(), 2u);
  EXPECT_EQ(v[0].options[1], "ro");
  EXPECT_TRUE(ReadOnly(root + "/view/3"));
  {
    mount::TempMount tm(v);
    EXPECT_EQ(fs::ReadFile(tm.path() + "/base"), "b");
    int fd = ::open((tm.path() + "/nope").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    EXPECT_LT(fd, 0);
    EXPECT_EQ(errno, EROFS);
  }
  EXPECT_EQ(CodeOf([&] { sn->Commit("vc", "v", {}); }), errdefs::Code::kFailedPrecondition);
  EXPECT_EQ(CodeOf([&] { sn->Remove("c1"); }), errdefs::Code::kFailedPrecondition);

  sn->Commit("c2", "l2", {});
  sn->Cleanup();  // waits for the background removals
  EXPECT_EQ(Entries(root + "/active"), std::vector<std::string>{});
  EXPECT_EQ(Entries(root + "/snapshots"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(sn->GetUsage("c2").inodes, 1);

  for (const char* k : {"v", "c2", "c1"}) sn->Remove(k);
  sn->Cleanup();
  for (const char* sub : {"/active", "/view", "/snapshots"}) {
    EXPECT_EQ(Entries(root + sub), std::vector<std::string>{}) << sub;
  }
  sn->Close();
}

// What a crash leaves (a subvolume no record owns, a plain directory, one
// with a subvolume of its own made inside by a container) is removed by
// Cleanup, and a subvolume in the next snapshot's place is replaced.
TEST(BtrfsSnapshotter, CleanupRemovesOrphansAndNestedSubvolumes) {
  BtrfsMount fs;
  std::string root = fs.path() + "/io.containerd.snapshotter.v1.btrfs";
  {
    auto sn = Open(fs.path());
    ASSERT_TRUE(sn);
    sn->Prepare("kept", "", {});
    sn->Close();
  }
  ASSERT_EQ(btrfs_util_create_subvolume((root + "/active/2").c_str(), 0, nullptr, nullptr),
            BTRFS_UTIL_OK);
  WriteFile(root + "/active/2/stale", "x");
  ASSERT_EQ(btrfs_util_create_subvolume((root + "/active/9").c_str(), 0, nullptr, nullptr),
            BTRFS_UTIL_OK);
  ASSERT_EQ(btrfs_util_create_subvolume((root + "/active/9/nested").c_str(), 0, nullptr, nullptr),
            BTRFS_UTIL_OK);
  fs::MkdirAll(root + "/snapshots/rm-7/d", 0755);

  auto sn = Open(fs.path());
  ASSERT_TRUE(sn);
  auto m = sn->Prepare("next", "", {});  // id 2: the stale subvolume is replaced
  {
    mount::TempMount tm(m);
    EXPECT_FALSE(fs::Exists(tm.path() + "/stale"));
  }
  sn->Cleanup();
  EXPECT_EQ(Entries(root + "/active"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(Entries(root + "/snapshots"), std::vector<std::string>{});
  sn->Close();
}

TEST(DiffUsage, CountsWhatTheUpperTreeAddsOrChangesAsContainerd) {
  fs::TempDir d("mcd-btrfs-");
  std::string lo = d.path() + "/lower", up = d.path() + "/upper";
  for (const auto& r : {lo, up}) {
    fs::MkdirAll(r + "/same", 0755);
    fs::MkdirAll(r + "/dir", 0755);
    WriteFile(r + "/same/f", "unchanged");
    WriteFile(r + "/changed", r == lo ? "one" : "two");
  }
  WriteFile(lo + "/gone", "x");
  WriteFile(up + "/dir/new", "n");
  ::link((up + "/dir/new").c_str(), (up + "/dir/new2").c_str());
  // Same size and time (without nanoseconds, as from an archive): the
  // contents decide. A directory's time alone is no change.
  struct timespec t[2] = {{1000, 0}, {1000, 0}};
  for (const auto& r : {lo, up}) {
    ASSERT_EQ(::utimensat(AT_FDCWD, (r + "/changed").c_str(), t, 0), 0);
    ASSERT_EQ(::utimensat(AT_FDCWD, (r + "/same/f").c_str(), t, 0), 0);
  }
  struct timespec later[2] = {{2000, 5}, {2000, 5}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (up + "/same").c_str(), later, 0), 0);
  auto u = DiffUsage(lo, up);
  EXPECT_EQ(u.inodes, 2);  // "changed" and the two names of "dir/new"
  struct stat a, b;
  ASSERT_EQ(::lstat((up + "/changed").c_str(), &a), 0);
  ASSERT_EQ(::lstat((up + "/dir/new").c_str(), &b), 0);
  EXPECT_EQ(u.size, (a.st_blocks + b.st_blocks) * 512);
  // A mode change is a change.
  ::chmod((up + "/same/f").c_str(), 0600);
  EXPECT_EQ(DiffUsage(lo, up).inodes, 3);
  // Against nothing below, everything counts but the root.
  EXPECT_EQ(DiffUsage(d.path() + "/none", up).inodes, DiskUsage(up).inodes - 1);
}

}  // namespace
}  // namespace mcd::snapshots
