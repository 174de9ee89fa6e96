// Snapshots, layer apply and unpack with the real ctr: import unpacks,
// images mount, whiteouts on overlayfs and native, hostile layers, the
// snapshot commands and their errors (wording as containerd 1.6.20).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include "pkg/fs.h"
#include "pkg/mount.h"
#include "tests/integration/support/harness.h"
#include "tests/integration/support/image_builder.h"

namespace mcd::itest {
namespace {

namespace img = image;

class SnapshotsIT : public ::testing::Test {
 protected:
  void SetUp() override {
    Require("ctr");
    d_ = std::make_unique<Daemon>(tmp_.path());
    d_->Start();
  }
  void TearDown() override {
    for (const auto& m : mounts_) mount::UnmountAll(m, MNT_DETACH);
  }

  process::Result C(const std::vector<std::string>& args, const std::string& ns = "default") {
    return Ctr(*d_, args, ns);
  }
  std::string Ok(const std::vector<std::string>& args, const std::string& ns = "default") {
    auto r = C(args, ns);
    EXPECT_EQ(r.exit_code, 0) << "ctr " << args[0] << " " << (args.size() > 1 ? args[1] : "")
                              << "\nout: " << r.out << "\nerr: " << r.err << "\n"
                              << d_->Log();
    return r.out;
  }
  // The error line ctr prints ("ctr: ..."), trimmed.
  std::string Err(const std::vector<std::string>& args) {
    auto r = C(args);
    EXPECT_NE(r.exit_code, 0) << r.out;
    std::string e = r.err;
    while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
    return e;
  }
  std::string Import(const std::vector<img::Image>& images, std::vector<std::string> extra = {}) {
    std::string tar = tmp_.path() + "/image-" + std::to_string(n_++) + ".tar";
    img::WriteOciArchive(images, tar);
    std::vector<std::string> args = {"images", "import"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(tar);
    return Ok(args);
  }
  std::string MountPoint() {
    std::string p = tmp_.path() + "/mnt-" + std::to_string(n_++);
    fs::MkdirAll(p, 0711);
    mounts_.push_back(p);
    return p;
  }
  std::string SnapRoot(const std::string& sn = "overlayfs") {
    return d_->root() + "/io.containerd.snapshotter.v1." + sn + "/snapshots";
  }

  TempDir tmp_;
  std::unique_ptr<Daemon> d_;
  std::vector<std::string> mounts_;
  int n_ = 0;
};

// Every path under root with a short description, for exact tree checks.
[[maybe_unused]] std::map<std::string, std::string> Tree(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto it = std::filesystem::recursive_directory_iterator(root);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    std::string rel = it->path().string().substr(root.size() + 1);
    if (it->is_symlink()) {
      out[rel] = "-> " + std::filesystem::read_symlink(it->path()).string();
    } else if (it->is_directory()) {
      out[rel] = "dir";
    } else if (it->is_regular_file()) {
      out[rel] = fs::ReadFile(it->path().string());
    } else {
      out[rel] = "other";
    }
  }
  return out;
}

TEST_F(SnapshotsIT, SnapshotCommandsAndErrors) {
  std::string sroot = SnapRoot();
  EXPECT_EQ(Ok({"snapshots", "prepare", "k1"}), "");
  EXPECT_EQ(Err({"snapshots", "prepare", "k1"}), "ctr: snapshot \"k1\": already exists");
  EXPECT_EQ(Err({"snapshots", "prepare", "k2", "nope"}),
            "ctr: parent snapshot nope does not exist: not found");
  EXPECT_EQ(Ok({"snapshots", "mounts", "/tmp/x", "k1"}),
            "mount -t bind " + sroot + "/1/fs /tmp/x -o rw,rbind\n");
  { std::ofstream(sroot + "/1/fs/hello") << "world"; }
  Ok({"snapshots", "commit", "c1", "k1"});
  EXPECT_EQ(Err({"snapshots", "commit", "c1", "k1"}), "ctr: snapshot \"c1\": already exists");
  Ok({"snapshots", "prepare", "k2", "c1"});
  Ok({"snapshots", "view", "v1", "c1"});
  EXPECT_EQ(Ok({"snapshots", "mounts", "/tmp/x", "k2"}),
            "mount -t overlay overlay /tmp/x -o index=off,workdir=" + sroot +
                "/2/work,upperdir=" + sroot + "/2/fs,lowerdir=" + sroot + "/1/fs\n");
  EXPECT_EQ(Ok({"snapshots", "mounts", "/tmp/x", "v1"}),
            "mount -t bind " + sroot + "/1/fs /tmp/x -o ro,rbind\n");
  EXPECT_EQ(Err({"snapshots", "rm", "c1"}),
            "ctr: failed to remove \"c1\": cannot remove snapshot with child: failed precondition");
  EXPECT_EQ(Err({"snapshots", "rm", "nope"}),
            "ctr: failed to remove \"nope\": snapshot nope does not exist: not found");
  EXPECT_EQ(Err({"snapshots", "info", "nope"}), "ctr: snapshot nope does not exist: not found");
  EXPECT_EQ(Err({"snapshots", "--snapshotter", "foo", "ls"}),
            "ctr: snapshotter not loaded: foo: invalid argument");
  EXPECT_EQ(Err({"snapshots", "commit", "c2", "v1"}),
            "ctr: failed to commit snapshot: snapshot \"default/4/v1\" is not active: failed "
            "precondition");

  std::string info = Ok({"snapshots", "info", "c1"});
  EXPECT_NE(info.find("\"Kind\": \"Committed\""), std::string::npos) << info;
  EXPECT_NE(info.find("\"Name\": \"c1\""), std::string::npos) << info;
  EXPECT_NE(info.find("containerd.io/gc.root"), std::string::npos) << info;
  std::string labels = Ok({"snapshots", "label", "c1", "foo=bar"});
  EXPECT_NE(labels.find("foo=bar"), std::string::npos) << labels;
  EXPECT_NE(Ok({"snapshots", "info", "c1"}).find("\"foo\": \"bar\""), std::string::npos);

  std::string usage = Ok({"snapshots", "usage", "c1"});
  EXPECT_NE(usage.find("c1"), std::string::npos);
  EXPECT_NE(usage.find(" 2 "), std::string::npos) << usage;  // the dir and hello
  std::string ls = Ok({"snapshots", "ls"});
  EXPECT_NE(ls.find("k2  c1     Active"), std::string::npos) << ls;
  EXPECT_NE(ls.find("v1  c1     View"), std::string::npos) << ls;
  std::string tree = Ok({"snapshots", "tree"});
  EXPECT_EQ(tree, " c1\n  \\_ k2\n  \\_ v1\n");

  // Names are per namespace: the same key elsewhere is another snapshot.
  Ok({"snapshots", "prepare", "k1"}, "other");
  EXPECT_EQ(Ok({"snapshots", "ls"}, "other").find("c1"), std::string::npos);

  Ok({"snapshots", "rm", "v1"});
  Ok({"snapshots", "rm", "k2"});
  Ok({"snapshots", "rm", "c1"});
  EXPECT_FALSE(fs::Exists(sroot + "/1"));
  EXPECT_FALSE(fs::Exists(sroot + "/2"));
}

TEST_F(SnapshotsIT, DiffOfASnapshot) {
  std::string sroot = SnapRoot();
  Ok({"snapshots", "prepare", "base-a"});
  { std::ofstream(sroot + "/1/fs/gone") << "g"; }
  { std::ofstream(sroot + "/1/fs/kept") << "k"; }
  Ok({"snapshots", "commit", "base", "base-a"});
  Ok({"snapshots", "prepare", "top", "base"});
  std::string mnt = MountPoint();
  auto r = C({"snapshots", "mounts", mnt, "top"});
  ASSERT_EQ(r.exit_code, 0);
  ASSERT_EQ(Sh({"sh", "-c", r.out}).exit_code, 0);
  { std::ofstream(mnt + "/added") << "a"; }
  ASSERT_EQ(::unlink((mnt + "/gone").c_str()), 0);
  mount::UnmountAll(mnt);
  std::string layer = tmp_.path() + "/diff.tgz";
  auto d = C({"snapshots", "diff", "top"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  { std::ofstream(layer) << d.out; }
  auto t = Sh({"tar", "-tzvf", layer});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("added"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find(".wh.gone"), std::string::npos) << t.out;
  EXPECT_EQ(t.out.find("kept"), std::string::npos) << t.out;
}

}  // namespace
}  // namespace mcd::itest
