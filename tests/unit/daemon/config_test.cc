// config.toml (containerd's version 2): values, warnings for unknown keys,
// errors naming file, line, key and reason; plugin sections over defaults.
#include "daemon/config.h"

#include <gtest/gtest.h>

#include "pkg/errdefs.h"

namespace mcd::daemon {
namespace {

std::string ConfigError(const std::string& text) {
  try {
    ParseConfig(text, "/etc/x/config.toml", nullptr);
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kInvalidArgument);
    return e.what();
  }
  ADD_FAILURE() << "no error for " << text;
  return "";
}

TEST(Config, GoodFile) {
  std::vector<std::string> warnings;
  Config c = ParseConfig(R"(version = 2
root = "/r"
state = "/s"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
required_plugins = ["io.containerd.grpc.v1.version"]
oom_score = -999

[cgroup]
  path = "/mcd/daemon"

[grpc]
  address = "/s/c.sock"
  uid = 1
  gid = 2
  max_recv_message_size = 100
  max_send_message_size = 200

[ttrpc]
  address = "/s/t.sock"

[debug]
  level = "debug"
  format = "json"

[plugins."io.containerd.gc.v1.scheduler"]
  pause_threshold = 0.05
)",
                         "config.toml", &warnings);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  EXPECT_EQ(c.version, 2);
  EXPECT_EQ(c.root, "/r");
  EXPECT_EQ(c.state, "/s");
  EXPECT_EQ(c.disabled_plugins, std::vector<std::string>{"io.containerd.grpc.v1.cri"});
  EXPECT_EQ(c.required_plugins, std::vector<std::string>{"io.containerd.grpc.v1.version"});
  EXPECT_EQ(c.grpc.address, "/s/c.sock");
  EXPECT_EQ(c.grpc.uid, 1);
  EXPECT_EQ(c.grpc.gid, 2);
  EXPECT_EQ(c.grpc.max_recv_message_size, 100);
  EXPECT_EQ(c.grpc.max_send_message_size, 200);
  EXPECT_EQ(c.TtrpcAddress(), "/s/t.sock");
  EXPECT_EQ(c.debug.level, "debug");
  EXPECT_EQ(c.debug.format, "json");
  EXPECT_TRUE(c.plugins.contains("io.containerd.gc.v1.scheduler"));
  EXPECT_EQ(c.oom_score, -999);
  EXPECT_EQ(c.cgroup.path, "/mcd/daemon");
}

TEST(Config, Defaults) {
  Config c = ParseConfig("", "empty.toml", nullptr);
  EXPECT_EQ(c.version, 2);
  EXPECT_EQ(c.grpc.max_recv_message_size, 16 << 20);
  EXPECT_EQ(c.TtrpcAddress(), c.grpc.address + ".ttrpc");
  EXPECT_EQ(c.debug.format, "text");
}

TEST(Config, UnknownKeysWarnWithFileAndLine) {
  std::vector<std::string> warnings;
  ParseConfig("version = 2\nbogus = 1\n[grpc]\nadress = \"/x\"\n", "c.toml", &warnings);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0], "unknown config key c.toml:2: bogus");
  EXPECT_EQ(warnings[1], "unknown config key c.toml:4: grpc.adress");
}

TEST(Config, BadTypesNameFileLineKeyAndReason) {
  EXPECT_EQ(ConfigError("version = 2\nroot = 5\n"),
            "invalid config /etc/x/config.toml:2: root: expected a string: invalid argument");
  EXPECT_EQ(ConfigError("[grpc]\ngid = \"wheel\"\n"),
            "invalid config /etc/x/config.toml:2: grpc.gid: expected an integer: invalid argument");
  EXPECT_EQ(ConfigError("disabled_plugins = \"x\"\n"),
            "invalid config /etc/x/config.toml:1: disabled_plugins: expected an array of strings: "
            "invalid argument");
  EXPECT_EQ(ConfigError("version = 3\n"),
            "invalid config /etc/x/config.toml:1: version: unsupported version 3, expected 2: "
            "invalid argument");
  EXPECT_EQ(ConfigError("[debug]\nformat = \"xml\"\n"),
            "invalid config /etc/x/config.toml:2: debug.format: expected \"text\" or \"json\": "
            "invalid argument");
  EXPECT_EQ(ConfigError("grpc = 3\n"),
            "invalid config /etc/x/config.toml:1: grpc: expected a table: invalid argument");
}

