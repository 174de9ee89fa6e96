// Events entering the running daemon the two ways shims send them, seen by
// the real `ctr events`: ttrpc Events/Forward on <grpc address>.ttrpc (what
// containerd-shim-runc-v2 does) and `minicontainerd publish` (the
// -publish-binary fallback).
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "pkg/errdefs.h"
#include "pkg/process.h"
#include "tests/integration/events/watch.h"
#include "tests/integration/support/harness.h"
#include "ttrpc/client.h"

namespace mcd::itest {
namespace {

using namespace std::chrono_literals;
namespace tev = containerd::services::events::ttrpc::v1;

// "<time> <namespace> <topic> <json>" as ctr prints an event.
void ExpectLine(Background& ctr, const std::string& ns, const std::string& topic,
                const std::string& json_part) {
  auto line = ctr.ReadLine(60s);
  ASSERT_TRUE(line) << "ctr events printed nothing";
  EXPECT_NE(line->find(" UTC " + ns + " " + topic + " {"), std::string::npos) << *line;
  EXPECT_NE(line->find(json_part), std::string::npos) << *line;
}

TEST(EventsFlow, ForwardedAndPublishedEventsReachCtrEvents) {
  Require("ctr");
  TempDir dir;
  Daemon d(dir.path());
  d.Start();
  LogWatch log(d.log_path());
  Background ctr({"ctr", "-a", d.socket(), "events"});
  ASSERT_TRUE(log.WaitFor("event subscription added", 60s)) << d.Log();

  // 1. A shim's Forward over ttrpc: namespace and timestamp kept.
  containerd::events::TaskCreate create;
  create.set_container_id("fwd1");
  create.set_bundle("/b");
  create.set_pid(42);
  tev::ForwardRequest fwd;
  auto* env = fwd.mutable_envelope();
  env->set_namespace_("shimns");
  env->set_topic("/tasks/create");
  *env->mutable_timestamp() = google::protobuf::util::TimeUtil::GetCurrentTime();
  env->mutable_event()->set_type_url("containerd.events.TaskCreate");
  create.SerializeToString(env->mutable_event()->mutable_value());
  auto client = ttrpc::Client::Connect(d.socket() + ".ttrpc");
  google::protobuf::Empty empty;
  client->Call("containerd.services.events.ttrpc.v1.Events", "Forward", fwd, &empty);
  ExpectLine(ctr, "shimns", "/tasks/create", R"("container_id":"fwd1")");

  // 2. The publish fallback, as a shim runs it: Any on stdin.
  containerd::events::TaskExit exit;
  exit.set_container_id("pub1");
  exit.set_id("pub1");
  exit.set_pid(7);
  exit.set_exit_status(3);
  google::protobuf::Any any;
  any.set_type_url("containerd.events.TaskExit");
  exit.SerializeToString(any.mutable_value());
  process::Options o;
  o.argv = {MCD_DAEMON_BINARY, "--address",   d.socket(),    "publish",
            "--topic",         "/tasks/exit", "--namespace", "pubns"};
  o.stdin_data = any.SerializeAsString();
  o.timeout = 30s;
  auto r = process::Run(o);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ExpectLine(ctr, "pubns", "/tasks/exit", R"("container_id":"pub1")");

  // A bad topic from publish is the exchange's InvalidArgument, as the
  // command's failure.
  o.argv[5] = "tasks/exit";
  r = process::Run(o);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("invalid argument"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mcd::itest
