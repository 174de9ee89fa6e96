// pkg/mount: option parsing through real mounts, read-only binds, temporary
// mounts cleaned up.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

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

}  // namespace
}  // namespace mcd::mount