TEST(Config, SyntaxErrorNamesFileAndPosition) {
  std::string e = ConfigError("version = 2\nroot = \n");
  EXPECT_EQ(e.rfind("invalid config /etc/x/config.toml:2:", 0), 0u) << e;
}

plugin::Registration WithDefaults() {
  plugin::Registration r;
  r.type = "io.containerd.test.v1";
  r.id = "p";
  r.config = toml::table{{"path", "/default"},
                         {"size", 10},
                         {"ratio", 0.5},
                         {"nested", toml::table{{"on", true}, {"name", "n"}}}};
  return r;
}

TEST(Config, PluginSectionMergesOverDefaults) {
  Config c = ParseConfig(R"([plugins."io.containerd.test.v1.p"]
  size = 20
  ratio = 1
  extra = "kept"
  [plugins."io.containerd.test.v1.p".nested]
    on = false
)",
                         "c.toml", nullptr);
  std::vector<std::string> warnings;
  toml::table t = PluginConfig(c, WithDefaults(), &warnings);
  EXPECT_EQ(t["path"].value_or(std::string()), "/default");
  EXPECT_EQ(t["size"].value_or(0), 20);
  EXPECT_DOUBLE_EQ(t["ratio"].value_or(0.0), 1.0);  // an integer where a float is expected
  EXPECT_EQ(t["nested"]["on"].value_or(true), false);
  EXPECT_EQ(t["nested"]["name"].value_or(std::string()), "n");
  EXPECT_EQ(t["extra"].value_or(std::string()), "kept");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "unknown config key c.toml:4: plugins.\"io.containerd.test.v1.p\".extra");
}

TEST(Config, PluginSectionAliasReadBeforeOwnSection) {
  auto reg = WithDefaults();
  reg.config_aliases = {"io.containerd.test.v1.old"};
  Config c = ParseConfig(R"([plugins."io.containerd.test.v1.old"]
  path = "/old"
  size = 30
[plugins."io.containerd.test.v1.p"]
  size = 40
)",
                         "c.toml", nullptr);
  toml::table t = PluginConfig(c, reg, nullptr);
  EXPECT_EQ(t["path"].value_or(std::string()), "/old");
  EXPECT_EQ(t["size"].value_or(0), 40);
}

// Version 1 (and 0, which dockerd writes for the containerd it starts):
// deprecated but loaded, plugin sections by id, as containerd 1.6.
TEST(Config, Version1NamesPluginsById) {
  for (const char* v : {"0", "1"}) {
    std::vector<std::string> warnings;
    Config c = ParseConfig(std::string("version = ") + v + R"(
disabled_plugins = ["cri"]
[plugins.p]
  size = 20
[plugins."io.containerd.test.v1.p"]
  size = 30
)",
                           "c.toml", &warnings);
    EXPECT_EQ(c.version, 1) << v;
    ASSERT_EQ(warnings.size(), 1u) << v;
    EXPECT_EQ(warnings[0].rfind("containerd config version `1` has been deprecated", 0), 0u);
    auto reg = WithDefaults();
    EXPECT_TRUE(NamesPlugin(c, reg, "p"));
    EXPECT_FALSE(NamesPlugin(c, reg, "io.containerd.test.v1.p"));
    // The id's section applies; the URI's is not looked at.
    EXPECT_EQ(PluginConfig(c, reg, nullptr)["size"].value_or(0), 20) << v;
  }
  // An alias by its id too.
  auto reg = WithDefaults();
  reg.config_aliases = {"io.containerd.test.v1.old"};
  Config c = ParseConfig("version = 1\n[plugins.old]\n  path = \"/old\"\n", "c.toml", nullptr);
  EXPECT_EQ(PluginConfig(c, reg, nullptr)["path"].value_or(std::string()), "/old");
  Config v2 = ParseConfig("version = 2\n", "c.toml", nullptr);
  EXPECT_TRUE(NamesPlugin(v2, reg, "io.containerd.test.v1.p"));
  EXPECT_FALSE(NamesPlugin(v2, reg, "p"));
  EXPECT_EQ(ShortId("io.containerd.metadata.v1.bolt"), "bolt");
  EXPECT_EQ(ShortId("io.containerd.runtime.v1.linux"), "linux");
}

