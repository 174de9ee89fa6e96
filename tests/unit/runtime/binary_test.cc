#include "runtime/v2/binary.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "pkg/errdefs.h"
#include "pkg/fs.h"

namespace mcd::runtime {
namespace {

TEST(BinaryName, AsContainerd) {
  EXPECT_EQ(BinaryName("io.containerd.runc.v2"), "containerd-shim-runc-v2");
  EXPECT_EQ(BinaryName("io.containerd.runc.v1"), "containerd-shim-runc-v1");
  EXPECT_EQ(BinaryName("io.containerd.kata.v2"), "containerd-shim-kata-v2");
  EXPECT_EQ(BinaryName("runc.v2"), "containerd-shim-runc-v2");
  EXPECT_EQ(BinaryName("runc"), "");
  EXPECT_EQ(BinaryName(".runc.v2"), "");
  EXPECT_EQ(BinaryName(""), "");
}

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mcd-resolve-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    old_path_ = std::getenv("PATH") ? std::getenv("PATH") : "";
  }
  void TearDown() override {
    ::setenv("PATH", old_path_.c_str(), 1);
    fs::RemoveAll(dir_);
  }
  std::string MakeExe(const std::string& dir, const std::string& name) {
    fs::MkdirAll(dir, 0755);
    std::string p = dir + "/" + name;
    fs::WriteFileAtomic(p, "#!/bin/sh\n", 0755);
    ::chmod(p.c_str(), 0755);
    return p;
  }
  std::string dir_, old_path_;
};

TEST_F(ResolverTest, PathThenBesideDaemon) {
  std::string self = MakeExe(dir_ + "/bin", "minicontainerd");
  std::string beside = MakeExe(dir_ + "/bin", "containerd-shim-foo-v9");
  ::setenv("PATH", (dir_ + "/empty").c_str(), 1);
  RuntimeResolver r(self);
  EXPECT_EQ(r.Resolve("io.containerd.foo.v9"), beside);

  std::string onpath = MakeExe(dir_ + "/path", "containerd-shim-bar-v1");
  MakeExe(dir_ + "/bin", "containerd-shim-bar-v1");
  ::setenv("PATH", (dir_ + "/path").c_str(), 1);
  EXPECT_EQ(r.Resolve("io.containerd.bar.v1"), onpath);
}

TEST_F(ResolverTest, MissingIsNotFound) {
  ::setenv("PATH", (dir_ + "/empty").c_str(), 1);
  RuntimeResolver r(dir_ + "/bin/minicontainerd");
  try {
    r.Resolve("io.containerd.nope.v1");
    FAIL();
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kNotFound);
    EXPECT_NE(std::string(e.what()).find("containerd-shim-nope-v1"), std::string::npos);
  }
}

TEST_F(ResolverTest, AbsolutePathAndBadNames) {
  std::string exe = MakeExe(dir_, "myshim");
  RuntimeResolver r("");
  EXPECT_EQ(r.Resolve(exe), exe);
  try {
    r.Resolve(dir_ + "/missing");
    ADD_FAILURE() << "a missing path resolved";
  } catch (const errdefs::Error& e) {
    // containerd's words, wrapping Go's error: no class suffix of its own.
    EXPECT_EQ(std::string(e.what()),
              "invalid custom binary path: stat " + dir_ + "/missing: no such file or directory");
  }
  EXPECT_THROW(r.Resolve(""), errdefs::Error);
  EXPECT_THROW(r.Resolve("runc"), errdefs::Error);
  EXPECT_THROW(r.Resolve("io.containerd.x/../../y.v1"), errdefs::Error);
}

ShimCommand Cmd() {
  ShimCommand c;
  c.binary = "/usr/bin/containerd-shim-runc-v2";
  c.ns = "default";
  c.id = "t1";
  c.bundle = "/state/default/t1";
  c.grpc_address = "/run/mcd.sock";
  c.ttrpc_address = "/run/mcd.sock.ttrpc";
  c.self = "/usr/bin/minicontainerd";
  return c;
}

TEST(ShimCommand, StartAsContainerd) {
  auto o = Cmd().Start("OPTS");
  std::vector<std::string> want = {"/usr/bin/containerd-shim-runc-v2",
                                   "-namespace",
                                   "default",
                                   "-address",
                                   "/run/mcd.sock",
                                   "-publish-binary",
                                   "/usr/bin/minicontainerd",
                                   "-id",
                                   "t1",
                                   "start"};
  EXPECT_EQ(o.argv, want);
  EXPECT_EQ(o.cwd, "/state/default/t1");
  EXPECT_TRUE(o.new_process_group);
  EXPECT_TRUE(o.merge_stderr);
  EXPECT_EQ(o.stdin_data, "OPTS");
  EXPECT_NE(std::find(o.extra_env.begin(), o.extra_env.end(), "TTRPC_ADDRESS=/run/mcd.sock.ttrpc"),
            o.extra_env.end());
  EXPECT_NE(std::find(o.extra_env.begin(), o.extra_env.end(), "GOMAXPROCS=2"), o.extra_env.end());
}

TEST(ShimCommand, DeleteAsContainerd) {
  auto c = Cmd();
  c.debug = true;
  auto o = c.Delete();
  std::vector<std::string> want = {"/usr/bin/containerd-shim-runc-v2",
                                   "-namespace",
                                   "default",
                                   "-address",
                                   "/run/mcd.sock",
                                   "-publish-binary",
                                   "/usr/bin/minicontainerd",
                                   "-id",
                                   "t1",
                                   "-bundle",
                                   "/state/default/t1",
                                   "-debug",
                                   "delete"};
  EXPECT_EQ(o.argv, want);
  EXPECT_EQ(o.cwd, "/state/default/t1");
  EXPECT_FALSE(o.merge_stderr);
  EXPECT_TRUE(o.stdin_data.empty());
}

TEST(ParseAddress, Forms) {
  EXPECT_EQ(ParseAddress("unix:///run/containerd/s/abc\n"), "unix:///run/containerd/s/abc");
  EXPECT_EQ(ParseAddress("  /containerd-shim/x.sock \n"), "@/containerd-shim/x.sock");
  EXPECT_EQ(ParseAddress("@abc"), "@abc");
  EXPECT_THROW(ParseAddress(""), errdefs::Error);
  EXPECT_THROW(ParseAddress(" \n"), errdefs::Error);
  EXPECT_THROW(ParseAddress("unix://"), errdefs::Error);
  EXPECT_THROW(ParseAddress("unix:///a\nerror: boom"), errdefs::Error);
}

TEST(ParseDeleteOutput, Fields) {
  containerd::task::v2::DeleteResponse r;
  r.set_pid(42);
  r.set_exit_status(137);
  r.mutable_exited_at()->set_seconds(1700000000);
  r.mutable_exited_at()->set_nanos(5);
  Exit e = ParseDeleteOutput(r.SerializeAsString());
  EXPECT_EQ(e.pid, 42u);
  EXPECT_EQ(e.status, 137u);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::nanoseconds>(e.at.time_since_epoch()).count(),
            1700000000000000005LL);
  EXPECT_THROW(ParseDeleteOutput("\xff\xff\xff"), errdefs::Error);
}

TEST(ReadAddress, TrimmedAndNotFound) {
  char tmpl[] = "/tmp/mcd-addr-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string d = tmpl;
  EXPECT_THROW(ReadAddress(d), errdefs::Error);
  fs::WriteFileAtomic(d + "/address", "unix:///x.sock\n");
  EXPECT_EQ(ReadAddress(d), "unix:///x.sock");
  fs::RemoveAll(d);
}

}  // namespace
}  // namespace mcd::runtime
