// The daemon's [cgroup] path: the cgroup made in every v1 hierarchy (cpuset
// levels given their parent's cpus and mems first) or the unified one, and
// the pid written to cgroup.procs. Run against a fake mountinfo and plain
// directories standing in for the cgroup mounts.
#include "daemon/cgroup.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "pkg/errdefs.h"
#include "pkg/fs.h"

namespace mcd::daemon {
namespace {

struct Tmp {
  std::string path;
  Tmp() {
    char t[] = "/tmp/mcd-cgroup-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~Tmp() { std::filesystem::remove_all(path); }
};

std::string Mount(const std::string& at, const std::string& fstype, const std::string& super) {
  return "35 30 0:32 / " + at + " rw,relatime shared:1 - " + fstype + " " + fstype + " " + super +
         "\n";
}

TEST(Cgroup, JoinsEveryV1Hierarchy) {
  Tmp t;
  const std::string cpuset = t.path + "/cpuset", memory = t.path + "/memory";
  fs::MkdirAll(cpuset, 0755);
  fs::MkdirAll(memory, 0755);
  fs::WriteFileAtomic(cpuset + "/cpuset.cpus", "0-3\n");
  fs::WriteFileAtomic(cpuset + "/cpuset.mems", "0\n");
  std::string mi = "22 1 0:20 / /proc rw - proc proc rw\n" + Mount(cpuset, "cgroup", "rw,cpuset") +
                   Mount(memory, "cgroup", "rw,memory") +
                   Mount(t.path + "/unified", "cgroup2", "rw");

  JoinCgroup("/a/b", 4242, mi);

  EXPECT_EQ(fs::ReadFile(cpuset + "/a/b/cgroup.procs"), "4242");
  EXPECT_EQ(fs::ReadFile(memory + "/a/b/cgroup.procs"), "4242");
  EXPECT_EQ(fs::ReadFile(cpuset + "/a/cpuset.cpus"), "0-3");
  EXPECT_EQ(fs::ReadFile(cpuset + "/a/b/cpuset.mems"), "0");
  EXPECT_FALSE(fs::Exists(memory + "/a/cpuset.cpus"));
  // Hybrid: the processes are placed in v1, not in the unified hierarchy.
  EXPECT_FALSE(fs::Exists(t.path + "/unified/a"));
}

TEST(Cgroup, JoinsTheUnifiedHierarchy) {
  Tmp t;
  fs::MkdirAll(t.path + "/cg", 0755);
  JoinCgroup("custom", 7, Mount(t.path + "/cg", "cgroup2", "rw"));
  EXPECT_EQ(fs::ReadFile(t.path + "/cg/custom/cgroup.procs"), "7");
}

TEST(Cgroup, RefusesAPathOutsideTheHierarchy) {
  Tmp t;
  EXPECT_THROW(JoinCgroup("a/../../x", 7, Mount(t.path, "cgroup2", "rw")), errdefs::Error);
  EXPECT_THROW(JoinCgroup("x", 7, ""), errdefs::Error);
}

TEST(Cgroup, OomScoreOutOfRange) {
  EXPECT_THROW(SetOomScore(::getpid(), 1001), errdefs::Error);
  EXPECT_THROW(SetOomScore(::getpid(), -1001), errdefs::Error);
}

}  // namespace
}  // namespace mcd::daemon
