#include "runtime/v2/bundle.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "pkg/errdefs.h"
#include "pkg/fs.h"

namespace mcd::runtime {
namespace {

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mcd-bundle-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    root_ = dir_ + "/root";
    state_ = dir_ + "/state";
  }
  void TearDown() override { fs::RemoveAll(dir_); }
  static mode_t Mode(const std::string& p) {
    struct stat st;
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st.st_mode;
  }
  static std::vector<std::string> Entries(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir))
      out.push_back(e.path().filename());
    return out;
  }
  std::string dir_, root_, state_;
};

TEST_F(BundleTest, LayoutAsContainerd) {
  const std::string spec = R"({"ociVersion":"1.0.2"})";
  Bundle b = Bundle::Create(root_, state_, "default", "t1", spec);
  EXPECT_EQ(b.path(), state_ + "/default/t1");
  EXPECT_EQ(Mode(b.path()) & 07777, 0700u);
  EXPECT_EQ(Mode(state_ + "/default") & 07777, 0711u);
  EXPECT_EQ(Mode(b.File("rootfs")) & 07777, 0711u);
  EXPECT_TRUE(S_ISLNK(Mode(b.File("work"))));
  char buf[512];
  ssize_t n = ::readlink(b.File("work").c_str(), buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, n), root_ + "/default/t1");
  EXPECT_EQ(Mode(root_ + "/default/t1") & 07777, 0711u);
  EXPECT_EQ(fs::ReadFile(b.File("config.json")), spec);
}

TEST_F(BundleTest, ExistingBundleIsAlreadyExistsAndKept) {
  Bundle::Create(root_, state_, "default", "t1", "{}");
  fs::WriteFileAtomic(state_ + "/default/t1/address", "unix:///x");
  try {
    Bundle::Create(root_, state_, "default", "t1", "{}");
    FAIL() << "expected AlreadyExists";
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kAlreadyExists);
  }
  EXPECT_TRUE(fs::Exists(state_ + "/default/t1/address"));
}

TEST_F(BundleTest, InvalidIdRejectedBeforeAnyPath) {
  for (const char* id : {"../x", "a/b", "", "-a"}) {
    try {
      Bundle::Create(root_, state_, "default", id, "{}");
      FAIL() << id;
    } catch (const errdefs::Error& e) {
      EXPECT_EQ(e.code(), errdefs::Code::kInvalidArgument) << id;
      EXPECT_NE(std::string(e.what()).find("invalid task id"), std::string::npos);
    }
  }
  EXPECT_FALSE(fs::Exists(state_));
}

TEST_F(BundleTest, StaleWorkDirReplaced) {
  fs::MkdirAll(root_ + "/default/t1", 0711);
  fs::WriteFileAtomic(root_ + "/default/t1/old", "x");
  Bundle::Create(root_, state_, "default", "t1", "{}");
  EXPECT_FALSE(fs::Exists(root_ + "/default/t1/old"));
}

TEST_F(BundleTest, FailureLeavesNothing) {
  // A spec that is not JSON fails after the bundle dir was made.
  EXPECT_THROW(Bundle::Create(root_, state_, "default", "t1", "not json"), errdefs::Error);
  EXPECT_FALSE(fs::Exists(state_ + "/default/t1"));
  EXPECT_FALSE(fs::Exists(root_ + "/default/t1"));
}

TEST_F(BundleTest, DeleteRemovesBundleAndWork) {
  Bundle b = Bundle::Create(root_, state_, "default", "t1", "{}");
  fs::WriteFileAtomic(b.File("init.pid"), "1");
  fs::WriteFileAtomic(root_ + "/default/t1/state", "x");
  b.Delete();
  EXPECT_TRUE(Entries(state_ + "/default").empty());  // no hidden leftovers either
  EXPECT_TRUE(Entries(root_ + "/default").empty());
  b.Delete();  // idempotent
}

TEST_F(BundleTest, RetireFreesTheIdAtOnceAndRemoveFinishes) {
  Bundle b1 = Bundle::Create(root_, state_, "default", "t1", "{}");
  fs::WriteFileAtomic(root_ + "/default/t1/state", "1");
  Bundle::Retired r1 = b1.Retire();
  EXPECT_FALSE(fs::Exists(b1.path()));
  EXPECT_TRUE(fs::Exists(r1.bundle));
  EXPECT_TRUE(fs::Exists(r1.work + "/state"));
  // The same id again while the first is not removed yet: no collision,
  // neither between the live bundles nor between the hidden ones.
  Bundle b2 = Bundle::Create(root_, state_, "default", "t1", "{}");
  Bundle::Retired r2 = b2.Retire();
  EXPECT_NE(r1.bundle, r2.bundle);
  EXPECT_NE(r1.work, r2.work);
  r1.Remove();
  r2.Remove();
  EXPECT_TRUE(Entries(state_ + "/default").empty());
  EXPECT_TRUE(Entries(root_ + "/default").empty());
}

TEST_F(BundleTest, DeleteUnmountsRootfs) {
  if (::geteuid() != 0) GTEST_FAIL() << "this test needs root (mount)";
  Bundle b = Bundle::Create(root_, state_, "default", "t1", "{}");
  ASSERT_EQ(std::system(("mount -t tmpfs none " + b.File("rootfs") + " && mount -t tmpfs none " +
                         b.File("rootfs"))
                            .c_str()),
            0);
  b.Delete();
  EXPECT_FALSE(fs::Exists(b.path()));
}

TEST(RemappedRootGid, FromGidMappings) {
  EXPECT_EQ(RemappedRootGid("{}"), 0u);
  EXPECT_EQ(RemappedRootGid(R"({"linux":{}})"), 0u);
  EXPECT_EQ(
      RemappedRootGid(
          R"({"linux":{"gidMappings":[{"containerID":1,"hostID":5,"size":1},{"containerID":0,"hostID":100000,"size":65536}]}})"),
      100000u);
  EXPECT_THROW(RemappedRootGid("nope"), errdefs::Error);
}

}  // namespace
}  // namespace mcd::runtime
