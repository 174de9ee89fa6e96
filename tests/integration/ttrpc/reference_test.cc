// Side by side with the reference: the same ttrpc requests to the real
// containerd 1.6.20's <address>.ttrpc and to ours get the same status codes
// and messages (the Go ttrpc server's wording, the exchange's validation).
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "pkg/errdefs.h"
#include "tests/integration/events/watch.h"
#include "tests/integration/support/harness.h"
#include "ttrpc/client.h"

namespace mcd::itest {
namespace {

using namespace std::chrono_literals;
namespace tev = containerd::services::events::ttrpc::v1;

struct Outcome {
  int code;
  std::string message;
  bool operator==(const Outcome&) const = default;
};
std::ostream& operator<<(std::ostream& o, const Outcome& r) {
  return o << "code " << r.code << ": \"" << r.message << "\"";
}

Outcome Call(ttrpc::Client& c, const std::string& service, const std::string& method,
             const std::string& payload) {
  try {
    c.Call(service, method, payload);
  } catch (const errdefs::Error& e) {
    return {static_cast<int>(e.code()), e.what()};
  }
  return {0, ""};
}

std::string ForwardRequest(const std::string& ns, const std::string& topic, bool timestamp) {
  tev::ForwardRequest req;
  auto* env = req.mutable_envelope();
  env->set_namespace_(ns);
  env->set_topic(topic);
  if (timestamp) *env->mutable_timestamp() = google::protobuf::util::TimeUtil::GetCurrentTime();
  containerd::events::TaskCreate ev;
  ev.set_container_id("c1");
  env->mutable_event()->set_type_url("containerd.events.TaskCreate");
  ev.SerializeToString(env->mutable_event()->mutable_value());
  return req.SerializeAsString();
}

TEST(Reference, SameAnswersAsContainerdOnTheTtrpcSocket) {
  Require("containerd");
  TempDir dir;
  // The reference daemon on its own temporary root.
  const std::string ref = dir.path() + "/ref";
  std::filesystem::create_directories(ref);
  std::ofstream(ref + "/config.toml")
      << "version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n";
  const std::string ref_log = ref + "/log";
  std::ofstream(ref_log).flush();
  LogWatch ref_watch(ref_log);
  Background containerd({"sh", "-c",
                         "exec containerd --root " + ref + "/root --state " + ref + "/state -a " +
                             ref + "/c.sock --config " + ref + "/config.toml 2>" + ref_log});
  ASSERT_TRUE(ref_watch.WaitFor("containerd successfully booted", 60s))
      << "reference did not start";

  Daemon ours(dir.path() + "/ours");
  std::filesystem::create_directories(dir.path() + "/ours");
  ours.Start();

  auto theirs_c = ttrpc::Client::Connect(ref + "/c.sock.ttrpc");
  auto ours_c = ttrpc::Client::Connect(ours.socket() + ".ttrpc");
  const std::string kEvents = "containerd.services.events.ttrpc.v1.Events";
  struct Case {
    const char* what;
    std::string service, method, payload;
  };
  const std::vector<Case> cases = {
      {"valid forward", kEvents, "Forward", ForwardRequest("default", "/tasks/create", true)},
      {"unknown service", "containerd.task.v2.Task", "State", ""},
      {"unknown method", kEvents, "Publish", ""},
      {"bad topic", kEvents, "Forward", ForwardRequest("default", "tasks", true)},
      {"bad namespace", kEvents, "Forward", ForwardRequest("-bad-", "/tasks/create", true)},
      {"no timestamp", kEvents, "Forward", ForwardRequest("default", "/tasks/create", false)},
      {"undecodable payload", kEvents, "Forward", std::string("\xff\xff\xff", 3)},
  };
  for (const auto& c : cases) {
    Outcome want = Call(*theirs_c, c.service, c.method, c.payload);
    Outcome got = Call(*ours_c, c.service, c.method, c.payload);
    if (std::string(c.what) == "undecodable payload") {
      // gogo's decoder error text cannot be reproduced; the code must match.
      EXPECT_EQ(got.code, want.code) << c.what << ": containerd " << want << ", ours " << got;
      continue;
    }
    EXPECT_EQ(got, want) << c.what;
    std::cout << c.what << ": " << got << "\n";
  }
  // Not vacuous: both daemons really served.
  EXPECT_EQ(Call(*theirs_c, kEvents, "Forward", cases[0].payload), (Outcome{0, ""}));
  EXPECT_EQ(Call(*ours_c, "containerd.task.v2.Task", "State", ""),
            (Outcome{12, "service containerd.task.v2.Task"}));
}

}  // namespace
}  // namespace mcd::itest
