// The plugin graph: ordering by required types, "*", disabled plugins and the
// errors for cycles and unknown requirements.
#include <gtest/gtest.h>

#include <algorithm>

#include "pkg/errdefs.h"
#include "plugins/plugin.h"

namespace mcd::plugin {
namespace {

Registration R(std::string type, std::string id, std::vector<std::string> requires_ = {}) {
  Registration r;
  r.type = std::move(type);
  r.id = std::move(id);
  r.requires_ = std::move(requires_);
  return r;
}

std::vector<std::string> Order(const std::vector<Registration>& regs,
                               const std::vector<std::string>& disabled = {}) {
  std::vector<std::string> out;
  for (const auto* r : Graph(regs, disabled)) out.push_back(r->URI());
  return out;
}

size_t Pos(const std::vector<std::string>& order, const std::string& uri) {
  auto it = std::find(order.begin(), order.end(), uri);
  EXPECT_NE(it, order.end()) << uri;
  return static_cast<size_t>(it - order.begin());
}

std::string GraphError(const std::vector<Registration>& regs) {
  try {
    Graph(regs);
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kInvalidArgument);
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(Graph, OrdersByRequirements) {
  std::vector<Registration> regs = {
      R("t.grpc", "svc", {"t.service"}),
      R("t.service", "local", {"t.metadata", "t.event"}),
      R("t.metadata", "db", {"t.event", "t.content"}),
      R("t.content", "store"),
      R("t.event", "exchange"),
  };
  auto o = Order(regs);
  ASSERT_EQ(o.size(), 5u);
  EXPECT_LT(Pos(o, "t.event.exchange"), Pos(o, "t.metadata.db"));
  EXPECT_LT(Pos(o, "t.content.store"), Pos(o, "t.metadata.db"));
  EXPECT_LT(Pos(o, "t.metadata.db"), Pos(o, "t.service.local"));
  EXPECT_LT(Pos(o, "t.service.local"), Pos(o, "t.grpc.svc"));
}

TEST(Graph, RegistrationOrderBreaksTies) {
  std::vector<Registration> regs = {R("t.a", "x"), R("t.b", "y"), R("t.c", "z")};
  EXPECT_EQ(Order(regs), (std::vector<std::string>{"t.a.x", "t.b.y", "t.c.z"}));
}

// The daemon puts its registrations in containerd's order before the graph:
// listed ones first in the list's order, the rest after them as registered.
TEST(Graph, RegistryOrderPutsListedPluginsFirst) {
  Registry reg;
  for (const char* id : {"a", "b", "c", "d"}) reg.Register(R("t.v1.x", id));
  reg.Order({"t.v1.x.c", "t.v1.x.nosuch", "t.v1.x.a"});
  std::vector<std::string> ids;
  for (const auto& r : reg.All()) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"c", "a", "b", "d"}));
  EXPECT_EQ(Order(reg.All()),
            (std::vector<std::string>{"t.v1.x.c", "t.v1.x.a", "t.v1.x.b", "t.v1.x.d"}));
}

TEST(Graph, EveryPluginOfARequiredTypeComesFirst) {
  std::vector<Registration> regs = {
      R("t.grpc", "a", {"t.snap"}),
      R("t.snap", "overlay"),
      R("t.snap", "native"),
  };
  auto o = Order(regs);
  EXPECT_LT(Pos(o, "t.snap.overlay"), Pos(o, "t.grpc.a"));
  EXPECT_LT(Pos(o, "t.snap.native"), Pos(o, "t.grpc.a"));
}

TEST(Graph, WildcardComesAfterEveryOtherType) {
  std::vector<Registration> regs = {
      R("t.internal", "all", {"*"}),    R("t.a", "x"),
      R("t.b", "y", {"t.a"}),           R("t.internal", "sibling"),
      R("t.grpc", "everything", {"*"}),
  };
  auto o = Order(regs);
  ASSERT_EQ(o.size(), 5u);
  for (const char* dep : {"t.a.x", "t.b.y"}) {
    EXPECT_LT(Pos(o, dep), Pos(o, "t.internal.all"));
    EXPECT_LT(Pos(o, dep), Pos(o, "t.grpc.everything"));
  }
  // "*" means other types: a sibling of the same type is not required, and
  // two "*" plugins do not wait for each other (no cycle).
  EXPECT_LT(Pos(o, "t.internal.sibling"), Pos(o, "t.grpc.everything"));
}

