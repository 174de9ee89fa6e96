#include <gtest/gtest.h>

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/events/namespace.pb.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"

namespace mcd::events {
namespace {

std::string ErrorOf(const std::function<void()>& fn, errdefs::Code* code) {
  try {
    fn();
  } catch (const errdefs::Error& e) {
    *code = e.code();
    return e.what();
  }
  return "<no error>";
}

// Filters: containerd's language over topic, namespace and event fields.
class Filters : public ::testing::Test {
 protected:
  std::vector<std::string> Matching(const std::vector<std::string>& filters) {
    Exchange ex;
    auto sub = ex.Subscribe(filters);
    containerd::events::TaskExit exit;
    exit.set_id("c1");
    exit.set_container_id("c1");
    exit.set_pid(42);
    ex.Publish(MakeContext("default"), "/tasks/exit", exit);
    containerd::events::NamespaceCreate nc;
    nc.set_name("prod");
    (*nc.mutable_labels())["team"] = "a";
    (*nc.mutable_labels())["x.y"] = "dotted";
    ex.Publish(MakeContext("prod"), "/namespaces/create", nc);
    containerd::events::TaskExit other;
    other.set_id("c2");
    other.set_container_id("c2");
    ex.Publish(MakeContext("prod"), "/tasks/exit", other);
    std::vector<std::string> out;
    while (auto env = sub->TryNext()) out.push_back(env->namespace_() + env->topic());
    return out;
  }
};

TEST_F(Filters, Topic) {
  EXPECT_EQ(Matching({"topic==\"/tasks/exit\""}),
            (std::vector<std::string>{"default/tasks/exit", "prod/tasks/exit"}));
  EXPECT_EQ(Matching({"topic~=\"^/namespaces/\""}),
            (std::vector<std::string>{"prod/namespaces/create"}));
  EXPECT_EQ(Matching({"topic!=\"/tasks/exit\""}),
            (std::vector<std::string>{"prod/namespaces/create"}));
}

TEST_F(Filters, NamespaceAndOr) {
  EXPECT_EQ(Matching({"namespace==prod"}),
            (std::vector<std::string>{"prod/namespaces/create", "prod/tasks/exit"}));
  EXPECT_EQ(Matching({"namespace==prod,topic==\"/tasks/exit\""}),
            (std::vector<std::string>{"prod/tasks/exit"}));
  // Several filter strings are OR-ed.
  EXPECT_EQ(Matching({"namespace==default", "topic==\"/namespaces/create\""}),
            (std::vector<std::string>{"default/tasks/exit", "prod/namespaces/create"}));
}

TEST_F(Filters, EventFields) {
  EXPECT_EQ(Matching({"event.id==c2"}), (std::vector<std::string>{"prod/tasks/exit"}));
  EXPECT_EQ(Matching({"event.container_id==c1"}), (std::vector<std::string>{"default/tasks/exit"}));
  EXPECT_EQ(Matching({"event.name==prod"}), (std::vector<std::string>{"prod/namespaces/create"}));
  EXPECT_EQ(Matching({"event.labels.team==a"}),
            (std::vector<std::string>{"prod/namespaces/create"}));
  EXPECT_EQ(Matching({"event.labels.x.y==dotted"}),
            (std::vector<std::string>{"prod/namespaces/create"}));
  // Numbers have no adaptor in containerd: never present.
  EXPECT_EQ(Matching({"event.pid==42"}), std::vector<std::string>{});
  // Presence: a field that is set (non-empty string).
  EXPECT_EQ(Matching({"event.labels"}), std::vector<std::string>{});
  EXPECT_EQ(Matching({"event.container_id"}),
            (std::vector<std::string>{"default/tasks/exit", "prod/tasks/exit"}));
}

TEST_F(Filters, MalformedIsInvalidArgument) {
  Exchange ex;
  errdefs::Code code{};
  auto msg = ErrorOf([&] { ex.Subscribe({"topic=="}); }, &code);
  EXPECT_EQ(code, errdefs::Code::kInvalidArgument);
  EXPECT_EQ(msg.rfind("failed parsing subscription filters: ", 0), 0u) << msg;
  EXPECT_EQ(ex.SubscriberCount(), 0u);
}

}  // namespace
}  // namespace mcd::events
