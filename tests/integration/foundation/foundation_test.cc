// ctr version, ctr plugins ls, config default/dump against the real ctr.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "pkg/fs.h"
#include "pkg/mount.h"
#include "tests/integration/foundation/common.h"

namespace mcd::itest {

std::vector<std::vector<std::string>> Rows(const std::string& out) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<std::string> cols;
    std::string c;
    while (ls >> c) cols.push_back(c);
    if (!cols.empty()) rows.push_back(cols);
  }
  return rows;
}

process::Result RunDaemonBinary(const std::vector<std::string>& args) {
  process::Options o;
  o.argv = {MCD_DAEMON_BINARY};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.timeout = std::chrono::seconds(60);
  return process::Run(o);
}

std::vector<std::pair<std::string, std::string>> RegisteredPlugins() {
  auto def = RunDaemonBinary({"config", "default"});
  EXPECT_EQ(def.exit_code, 0) << def.err;
  std::vector<std::pair<std::string, std::string>> out;
  const std::string open = "[plugins.\"";
  for (size_t at = def.out.find(open); at != std::string::npos; at = def.out.find(open, at + 1)) {
    size_t start = at + open.size();
    std::string uri = def.out.substr(start, def.out.find('"', start) - start);
    // <type>.<id>: the type is the first four dot-separated parts.
    size_t dot = 0;
    for (int i = 0; i < 4 && dot != std::string::npos; i++) dot = uri.find('.', dot + 1);
    if (dot == std::string::npos) continue;
    std::pair<std::string, std::string> p{uri.substr(0, dot), uri.substr(dot + 1)};
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
  return out;
}

namespace {

TEST_F(DaemonTest, VersionShowsServer) {
  auto r = C({"version"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto server = r.out.find("Server:");
  ASSERT_NE(server, std::string::npos) << r.out;
  std::string s = r.out.substr(server);
  EXPECT_NE(s.find("Version:  1.6.20~ds1"), std::string::npos) << s;
  // The same build as Debian's ctr: no "revision mismatch" warning.
  EXPECT_NE(s.find("Revision: 1.6.20~ds1-1+deb12u3"), std::string::npos) << s;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(s.find("UUID: "), std::string::npos) << s;
}

TEST_F(DaemonTest, PluginsLsListsEveryRegisteredPluginOk) {
  auto r = C({"plugins", "ls"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = Rows(r.out);
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0], (std::vector<std::string>{"TYPE", "ID", "PLATFORMS", "STATUS"}));
  auto regs = RegisteredPlugins();
  ASSERT_GE(regs.size(), 8u);
  EXPECT_EQ(rows.size(), regs.size() + 1) << r.out;
  for (const auto& [type, id] : regs) {
    bool found = false;
    for (const auto& row : rows) {
      if (row.size() >= 3 && row[0] == type && row[1] == id) {
        found = true;
        // btrfs, as containerd's, skips where the root is on another filesystem.
        std::string want = "ok";
        if (id == "btrfs" && mount::Lookup(d_->root()).fstype != "btrfs") want = "skip";
        EXPECT_EQ(row.back(), want) << type << "." << id << ":\n" << r.out << d_->Log();
      }
    }
    EXPECT_TRUE(found) << type << "." << id << " missing from:\n" << r.out;
  }
}

// `ctr plugins ls -d` against the real containerd 1.6.20 on the same
// machine: the same plugins in the same order with the same requirements,
// less the snapshotters this daemon has not (aufs, devmapper, zfs)
// and with rocksdb where containerd has bolt.
TEST_F(DaemonTest, PluginsAsContainerdListsThem) {
  Require("containerd");
  TempDir real_dir;
  Daemon real(real_dir.path(), Daemon::Options{.extra_args = {},
                                               .config_toml = "version = 2\ndisabled_plugins = "
                                                              "[\"io.containerd.grpc.v1.cri\"]\n",
                                               .binary = "containerd"});
  real.Start();
  // "<type>.<id>" -> its Requires, in listing order.
  auto plugins = [](const std::string& out) {
    std::vector<std::pair<std::string, std::vector<std::string>>> list;
    std::string type;
    bool in_requires = false;
    for (const auto& row : Rows(out)) {
      if (row[0] == "Type:" && row.size() == 2) type = row[1];
      if (row[0] == "ID:" && row.size() == 2) {
        if (row[1] == "aufs" || row[1] == "devmapper" || row[1] == "zfs") {
          type.clear();
          continue;
        }
        list.push_back({type + "." + (row[1] == "bolt" ? "rocksdb" : row[1]), {}});
      }
      if (row[0].back() == ':') in_requires = row[0] == "Requires:";
      if (in_requires && row.size() == 1 && row[0] != "Requires:" && !type.empty())
        list.back().second.push_back(row[0]);
    }
    return list;
  };
  auto theirs = Ctr(real, {"plugins", "ls", "-d"});
  ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
  auto ours = C({"plugins", "ls", "-d"});
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  auto want = plugins(theirs.out);
  ASSERT_GE(want.size(), 30u) << theirs.out;
  EXPECT_EQ(plugins(ours.out), want) << ours.out << "\n---- containerd:\n" << theirs.out;
}

TEST_F(DaemonTest, PluginsLsFiltersAndDetails) {
  auto r = C({"plugins", "ls", "type==io.containerd.grpc.v1,id~=^name"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(Rows(r.out).size(), 2u) << r.out;
  EXPECT_EQ(Rows(r.out)[1][1], "namespaces");
  // Several filters are OR-ed.
  r = C({"plugins", "ls", "id==version", "id==namespaces"});
  EXPECT_EQ(Rows(r.out).size(), 3u) << r.out;
  // A malformed filter is the client's error, with containerd's message.
  r = C({"plugins", "ls", "id=="});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err,
            "ctr: filters: parse error: [id==]: expected value or quoted: invalid argument: "
            "invalid argument\n");
  r = C({"plugins", "ls", "-d", "id==rocksdb"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Column widths depend on the content; compare words.
  auto rows = Rows(r.out);
  auto has = [&](const std::vector<std::string>& want) {
    return std::find(rows.begin(), rows.end(), want) != rows.end();
  };
  EXPECT_TRUE(has({"Type:", "io.containerd.metadata.v1"})) << r.out;
  EXPECT_TRUE(has({"ID:", "rocksdb"})) << r.out;
  EXPECT_TRUE(has({"Requires:"})) << r.out;
  // containerd's bolt requires these two, not the event plugin.
  EXPECT_TRUE(has({"io.containerd.content.v1"})) << r.out;
  EXPECT_TRUE(has({"io.containerd.snapshotter.v1"})) << r.out;
  EXPECT_FALSE(has({"io.containerd.event.v1"})) << r.out;
  EXPECT_TRUE(has({"Exports:"})) << r.out;
  EXPECT_TRUE(has({"path", d_->root() + "/io.containerd.metadata.v1.rocksdb"})) << r.out;
}

TEST(Config, DefaultIsCompleteAndAcceptedBack) {
  Require("ctr");
  auto def = RunDaemonBinary({"config", "default"});
  ASSERT_EQ(def.exit_code, 0) << def.err;
  for (const char* key :
       {"version = 2", "root = ", "state = ", "[grpc]", "max_recv_message_size", "[ttrpc]",
        "[debug]", "disabled_plugins", "required_plugins", "[plugins"}) {
    EXPECT_NE(def.out.find(key), std::string::npos) << key << " missing from\n" << def.out;
  }
  // Every plugin the daemon has is listed (the same set ctr plugins ls shows).
  EXPECT_GE(RegisteredPlugins().size(), 8u) << def.out;
  TempDir dir;
  Daemon d(dir.path(), Daemon::Options{.extra_args = {}, .config_toml = def.out});
  d.Start();
  EXPECT_EQ(d.Log().find("unknown config key"), std::string::npos) << d.Log();
  auto r = Ctr(d, {"version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Config, ExampleFileIsAccepted) {
  Require("ctr");
  std::string example = fs::ReadFile(std::string(MCD_SOURCE_DIR) + "/config.toml.example");
  TempDir dir;
  Daemon d(dir.path(), Daemon::Options{.extra_args = {}, .config_toml = example});
  d.Start();
  EXPECT_EQ(d.Log().find("unknown config key"), std::string::npos) << d.Log();
  EXPECT_EQ(Ctr(d, {"version"}).exit_code, 0);
  // Every section of the defaults is documented in the example.
  auto def = RunDaemonBinary({"config", "default"});
  std::istringstream in(def.out);
  std::string line, section;
  while (std::getline(in, line)) {
    if (line.rfind("[", 0) == 0) {
      section = line;
      continue;
    }
    auto eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    EXPECT_NE(example.find(section), std::string::npos) << section << " not in the example";
    EXPECT_NE(example.find(line.substr(0, eq) + " = "), std::string::npos)
        << section << " " << line << " not in the example";
  }
}

TEST(Config, DumpShowsMergedValues) {
  TempDir dir;
  std::string path = dir.path() + "/config.toml";
  {
    std::ofstream f(path);
    f << "version = 2\nroot = \"/tmp/somewhere\"\n[grpc]\nmax_recv_message_size = 1234\n";
  }
  auto r = RunDaemonBinary({"--config", path, "--state", "/tmp/flagstate", "config", "dump"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("root = \"/tmp/somewhere\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("state = \"/tmp/flagstate\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max_recv_message_size = 1234"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max_send_message_size = 16777216"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace mcd::itest
