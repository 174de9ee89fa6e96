#include "events/fieldpath.h"

#include <gtest/gtest.h>

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/events/container.pb.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/api/services/namespaces/v1/namespace.pb.h"

namespace mcd::events {
namespace {

using Path = std::vector<std::string>;

std::optional<std::string> Field(const google::protobuf::Message& m, const Path& p) {
  return MessageField(m, p);
}

TEST(Fieldpath, Strings) {
  containerd::events::TaskExit ev;
  ev.set_id("t1");
  EXPECT_EQ(Field(ev, {"id"}), "t1");
  EXPECT_EQ(Field(ev, {"container_id"}), std::nullopt);  // empty = absent
  EXPECT_EQ(Field(ev, {"pid"}), std::nullopt);           // numbers unhandled
  EXPECT_EQ(Field(ev, {"exited_at"}), std::nullopt);     // timestamps unhandled
  EXPECT_EQ(Field(ev, {"nope"}), std::nullopt);
  EXPECT_EQ(Field(ev, {}), std::nullopt);
}

TEST(Fieldpath, NestedMessageAndBool) {
  containerd::events::TaskCreate ev;
  EXPECT_EQ(Field(ev, {"io", "terminal"}), std::nullopt);  // io unset
  ev.mutable_io()->set_terminal(false);
  EXPECT_EQ(Field(ev, {"io", "terminal"}), "false");  // bools always present
  ev.mutable_io()->set_terminal(true);
  ev.mutable_io()->set_stdout("/out");
  EXPECT_EQ(Field(ev, {"io", "terminal"}), "true");
  EXPECT_EQ(Field(ev, {"io", "stdout"}), "/out");
  EXPECT_EQ(Field(ev, {"rootfs"}), std::nullopt);  // repeated unhandled
}

TEST(Fieldpath, AnyIsDecodedByMessageName) {
  containerd::events::ContainerCreate ev;
  ev.set_id("c");
  ev.mutable_runtime()->set_name("io.containerd.runc.v2");
  EXPECT_EQ(Field(ev, {"runtime", "name"}), "io.containerd.runc.v2");
  containerd::events::TaskExit inner;
  inner.set_id("inner");
  PackEvent(inner, ev.mutable_runtime()->mutable_options());
  EXPECT_EQ(Field(ev, {"runtime", "options", "id"}), "inner");
  // type.googleapis.com/ URLs are not what containerd's typeurl looks up.
  ev.mutable_runtime()->mutable_options()->set_type_url(
      "type.googleapis.com/containerd.events.TaskExit");
  EXPECT_EQ(Field(ev, {"runtime", "options", "id"}), std::nullopt);
}

TEST(Fieldpath, TypesWithoutAdaptorAnswerNothing) {
  containerd::services::namespaces::v1::Namespace ns;
  ns.set_name("x");
  EXPECT_EQ(Field(ns, {"name"}), std::nullopt);
  google::protobuf::Any any;
  PackEvent(ns, &any);
  EXPECT_EQ(DecodeEvent(any), nullptr);
}

TEST(Fieldpath, Envelope) {
  Envelope env;
  env.set_namespace_("default");
  env.set_topic("/tasks/exit");
  containerd::events::TaskExit ev;
  ev.set_container_id("c9");
  PackEvent(ev, env.mutable_event());
  EnvelopeFields f(env);
  EXPECT_EQ(f({"namespace"}), "default");
  EXPECT_EQ(f({"topic"}), "/tasks/exit");
  EXPECT_EQ(f({"event", "container_id"}), "c9");
  EXPECT_EQ(f({"event"}), std::nullopt);
  EXPECT_EQ(f({"timestamp"}), std::nullopt);
  Envelope bad = env;
  bad.mutable_event()->set_value("\xff\xff");
  EnvelopeFields g(bad);
  EXPECT_EQ(g({"event", "container_id"}), std::nullopt);
}

}  // namespace
}  // namespace mcd::events