TEST(Graph, CycleNamesThePath) {
  std::vector<Registration> regs = {
      R("t.a", "x", {"t.b"}),
      R("t.b", "y", {"t.c"}),
      R("t.c", "z", {"t.a"}),
  };
  EXPECT_EQ(GraphError(regs),
            "plugin dependency cycle: t.a.x -> t.b.y -> t.c.z -> t.a.x: invalid argument");
}

TEST(Graph, SelfTypeIsNoCycle) {
  // Requiring one's own type means the others of it.
  std::vector<Registration> regs = {R("t.a", "x", {"t.a"}), R("t.a", "y")};
  auto o = Order(regs);
  EXPECT_LT(Pos(o, "t.a.y"), Pos(o, "t.a.x"));
}

TEST(Graph, MissingRequirement) {
  std::vector<Registration> regs = {R("t.a", "x"), R("t.b", "y", {"t.nosuch"})};
  EXPECT_EQ(GraphError(regs),
            "plugin t.b.y requires unknown plugin type t.nosuch: invalid argument");
}

TEST(Graph, DisabledPluginsAreLeftOut) {
  std::vector<Registration> regs = {
      R("t.a", "x"),
      R("t.a", "off"),
      R("t.b", "y", {"t.a"}),
  };
  EXPECT_EQ(Order(regs, {"t.a.off"}), (std::vector<std::string>{"t.a.x", "t.b.y"}));
  // Disabling a provider is not a broken graph: the dependant still loads
  // (and finds no instance at init).
  EXPECT_EQ(Order(regs, {"t.a.off", "t.a.x"}), (std::vector<std::string>{"t.b.y"}));
  // A disabled plugin's own requirements are not checked.
  regs.push_back(R("t.c", "broken", {"t.nosuch"}));
  EXPECT_EQ(Order(regs, {"t.c.broken"}).size(), 3u);
}

TEST(Graph, DisabledPluginBreaksACycle) {
  std::vector<Registration> regs = {R("t.a", "x", {"t.b"}), R("t.b", "y", {"t.a"})};
  EXPECT_EQ(Order(regs, {"t.b.y"}), (std::vector<std::string>{"t.a.x"}));
}

TEST(Registry, DuplicateRegistrationIsRefused) {
  Registry r;
  r.Register(R("t.a", "x"));
  EXPECT_THROW(r.Register(R("t.a", "x")), std::logic_error);
  r.Register(R("t.a", "y"));
  EXPECT_EQ(r.All().size(), 2u);
}

TEST(Set, LookupByTypeAndId) {
  std::vector<Registration> regs = {R("t.a", "x"), R("t.a", "y")};
  Set set;
  auto a = std::make_shared<Loaded>();
  a->reg = &regs[0];
  a->status = {Status::State::kSkipped, "not here", 0};
  auto b = std::make_shared<Loaded>();
  b->reg = &regs[1];
  b->instance = std::make_shared<Instance>();
  set.Add(a);
  set.Add(b);
  EXPECT_EQ(set.Get("t.a"), b->instance);  // the first that is ok
  EXPECT_EQ(set.Get("t.a", "y"), b->instance);
  try {
    set.Get("t.a", "x");
    FAIL();
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kNotFound);
    EXPECT_STREQ(e.what(), "plugin t.a.x not initialised: not here: not found");
  }
  EXPECT_THROW(set.Get("t.nosuch"), errdefs::Error);
  EXPECT_EQ(set.OfType("t.a").size(), 2u);
}

}  // namespace
}  // namespace mcd::plugin
