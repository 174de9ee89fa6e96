// The btrfs snapshotter through the real ctr, beside containerd 1.6.20 on the
// same btrfs: the same answers to the same snapshot commands (mounts by
// subvolume id, usage of what an active snapshot changed, the refusals), a
// container run on it, and no subvolume left once the image is gone.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <sstream>

#include "pkg/fs.h"
#include "tests/integration/support/harness.h"
#include "tests/integration/support/image_builder.h"

namespace mcd::itest {
namespace {

const char* kImage = "docker.io/library/busybox:latest";
// A namespace of this test's own: containerd leaves the runc root and the
// cgroups it makes for a namespace, which the test then removes.
const char* kNs = "mcdbtrfs";

// The commands' outputs, with what differs between two daemons by nature
// (subvolume ids, times, the key of a committed snapshot's backend) evened out.
std::string Session(const Daemon& d, const std::string& tar) {
  std::string log;
  auto run = [&](std::vector<std::string> args) {
    auto r = Ctr(d, args, kNs);
    log += "## " + args[0] + " " + (args.size() > 3 ? args[3] : "") + "\n" + r.out + r.err +
           "exit " + std::to_string(r.exit_code) + "\n";
    return r;
  };
  auto snap = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"snapshots", "--snapshotter", "btrfs"});
    return run(args);
  };
  run({"images", "import", "--snapshotter", "btrfs", tar});
  run({"run", "--rm", "--snapshotter", "btrfs", kImage, "c1", "sh", "-c", "echo hi > /f; cat /f"});
  auto ls = Ctr(d, {"snapshots", "--snapshotter", "btrfs", "ls"}, kNs);
  std::istringstream rows(ls.out);
  std::string layer;
  std::getline(rows, layer);  // the header
  rows >> layer;
  snap({"prepare", "a1", layer});
  snap({"mounts", "/m", "a1"});
  // ctr gives a view no gc.root label: one made after a synchronous
  // collection and labelled before any deletion lives on either daemon.
  EXPECT_EQ(Ctr(d, {"leases", "create", "--id", "l"}, kNs).exit_code, 0);
  EXPECT_EQ(Ctr(d, {"leases", "rm", "--sync", "l"}, kNs).exit_code, 0);
  snap({"view", "v1", layer});
  snap({"label", "v1", "containerd.io/gc.root=kept"});
  snap({"mounts", "/m", "v1"});
  snap({"mounts", "/m", layer});
  snap({"prepare", "a0"});
  snap({"usage"});
  // Changes in a1: one file added, one removed.
  TempDir m;
  auto mounts = Ctr(d, {"snapshots", "--snapshotter", "btrfs", "mounts", m.path(), "a1"}, kNs);
  EXPECT_EQ(Sh({"sh", "-c", mounts.out}).exit_code, 0) << mounts.out;
  fs::WriteFileAtomic(m.path() + "/added", std::string(10000, 'x'));
  std::filesystem::remove(m.path() + "/bin/ls");
  EXPECT_EQ(Sh({"umount", m.path()}).exit_code, 0);
  snap({"usage", "a1"});
  snap({"commit", "c1", "a1"});
  snap({"usage", "c1"});
  snap({"commit", "c2", "v1"});
  snap({"rm", layer});
  snap({"prepare", "a2", "c1"});
  snap({"tree"});
  for (const char* k : {"a2", "c1", "v1", "a0"}) snap({"rm", k});
  snap({"prepare", "x", "missing"});
  snap({"ls"});
  run({"images", "rm", "--sync", kImage});
  snap({"ls"});
  static const std::regex ids(R"(subvolid=\d+|"\S+/\d+/)");
  return std::regex_replace(log, ids, "<id>");
}

std::vector<std::string> Subvolumes(const std::string& root) {
  std::vector<std::string> out;
  for (const char* sub : {"/active", "/view", "/snapshots"}) {
    for (const auto& e : std::filesystem::directory_iterator(root + sub)) {
      out.push_back(e.path().string());
    }
  }
  return out;
}

TEST(BtrfsSnapshotter, CtrSeesWhatContainerdShows) {
  Require("ctr");
  Require("containerd");
  TempDir dir;
  const std::string tar = dir.path() + "/busybox.tar";
  image::WriteOciArchive({image::Busybox(kImage)}, tar);
  const std::string mnt = MountBtrfs(dir.path());
  std::string outputs[2];
  for (int i = 0; i < 2; ++i) {
    const std::string d_dir = mnt + (i ? "/rc" : "/mc");
    fs::MkdirAll(d_dir, 0711);
    Daemon::Options o;
    if (i) {
      o.binary = "containerd";
      o.config_toml = "version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n";
    }
    Daemon d(d_dir, o);
    d.Start();
    outputs[i] = Session(d, tar);
    EXPECT_EQ(d.Stop(), 0);
    if (i == 0) {
      // Ours removes what the collection let go by the time it stops.
      EXPECT_EQ(Subvolumes(d.root() + "/io.containerd.snapshotter.v1.btrfs"),
                std::vector<std::string>{});
    }
  }
  std::error_code ec;
  std::filesystem::remove(std::string("/run/containerd/runc/") + kNs, ec);
  for (const auto& h : std::filesystem::directory_iterator("/sys/fs/cgroup", ec)) {
    std::filesystem::remove(h.path() / kNs, ec);  // an empty cgroup goes with rmdir
  }
  std::filesystem::remove(std::string("/sys/fs/cgroup/") + kNs, ec);
  EXPECT_NE(outputs[0].find("hi\n"), std::string::npos) << outputs[0];
  EXPECT_NE(outputs[0].find("mount -t btrfs /dev/loop"), std::string::npos) << outputs[0];
  EXPECT_EQ(outputs[0], outputs[1]);
}

}  // namespace
}  // namespace mcd::itest
