#include "pkg/cgroup_mounts.h"

#include <gtest/gtest.h>

namespace mcd::cgroups {
namespace {

// A hybrid host: v1 controllers, the unified hierarchy beside them, and a
// v1 mount that shows only part of its hierarchy (as inside a container).
constexpr const char* kHybrid =
    "22 1 0:21 / /sys rw - sysfs sysfs rw\n"
    "30 22 0:26 / /sys/fs/cgroup ro shared:9 - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
    "34 30 0:30 / /sys/fs/cgroup/cpu,cpuacct rw shared:14 - cgroup cgroup rw,cpu,cpuacct\n"
    "35 30 0:31 / /sys/fs/cgroup/cpuset rw shared:15 - cgroup cgroup rw,cpuset\n"
    "36 30 0:32 /docker/abc /sys/fs/cgroup/memory rw shared:16 - cgroup cgroup rw,memory\n";

TEST(CgroupMounts, ParsesCgroupAndCgroup2MountsOnly) {
  auto m = ParseMounts(kHybrid);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].mountpoint, "/sys/fs/cgroup/unified");
  EXPECT_TRUE(m[0].v2);
  EXPECT_EQ(m[1].mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_FALSE(m[1].v2);
  EXPECT_TRUE(m[1].Has("cpuacct"));
  EXPECT_FALSE(m[1].Has("memory"));
  EXPECT_EQ(m[3].root, "/docker/abc");
  EXPECT_EQ(m[2].root, "/");
}

TEST(CgroupMounts, HierarchiesAreV1WhenAnyElseTheUnifiedOne) {
  auto h = Hierarchies(kHybrid);
  ASSERT_EQ(h.size(), 3u);
  for (const auto& m : h) EXPECT_FALSE(m.v2) << m.mountpoint;
  auto unified = Hierarchies("40 30 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  ASSERT_EQ(unified.size(), 1u);
  EXPECT_TRUE(unified[0].v2);
  EXPECT_TRUE(Hierarchies("22 1 0:21 / /sys rw - sysfs sysfs rw\n").empty());
}

TEST(CgroupMounts, MalformedLinesAreSkipped) {
  auto m = ParseMounts(
      "garbage\n"
      "1 2 3\n"
      "36 30 0:32 / /sys/fs/cgroup/pids rw - cgroup\n"
      "37 30 0:33 / /sys/fs/cgroup/blkio rw - cgroup cgroup rw,blkio\n");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_TRUE(m[0].options.empty());
  EXPECT_TRUE(m[1].Has("blkio"));
}

}  // namespace
}  // namespace mcd::cgroups
