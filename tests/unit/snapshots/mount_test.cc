// pkg/mount: option parsing through real mounts, read-only binds, temporary
// mounts cleaned up.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <unistd.h>
#include <climits>
#include <fstream>

#include "pkg/fs.h"
#include "pkg/mount.h"

namespace mcd::mount {
namespace {

TEST(Mount, ReadOnlyBindIsReadOnlyAndTempMountCleansUp) {
  std::string t = "/tmp/mcd-mount-XXXXXX";
  std::string src = ::mkdtemp(t.data());
  { std::ofstream(src + "/f") << "x"; }
  std::string where;
  {
    TempMount tm({Mount("bind", src, {"ro", "rbind"})});
    where = tm.path();
    EXPECT_TRUE(IsMountPoint(where));
    EXPECT_EQ(fs::ReadFile(where + "/f"), "x");
    EXPECT_LT(::open((where + "/g").c_str(), O_WRONLY | O_CREAT, 0644), 0);
    EXPECT_EQ(errno, EROFS);
  }
  EXPECT_FALSE(fs::Exists(where));
  {
    TempMount tm({Mount("bind", src, {"rw", "rbind"})});
    std::ofstream(tm.path() + "/g") << "y";
  }
  EXPECT_EQ(fs::ReadFile(src + "/g"), "y");
  fs::RemoveAll(src);
}

TEST(Mount, CleanupTempMountsUnmountsAndRemovesWhatACrashLeft) {
  std::string t = "/tmp/mcd-tmpmounts-XXXXXX";
  std::string dir = std::string(::mkdtemp(t.data())) + "/tmpmounts";
  std::string t2 = "/tmp/mcd-mount-src-XXXXXX";
  std::string src = ::mkdtemp(t2.data());
  { std::ofstream(src + "/keep") << "k"; }
  // A stacked mount, a nested one, and a directory a crash left unmounted.
  fs::MkdirAll(dir + "/containerd-mount1", 0700);
  fs::MkdirAll(dir + "/containerd-mount2", 0700);
  fs::MkdirAll(dir + "/containerd-mount3", 0700);
  MountAll({Mount("bind", src, {"rbind"})}, dir + "/containerd-mount1");
  MountAll({Mount("bind", src, {"rbind", "ro"})}, dir + "/containerd-mount1");
  MountAll({Mount("tmpfs", "tmpfs", {})}, dir + "/containerd-mount2");
  fs::MkdirAll(dir + "/containerd-mount2/in", 0700);
  MountAll({Mount("bind", src, {"rbind"})}, dir + "/containerd-mount2/in");
  ASSERT_EQ(MountPointsUnder(dir).size(), 4u);

  EXPECT_TRUE(CleanupTempMounts(dir).empty());
  EXPECT_TRUE(MountPointsUnder(dir).empty());
  EXPECT_TRUE(fs::Exists(dir));
  EXPECT_FALSE(fs::Exists(dir + "/containerd-mount1"));
  EXPECT_FALSE(fs::Exists(dir + "/containerd-mount2"));
  EXPECT_FALSE(fs::Exists(dir + "/containerd-mount3"));
  struct stat st;
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  // Nothing of the mounted source went with them.
  EXPECT_EQ(fs::ReadFile(src + "/keep"), "k");
  fs::RemoveAll(dir.substr(0, dir.rfind('/')));
  fs::RemoveAll(src);
}

TEST(Mount, FailureLeavesNothingMounted) {
  std::string t = "/tmp/mcd-mount-XXXXXX";
  std::string dir = ::mkdtemp(t.data());
  EXPECT_ANY_THROW(MountAll({Mount("bind", "/nonexistent-mcd", {"rbind"})}, dir));
  EXPECT_FALSE(IsMountPoint(dir));
  UnmountAll(dir);  // nothing mounted: fine
  fs::RemoveAll(dir);
}

TEST(Mount, ProtoRoundTrip) {
  Mount m("overlay", "overlay", {"lowerdir=/a:/b", "index=off"});
  containerd::types::Mount p;
  ToProto(m, &p);
  EXPECT_EQ(FromProto(p), m);
}

TEST(Mount, CompactLowerdirsMakesThemRelativeToTheirCommonParent) {
  auto c = CompactLowerdirs(
      {"index=off", "workdir=/r/s/9/work", "upperdir=/r/s/9/fs", "lowerdir=/r/s/8/fs:/r/s/10/fs"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->dir, "/r/s");
  EXPECT_EQ(c->options, (std::vector<std::string>{"index=off", "workdir=/r/s/9/work",
                                                  "upperdir=/r/s/9/fs", "lowerdir=8/fs:10/fs"}));
  // The parent of a path that is itself the common prefix.
  c = CompactLowerdirs({"lowerdir=/a/b:/a/b/c"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->dir, "/a");
  EXPECT_EQ(c->options[0], "lowerdir=b:b/c");
  c = CompactLowerdirs({"lowerdir=/a/bc:/a/bd"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->dir, "/a");
  EXPECT_EQ(c->options[0], "lowerdir=bc:bd");
  c = CompactLowerdirs({"lowerdir=/x:/y"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->dir, "/");
  EXPECT_EQ(c->options[0], "lowerdir=x:y");
  c = CompactLowerdirs({"lowerdir=/only/one"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->dir, "/only");
  EXPECT_EQ(c->options[0], "lowerdir=one");
  EXPECT_FALSE(CompactLowerdirs({"upperdir=/a"}));
  EXPECT_FALSE(CompactLowerdirs({"lowerdir=/a:rel"}));
}

// 150 lower layers under a long directory: the options are far over a page,
// the mount still works, in the right layer order, and the process's
// working directory does not move.
TEST(Mount, OverlayWithOptionsLongerThanAPage) {
  std::string t = "/tmp/mcd-mount-XXXXXX";
  std::string root = ::mkdtemp(t.data());
  std::string layers = root + "/a-rather-long-directory-name-for-the-layers-of-this-test";
  std::string lower = "lowerdir=";
  const int n = 150;
  for (int i = n - 1; i >= 0; --i) {  // overlay lists the top layer first
    std::string d = layers + "/" + std::to_string(i) + "/fs";
    fs::MkdirAll(d, 0755);
    { std::ofstream(d + "/top") << i; }
    { std::ofstream(d + "/only-" + std::to_string(i)) << "x"; }
    lower += d + (i ? ":" : "");
  }
  ASSERT_GT(lower.size(), 2u * static_cast<size_t>(::getpagesize()));
  std::string upper = root + "/upper", work = root + "/work";
  fs::MkdirAll(upper, 0755);
  fs::MkdirAll(work, 0711);
  char before[PATH_MAX];
  ASSERT_NE(::getcwd(before, sizeof before), nullptr);
  {
    TempMount tm({Mount("overlay", "overlay",
                        {"index=off", "workdir=" + work, "upperdir=" + upper, lower})});
    EXPECT_TRUE(IsMountPoint(tm.path()));
    EXPECT_EQ(fs::ReadFile(tm.path() + "/top"), std::to_string(n - 1));
    for (int i = 0; i < n; ++i) EXPECT_TRUE(fs::Exists(tm.path() + "/only-" + std::to_string(i)));
    { std::ofstream(tm.path() + "/written") << "w"; }
  }
  EXPECT_EQ(fs::ReadFile(upper + "/written"), "w");
  char after[PATH_MAX];
  ASSERT_NE(::getcwd(after, sizeof after), nullptr);
  EXPECT_STREQ(before, after);
  // Past what even relative paths fit in, the error says so.
  std::string huge = "lowerdir=";
  for (int i = 0; i < 300; ++i) {
    huge += (i ? ":" : "") + layers + "/layer-with-a-long-name-" + std::to_string(i);
  }
  try {
    TempMount tm({Mount("overlay", "overlay", {huge})});
    ADD_FAILURE() << "mounted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("mount options too long"), std::string::npos) << e.what();
  }
  fs::RemoveAll(root);
}

}  // namespace
}  // namespace mcd::mount

namespace mcd::mount {
namespace {

// containerd's mount.Lookup over a mountinfo text: the deepest mount point
// above the path, the last of a stack, with mountinfo's octal escapes read.
TEST(MountLookup, DeepestAndLastMountAboveThePath) {
  const std::string info =
      "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
      "30 22 0:5 / /var/lib rw - tmpfs tmpfs rw\n"
      "31 30 7:0 / /var/lib/a\\040b rw shared:9 master:2 - btrfs /dev/loop0 rw,subvolid=5\n"
      "32 30 0:6 / /var/lib/ab rw - tmpfs other rw\n"
      "33 30 0:7 / /var/lib rw - xfs /dev/sdb rw\n";
  auto m = LookupIn(info, "/var/lib/a b/c");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->point, "/var/lib/a b");
  EXPECT_EQ(m->fstype, "btrfs");
  EXPECT_EQ(m->source, "/dev/loop0");
  // A longer sibling name is no parent; the later mount on /var/lib wins.
  m = LookupIn(info, "/var/lib/a");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->source, "/dev/sdb");
  EXPECT_EQ(LookupIn(info, "/etc")->fstype, "ext4");
  EXPECT_FALSE(LookupIn("", "/etc"));
}

}  // namespace
}  // namespace mcd::mount