// containerd reads a file without `version` as version 1 (plugins by id);
// this daemon takes both names there, the URI's section over the id's.
TEST(Config, NoVersionNamesPluginsByIdOrUri) {
  std::vector<std::string> warnings;
  Config c = ParseConfig(R"(
[plugins.p]
  size = 20
  path = "/by-id"
[plugins."io.containerd.test.v1.p"]
  size = 30
)",
                         "c.toml", &warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_FALSE(c.version_given);
  auto reg = WithDefaults();
  EXPECT_TRUE(NamesPlugin(c, reg, "p"));
  EXPECT_TRUE(NamesPlugin(c, reg, "io.containerd.test.v1.p"));
  EXPECT_FALSE(NamesPlugin(c, reg, "io.containerd.test.v1.q"));
  toml::table pc = PluginConfig(c, reg, nullptr);
  EXPECT_EQ(pc["size"].value_or(0), 30);
  EXPECT_EQ(pc["path"].value_or(std::string()), "/by-id");
  // Only the id's section: it applies.
  Config old = ParseConfig("[plugins.p]\n  size = 20\n", "c.toml", nullptr);
  EXPECT_EQ(PluginConfig(old, reg, nullptr)["size"].value_or(0), 20);
  // A version, even 2, ends the guessing.
  Config v2 = ParseConfig("version = 2\n[plugins.p]\n  size = 20\n", "c.toml", nullptr);
  EXPECT_TRUE(v2.version_given);
  EXPECT_NE(PluginConfig(v2, reg, nullptr)["size"].value_or(0), 20);
}

TEST(Config, PluginSectionTypeMismatchFails) {
  Config c =
      ParseConfig("[plugins.\"io.containerd.test.v1.p\"]\nsize = \"big\"\n", "c.toml", nullptr);
  try {
    PluginConfig(c, WithDefaults(), nullptr);
    FAIL() << "no error";
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kInvalidArgument);
    EXPECT_STREQ(e.what(),
                 "invalid config c.toml:2: plugins.\"io.containerd.test.v1.p\".size: expected "
                 "integer, got string: invalid argument");
  }
  Config f = ParseConfig("[plugins.\"io.containerd.test.v1.p\"]\nsize = 1.5\n", "c.toml", nullptr);
  EXPECT_THROW(PluginConfig(f, WithDefaults(), nullptr), errdefs::Error);
}

TEST(Config, RenderedDefaultParsesBackWithoutWarnings) {
  Config def;
  std::vector<plugin::Registration> regs = {WithDefaults()};
  std::string text = Render(def, regs);
  std::vector<std::string> warnings;
  Config back = ParseConfig(text, "default.toml", &warnings);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  EXPECT_EQ(back.root, def.root);
  EXPECT_EQ(back.grpc.address, def.grpc.address);
  EXPECT_EQ(back.grpc.max_send_message_size, def.grpc.max_send_message_size);
  warnings.clear();
  toml::table t = PluginConfig(back, regs[0], &warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(t, regs[0].config);
  // Rendering is stable: what parses back renders the same.
  EXPECT_EQ(Render(back, regs), text);
}

}  // namespace
}  // namespace mcd::daemon
