// Runtime v1 pieces that need no shim: the shim's socket address and argv,
// the v2 task API translated to the v1 shim's, RuncOptions parsing.
#include <google/protobuf/empty.pb.h>
#include <gtest/gtest.h>

#include "github.com/containerd/containerd/runtime/linux/runctypes/runc.pb.h"
#include "github.com/containerd/containerd/runtime/v1/shim/v1/shim.pb.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "pkg/errdefs.h"
#include "runtime/v1/runtime.h"
#include "runtime/v1/shim.h"
#include "runtime/v1/translate.h"

namespace mcd::runtime::v1 {
namespace {

namespace v2 = containerd::task::v2;
namespace shim = containerd::runtime::linux::shim::v1;

TEST(LegacyAddress, AbstractUnderContainerdShim) {
  EXPECT_EQ(LegacyAddress("ns", "id"), "@/containerd-shim/ns/id/shim.sock");
}

TEST(ShimArgs, AsContainerdStartsTheShim) {
  ShimConfig c;
  c.ns = "default";
  c.workdir = "/root/io.containerd.runtime.v1.linux/default/t";
  c.grpc_address = "/run/c.sock";
  c.self = "/usr/bin/minicontainerd";
  EXPECT_EQ(Args(c), (std::vector<std::string>{"containerd-shim", "-namespace", "default",
                                               "-workdir", c.workdir, "-address", "/run/c.sock",
                                               "-containerd-binary", "/usr/bin/minicontainerd"}));
  c.criu = "/bin/criu";
  c.runtime_root = "/rr";
  c.systemd_cgroup = true;
  c.debug = true;
  auto a = Args(c);
  EXPECT_EQ(std::vector<std::string>(a.begin() + 9, a.end()),
            (std::vector<std::string>{"-criu-path", "/bin/criu", "-runtime-root", "/rr",
                                      "-systemd-cgroup", "-debug"}));
}

TEST(Translate, ProcessesAreNamedByExecIdOrTaskId) {
  v2::StateRequest s;
  s.set_id("t");
  auto c = ToShim("State", s.SerializeAsString());
  EXPECT_EQ(c.method, "State");
  shim::StateRequest sr;
  ASSERT_TRUE(sr.ParseFromString(c.payload));
  EXPECT_EQ(sr.id(), "t");
  s.set_exec_id("e1");
  ASSERT_TRUE(sr.ParseFromString(ToShim("State", s.SerializeAsString()).payload));
  EXPECT_EQ(sr.id(), "e1");

  v2::KillRequest k;
  k.set_id("t");
  k.set_exec_id("e1");
  k.set_signal(9);
  k.set_all(true);
  shim::KillRequest kr;
  ASSERT_TRUE(kr.ParseFromString(ToShim("Kill", k.SerializeAsString()).payload));
  EXPECT_EQ(kr.id(), "e1");
  EXPECT_EQ(kr.signal(), 9u);
  EXPECT_TRUE(kr.all());

  v2::ExecProcessRequest e;
  e.set_id("t");
  e.set_exec_id("e2");
  e.set_stdout("/fifo/out");
  e.set_terminal(true);
  e.mutable_spec()->set_type_url("types.containerd.io/opencontainers/runtime-spec/1/Process");
  shim::ExecProcessRequest er;
  ASSERT_TRUE(er.ParseFromString(ToShim("Exec", e.SerializeAsString()).payload));
  EXPECT_EQ(er.id(), "e2");
  EXPECT_EQ(er.stdout(), "/fifo/out");
  EXPECT_TRUE(er.terminal());
  EXPECT_EQ(er.spec().type_url(), e.spec().type_url());

  v2::WaitRequest w;
  w.set_id("t");
  shim::WaitRequest wr;
  ASSERT_TRUE(wr.ParseFromString(ToShim("Wait", w.SerializeAsString()).payload));
  EXPECT_EQ(wr.id(), "t");
}

TEST(Translate, DeleteOfTheTaskOrOfAnExec) {
  v2::DeleteRequest d;
  d.set_id("t");
  auto c = ToShim("Delete", d.SerializeAsString());
  EXPECT_EQ(c.method, "Delete");
  EXPECT_EQ(c.payload, google::protobuf::Empty().SerializeAsString());
  d.set_exec_id("e1");
  c = ToShim("Delete", d.SerializeAsString());
  EXPECT_EQ(c.method, "DeleteProcess");
  shim::DeleteProcessRequest dp;
  ASSERT_TRUE(dp.ParseFromString(c.payload));
  EXPECT_EQ(dp.id(), "e1");

  shim::DeleteResponse r;
  r.set_pid(42);
  r.set_exit_status(137);
  r.mutable_exited_at()->set_seconds(1700000000);
  v2::DeleteResponse out;
  ASSERT_TRUE(out.ParseFromString(FromShim("Delete", r.SerializeAsString())));
  EXPECT_EQ(out.pid(), 42u);
  EXPECT_EQ(out.exit_status(), 137u);
  EXPECT_EQ(out.exited_at().seconds(), 1700000000);
}

TEST(Translate, RenamedAndEmptyCalls) {
  EXPECT_EQ(ToShim("Pids", v2::PidsRequest().SerializeAsString()).method, "ListPids");
  EXPECT_EQ(ToShim("Connect", v2::ConnectRequest().SerializeAsString()).method, "ShimInfo");
  v2::PauseRequest p;
  p.set_id("t");
  auto c = ToShim("Pause", p.SerializeAsString());
  EXPECT_EQ(c.method, "Pause");
  EXPECT_EQ(c.payload, google::protobuf::Empty().SerializeAsString());
  EXPECT_EQ(ToShim("Resume", p.SerializeAsString()).method, "Resume");

  shim::ShimInfoResponse info;
  info.set_shim_pid(7);
  v2::ConnectResponse cr;
  ASSERT_TRUE(cr.ParseFromString(FromShim("Connect", info.SerializeAsString(), 99)));
  EXPECT_EQ(cr.shim_pid(), 7u);
  EXPECT_EQ(cr.task_pid(), 99u);
}

TEST(Translate, StateResponseKeepsEveryField) {
  shim::StateResponse s;
  s.set_id("e1");
  s.set_bundle("/b");
  s.set_pid(12);
  s.set_status(containerd::v1::types::Status::RUNNING);
  s.set_stdin("i");
  s.set_stdout("o");
  s.set_stderr("e");
  s.set_terminal(true);
  s.set_exit_status(3);
  s.mutable_exited_at()->set_seconds(5);
  v2::StateResponse o;
  ASSERT_TRUE(o.ParseFromString(FromShim("State", s.SerializeAsString())));
  EXPECT_EQ(o.id(), "e1");
  EXPECT_EQ(o.bundle(), "/b");
  EXPECT_EQ(o.pid(), 12u);
  EXPECT_EQ(o.status(), containerd::v1::types::Status::RUNNING);
  EXPECT_EQ(o.stdin() + o.stdout() + o.stderr(), "ioe");
  EXPECT_TRUE(o.terminal());
  EXPECT_EQ(o.exit_status(), 3u);
  EXPECT_EQ(o.exited_at().seconds(), 5);
}

TEST(Translate, CallsTheV1ShimLacksAreUnimplemented) {
  for (const char* m : {"Stats", "Shutdown", "Bogus"}) {
    try {
      ToShim(m, "");
      FAIL() << m;
    } catch (const errdefs::Error& e) {
      EXPECT_EQ(e.code(), errdefs::Code::kUnimplemented) << m;
    }
  }
  EXPECT_THROW(ToShim("State", "\xff\xff\xff"), errdefs::Error);
}

TEST(RuncOptions, ParsedFromTheContainersAny) {
  EXPECT_EQ(ParseRuncOptions(nullptr).runtime(), "");
  containerd::linux::runc::RuncOptions ro;
  ro.set_runtime("no-runc");
  ro.set_runtime_root("/rr");
  google::protobuf::Any any;
  any.PackFrom(ro);
  auto got = ParseRuncOptions(&any);
  EXPECT_EQ(got.runtime(), "no-runc");
  EXPECT_EQ(got.runtime_root(), "/rr");
  google::protobuf::Any other;
  other.PackFrom(google::protobuf::Empty());
  EXPECT_THROW(ParseRuncOptions(&other), errdefs::Error);
}

}  // namespace
}  // namespace mcd::runtime::v1
