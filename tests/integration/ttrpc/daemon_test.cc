// The daemon's ttrpc listener (<grpc address>.ttrpc, the events Forward
// service) and `minicontainerd publish`.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <future>

#include <google/protobuf/util/time_util.h>

#include "github.com/containerd/containerd/api/events/namespace.pb.h"
#include "github.com/containerd/containerd/api/services/events/v1/events.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "pkg/errdefs.h"
#include "pkg/process.h"
#include "tests/integration/support/harness.h"
#include "ttrpc/client.h"

namespace mcd {
namespace {

namespace tev = containerd::services::events::ttrpc::v1;
using errdefs::Code;

constexpr const char* kEvents = "containerd.services.events.ttrpc.v1.Events";

Code Forward(ttrpc::Client& c, const tev::Envelope& env, std::string* msg = nullptr) {
  tev::ForwardRequest req;
  *req.mutable_envelope() = env;
  google::protobuf::Empty empty;
  try {
    c.Call(kEvents, "Forward", req, &empty);
  } catch (const errdefs::Error& e) {
    if (msg) *msg = e.what();
    return e.code();
  }
  return Code::kOk;
}

tev::Envelope Envelope(const std::string& ns, const std::string& topic) {
  tev::Envelope env;
  env.set_namespace_(ns);
  env.set_topic(topic);
  *env.mutable_timestamp() = google::protobuf::util::TimeUtil::GetCurrentTime();
  containerd::events::NamespaceCreate ev;
  ev.set_name(ns);
  env.mutable_event()->set_type_url("containerd.events.NamespaceCreate");
  ev.SerializeToString(env.mutable_event()->mutable_value());
  return env;
}

TEST(DaemonTtrpc, ServesEventsForwardOnGrpcAddressDotTtrpc) {
  itest::TempDir dir;
  itest::Daemon d(dir.path());
  d.Start();
  const std::string sock = d.socket() + ".ttrpc";
  struct stat st;
  ASSERT_EQ(::stat(sock.c_str(), &st), 0) << d.Log();
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_NE(d.Log().find("msg=serving... address=" + sock), std::string::npos) << d.Log();

  auto c = ttrpc::Client::Connect(sock);
  EXPECT_EQ(Forward(*c, Envelope("default", "/tasks/create")), Code::kOk);
  std::string msg;
  // The exchange's validation, as containerd's.
  EXPECT_EQ(Forward(*c, Envelope("default", "no-slash"), &msg), Code::kInvalidArgument) << msg;
  EXPECT_EQ(Forward(*c, Envelope("bad ns", "/tasks/create"), &msg), Code::kInvalidArgument) << msg;
  auto zero = Envelope("default", "/tasks/create");
  zero.clear_timestamp();
  EXPECT_EQ(Forward(*c, zero, &msg), Code::kInvalidArgument) << msg;
  // Only what plugins registered is served.
  try {
    c->Call("containerd.task.v2.Task", "State", "");
    FAIL() << "served an unregistered service";
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), Code::kUnimplemented);
    EXPECT_STREQ(e.what(), "service containerd.task.v2.Task");
  }

  // Shared: the callback may run after this scope on a failure path.
  auto closed = std::make_shared<std::promise<void>>();
  c->OnClose([closed] { closed->set_value(); });
  EXPECT_EQ(d.Stop(), 0);
  auto cf = closed->get_future();
  EXPECT_EQ(cf.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_FALSE(std::filesystem::exists(sock)) << "ttrpc socket left behind";
}

TEST(DaemonTtrpc, StaleSocketReplacedLiveSocketRefused) {
  itest::TempDir dir;
  itest::Daemon d(dir.path());
  d.Start();
  const std::string sock = d.socket() + ".ttrpc";
  d.Kill();  // a crash leaves both sockets behind
  ASSERT_TRUE(std::filesystem::exists(sock));
  d.Start();  // stale ones are replaced
  EXPECT_EQ(Forward(*ttrpc::Client::Connect(sock), Envelope("default", "/x")), Code::kOk);

  // A second daemon whose gRPC socket is free but whose ttrpc socket is live.
  itest::TempDir dir2;
  itest::Daemon d2(
      dir2.path(),
      {.extra_args = {}, .config_toml = "version = 2\n[ttrpc]\n  address = \"" + sock + "\"\n"});
  std::string log;
  EXPECT_NE(d2.StartExpectFailure(&log), 0);
  EXPECT_NE(log.find("in use"), std::string::npos) << log;
  // The running daemon still serves.
  EXPECT_EQ(Forward(*ttrpc::Client::Connect(sock), Envelope("default", "/y")), Code::kOk);
}

// A stand-in daemon's gRPC Events service: what `publish` sends on the wire.
class FakeEvents final : public containerd::services::events::v1::Events::Service {
 public:
  grpc::Status Publish(grpc::ServerContext* ctx,
                       const containerd::services::events::v1::PublishRequest* req,
                       google::protobuf::Empty*) override {
    auto md = ctx->client_metadata().find("containerd-namespace");
    ns =
        md == ctx->client_metadata().end() ? "" : std::string(md->second.data(), md->second.size());
    got = *req;
    if (req->topic() == "/refuse")
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "refused");
    return grpc::Status::OK;
  }
  std::string ns;
  containerd::services::events::v1::PublishRequest got;
};

process::Result Publish(const std::string& address, const std::string& topic, const std::string& ns,
                        const std::string& stdin_data) {
  process::Options o;
  o.argv = {MCD_DAEMON_BINARY, "--address", address,       "publish",
            "--topic",         topic,       "--namespace", ns};
  o.stdin_data = stdin_data;
  o.timeout = std::chrono::seconds(30);
  return process::Run(o);
}

TEST(Publish, SendsTheAnyOverGrpcEventsPublish) {
  itest::TempDir dir;
  const std::string sock = dir.path() + "/fake.sock";
  FakeEvents svc;
  grpc::ServerBuilder b;
  b.AddListeningPort("unix:" + sock, grpc::InsecureServerCredentials());
  b.RegisterService(&svc);
  auto server = b.BuildAndStart();
  ASSERT_TRUE(server);

  google::protobuf::Any any;
  any.set_type_url("containerd.events.TaskExit");
  any.set_value("\x0a\x02id");
  auto r = Publish(sock, "/tasks/exit", "k8s.io", any.SerializeAsString());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(svc.ns, "k8s.io");
  EXPECT_EQ(svc.got.topic(), "/tasks/exit");
  EXPECT_EQ(svc.got.event().type_url(), "containerd.events.TaskExit");
  EXPECT_EQ(svc.got.event().value(), "\x0a\x02id");

  // The daemon's error is the command's failure.
  r = Publish(sock, "/refuse", "default", any.SerializeAsString());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("refused"), std::string::npos) << r.err;
  // Not an Any on stdin.
  r = Publish(sock, "/tasks/exit", "default", "\xff\xff");
  EXPECT_NE(r.exit_code, 0);
  server->Shutdown();
  // Nothing listening: a dial error, quickly.
  r = Publish(sock, "/tasks/exit", "default", any.SerializeAsString());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("failed to dial"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mcd
