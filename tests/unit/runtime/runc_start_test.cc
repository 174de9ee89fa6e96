// When the daemon may do the runc v2 shim's `start` itself, and the socket
// address both share with the shim.
#include "runtime/v2/runc_start.h"

#include <gtest/gtest.h>

#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"
#include "pkg/fs.h"
#include "runtime/v2/shim_launch.h"

namespace mcd::runtime {
namespace {

TEST(SocketAddress, Sha256OfAddressNamespaceAndId) {
  // printf '%s' /run/containerd/containerd.sock/default/t | sha256sum
  EXPECT_EQ(SocketAddress("/run/containerd/containerd.sock", "default", "t"),
            "unix:///run/containerd/s/"
            "1fb363069179b519147287ead2348a2ddbbfb7205a0231a039eaf1a4ad82c119");
  // filepath.Join cleans: doubled and trailing slashes do not count.
  EXPECT_EQ(SocketAddress("/run/containerd//containerd.sock/", "default", "t"),
            SocketAddress("/run/containerd/containerd.sock", "default", "t"));
  EXPECT_NE(SocketAddress("/a.sock", "default", "t"), SocketAddress("/a.sock", "other", "t"));
}

TEST(RuncStart, ParsesTheVersionLine) {
  EXPECT_EQ(RuncStart::ParseVersion("containerd-shim-runc-v2:\n  Version:  1.6.20~ds1\n"
                                    "  Revision: 1.6.20~ds1-1+deb12u3\n  Go version: go1.19.8\n\n"),
            "1.6.20~ds1");
  EXPECT_EQ(RuncStart::ParseVersion("x:\n  Version:  v1.6.2\n"), "v1.6.2");
  EXPECT_EQ(RuncStart::ParseVersion("x:\n  Version:  1.7.0"), "1.7.0");
  EXPECT_EQ(RuncStart::ParseVersion("flag provided but not defined: -v\n"), "");
  EXPECT_EQ(RuncStart::ParseVersion(""), "");
}

TEST(RuncStart, GroupAnnotationsAsTheShimReadsThem) {
  EXPECT_FALSE(RuncStart::Grouped(R"({"ociVersion":"1.0.2"})"));
  EXPECT_FALSE(RuncStart::Grouped(R"({"annotations":{"a":"b"}})"));
  EXPECT_TRUE(RuncStart::Grouped(R"({"annotations":{"io.containerd.runc.v2.group":"g"}})"));
  EXPECT_TRUE(RuncStart::Grouped(R"({"annotations":{"io.kubernetes.cri.sandbox-id":"s"}})"));
  // Its `start` reports a spec it cannot read: leave that to it.
  EXPECT_TRUE(RuncStart::Grouped("not json"));
  EXPECT_TRUE(RuncStart::Grouped("[]"));
}

TEST(RuncStart, OnlyThe16LinesStart) {
  EXPECT_TRUE(RuncStart::SupportedVersion("1.6.20~ds1"));
  EXPECT_TRUE(RuncStart::SupportedVersion("v1.6.9"));
  EXPECT_FALSE(RuncStart::SupportedVersion("1.7.0"));
  EXPECT_FALSE(RuncStart::SupportedVersion("2.0.0"));
  EXPECT_FALSE(RuncStart::SupportedVersion("1.60.0"));
  EXPECT_FALSE(RuncStart::SupportedVersion(""));
}

TEST(RuncStart, AScriptAnsweringAsTheShimIsNotIt) {
  fs::TempDir tmp("mcd-runcstart");
  std::string script = tmp.path() + "/containerd-shim-runc-v2";
  fs::WriteFileAtomic(script, "#!/bin/sh\nprintf '%s:\\n  Version:  1.6.20~ds1\\n' \"$0\"\n", 0755);
  EXPECT_FALSE(RuncStart::IsRunc16(script));
  EXPECT_FALSE(RuncStart::IsRunc16(tmp.path() + "/missing"));
}

// Every case against a baseline that applies: the binary check is faked,
// counting how often it runs.
class RuncStartApplies : public ::testing::Test {
 protected:
  RuncStartApplies() {
    cmd_.binary = tmp_.path() + "/containerd-shim-runc-v2";
    cmd_.ns = "default";
    cmd_.id = "t";
    cmd_.grpc_address = "/run/test/c.sock";
    Binary("one");
  }
  void Binary(const std::string& content) { fs::WriteFileAtomic(cmd_.binary, content, 0755); }
  static google::protobuf::Any RuncOptions(const std::string& shim_cgroup) {
    containerd::runc::v1::Options o;
    o.set_binary_name("runc");
    o.set_shim_cgroup(shim_cgroup);
    google::protobuf::Any a;
    a.set_type_url("type.googleapis.com/containerd.runc.v1.Options");
    a.set_value(o.SerializeAsString());
    return a;
  }

  fs::TempDir tmp_{"mcd-runcstart"};
  ShimCommand cmd_;
  int probes_ = 0;
  bool runc16_ = true;
  RuncStart rs_{[this](const std::string&) {
    ++probes_;
    return runc16_;
  }};
  const std::string spec_ = R"({"ociVersion":"1.0.2"})";
};

TEST_F(RuncStartApplies, AskedOncePerBinaryAndAgainWhenReplaced) {
  EXPECT_TRUE(rs_.Applies(cmd_, spec_, nullptr));
  EXPECT_TRUE(rs_.Applies(cmd_, spec_, nullptr));
  EXPECT_EQ(probes_, 1);
  runc16_ = false;
  Binary("another, longer binary");  // size (and inode) differ
  EXPECT_FALSE(rs_.Applies(cmd_, spec_, nullptr));
  EXPECT_EQ(probes_, 2);
  ShimCommand missing = cmd_;
  missing.binary = tmp_.path() + "/nope/containerd-shim-runc-v2";
  EXPECT_FALSE(rs_.Applies(missing, spec_, nullptr));
}

TEST_F(RuncStartApplies, OnlyToTheRuncV2Shim) {
  EXPECT_TRUE(rs_.Applies(cmd_, spec_, nullptr));
  for (const char* name : {"containerd-shim-runc-v1", "containerd-shim-kata-v2", "my-shim"}) {
    ShimCommand other = cmd_;
    other.binary = tmp_.path() + "/" + name;
    fs::WriteFileAtomic(other.binary, "x", 0755);
    EXPECT_FALSE(rs_.Applies(other, spec_, nullptr)) << name;
  }
}

TEST_F(RuncStartApplies, NotWhereStartWouldDoMore) {
  auto plain = RuncOptions("");
  EXPECT_TRUE(rs_.Applies(cmd_, spec_, &plain));
  // As containerd's typeurl names it (ctr --runc-binary, the Go client).
  plain.set_type_url("containerd.runc.v1.Options");
  EXPECT_TRUE(rs_.Applies(cmd_, spec_, &plain));
  plain.set_type_url("containerd.runc.v1.OptionsX");
  EXPECT_FALSE(rs_.Applies(cmd_, spec_, &plain));
  auto cg = RuncOptions("/shims");
  EXPECT_FALSE(rs_.Applies(cmd_, spec_, &cg));
  google::protobuf::Any other;
  other.set_type_url("type.googleapis.com/containerd.linux.runc.RuncOptions");
  other.set_value("\n\x04runc");
  EXPECT_FALSE(rs_.Applies(cmd_, spec_, &other));
  EXPECT_FALSE(
      rs_.Applies(cmd_, R"({"annotations":{"io.containerd.runc.v2.group":"g"}})", nullptr));
  ShimCommand sched = cmd_;
  sched.sched_core = true;
  EXPECT_FALSE(rs_.Applies(sched, spec_, nullptr));
  // Addresses filepath.Join would rewrite: the shim's socket name would differ.
  for (const char* a : {"c.sock", "/run/./c.sock", "/run/x/../c.sock", "/run/..", ""}) {
    ShimCommand c = cmd_;
    c.grpc_address = a;
    EXPECT_FALSE(rs_.Applies(c, spec_, nullptr)) << a;
  }
}

}  // namespace
}  // namespace mcd::runtime
