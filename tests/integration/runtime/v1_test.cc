// Runtime v1 (io.containerd.runtime.v1.linux) end to end: the real ctr and
// Go client, the real v1 containerd-shim and runc, as on containerd 1.6.20.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "pkg/fs.h"
#include "runtime/v1/shim.h"
#include "runtime/v2/shim_launch.h"
#include "tests/integration/runtime/support.h"

namespace mcd::itest::rt {
namespace {

const char* const kImage = "docker.io/library/busybox:latest";
const char* const kV1 = "io.containerd.runtime.v1.linux";

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::Exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().string());
  return out;
}

// What a v1 task may leave behind: its shim, the rootfs mount, the bundle
// and work dirs, the shim's socket, runc's state.
std::vector<std::string> V1Leftovers(const Daemon& d, const std::string& id) {
  std::vector<std::string> out;
  for (pid_t p : AwaitExit("-address " + d.socket() + " ", d.pid(), std::chrono::seconds(20)))
    out.push_back("shim process " + std::to_string(p));
  std::ifstream mi("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mi, line))
    if (line.find(d.state() + "/io.containerd.runtime.v1.linux") != std::string::npos)
      out.push_back("mount: " + line);
  for (const auto& base : {d.state(), d.root()})
    for (const auto& e : Entries(base + "/io.containerd.runtime.v1.linux/default"))
      out.push_back("bundle entry " + e);
  std::string sock = runtime::SocketAddress(d.socket(), "default", id).substr(7);
  if (fs::Exists(sock)) out.push_back("socket " + sock);
  if (fs::Exists("/run/containerd/runc/default/" + id)) out.push_back("runc state of " + id);
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

class RuntimeV1Test : public BusyboxDaemonTest {
 protected:
  RuntimeV1Test() : BusyboxDaemonTest({"ctr", "runc", "containerd-shim"}, kImage) {}
  process::Result RunDetached(const std::string& id) {
    ids_.push_back(id);
    return Ctr(d(), {"run", "--runtime", kV1, "-d", kImage, id, "sleep", "1000"});
  }
};

TEST_F(RuntimeV1Test, PluginListed) {
  auto r = Ctr(d(), {"plugins", "ls"});
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex(R"(io\.containerd\.runtime\.v1\s+linux\s+linux/\S+\s+ok)")))
      << r.out;
}

TEST_F(RuntimeV1Test, RunRmOutputAndExitCode) {
  ids_.push_back("v1run");
  auto r =
      Ctr(d(), {"run", "--runtime", kV1, "--rm", kImage, "v1run", "sh", "-c", "echo hi; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << ResultText(r);
  EXPECT_EQ(r.out, "hi\n");
  EXPECT_EQ(Ctr(d(), {"c", "ls", "-q"}).out, "");
  EXPECT_EQ(Join(V1Leftovers(d(), "v1run")), "");
  EXPECT_NE(d().Log().find("runtime v1 is deprecated since containerd v1.4"), std::string::npos);
}

TEST_F(RuntimeV1Test, DetachedExecKillRemove) {
  auto r = RunDetached("v1d");
  ASSERT_EQ(r.exit_code, 0) << ResultText(r);
  const std::string bundle = d().state() + "/io.containerd.runtime.v1.linux/default/v1d";
  for (const char* f : {"config.json", "address", "shim.pid", "init.pid"})
    EXPECT_TRUE(fs::Exists(bundle + "/" + f)) << f;
  EXPECT_EQ(fs::ReadFile(bundle + "/address"),
            runtime::SocketAddress(d().socket(), "default", "v1d"));
  EXPECT_TRUE(
      std::regex_search(Ctr(d(), {"task", "ls"}).out, std::regex(R"(v1d\s+\d+\s+RUNNING)")));

  r = Ctr(d(), {"task", "start", "v1d"});
  EXPECT_EQ(r.exit_code, 1) << ResultText(r);
  EXPECT_NE(r.err.find("ctr: task v1d: already exists"), std::string::npos) << ResultText(r);

  r = Ctr(d(), {"task", "exec", "--exec-id", "e1", "v1d", "sh", "-c", "echo in-exec; exit 4"});
  EXPECT_EQ(r.exit_code, 4) << ResultText(r);
  EXPECT_EQ(r.out, "in-exec\n");

  // The daemon reads the task's cgroup itself, as containerd's runtime v1.
  r = Ctr(d(), {"task", "metrics", "v1d"});
  EXPECT_EQ(r.exit_code, 0) << ResultText(r);
  EXPECT_NE(r.out.find("memory.usage_in_bytes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pids.current"), std::string::npos) << r.out;

  EventWatcher events(d());
  r = Ctr(d(), {"task", "kill", "-s", "KILL", "v1d"});
  EXPECT_EQ(r.exit_code, 0) << ResultText(r);
  ASSERT_TRUE(events.WaitFor({"/tasks/exit", "\"v1d\"", "\"exit_status\":137"})) << events.seen();
  EXPECT_TRUE(
      std::regex_search(Ctr(d(), {"task", "ls"}).out, std::regex(R"(v1d\s+\d+\s+STOPPED)")));
  r = Ctr(d(), {"task", "rm", "v1d"});
  EXPECT_EQ(r.exit_code, 0) << ResultText(r);
  // The runtime publishes the delete itself (the v1 shim does not).
  EXPECT_TRUE(events.WaitFor({"/tasks/delete", "\"v1d\""})) << events.seen();
  r = Ctr(d(), {"c", "rm", "v1d"});
  EXPECT_EQ(r.exit_code, 0) << ResultText(r);
  EXPECT_EQ(Join(V1Leftovers(d(), "v1d")), "");
}

// containerd's TestContainerRuntimeOptionsv1, and a Go client task's events.
TEST_F(RuntimeV1Test, GoClientRuncOptions) {
  Require("go");
  std::string bin = dir_.path() + "/goclientv1";
  auto r = BuildGo(MCD_GOCLIENT_DIR, bin);
  ASSERT_EQ(r.exit_code, 0) << ResultText(r);
  ids_.push_back("gov1");
  // The shim's own cgroup (WithShimCgroup), made in two hierarchies (a new
  // cpuset cgroup would take no process); removed once the shim is gone.
  const std::string cg = "/mcd-shimcg-" + std::to_string(::getpid());
  struct Cgroups {
    std::vector<std::string> dirs;
    ~Cgroups() {
      for (const auto& d : dirs) ::rmdir(d.c_str());
    }
  } cgroups;
  for (const char* h : {"memory", "pids"}) {
    std::string dir = std::string("/sys/fs/cgroup/") + h + cg;
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0) << dir;
    cgroups.dirs.push_back(dir);
  }
  r = Sh({bin, "-fifo-dir", d().fifo_dir(), d().socket(), kImage, "gov1",
          d().state() + "/io.containerd.runtime.v1.linux", cg});
  EXPECT_EQ(r.exit_code, 0) << ResultText(r);
  EXPECT_TRUE(std::regex_search(r.out, std::regex("shim-cgroup=\\d+:memory:" + cg + "\n")))
      << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("norunc-error=(.*)\n"))) << r.out;
  EXPECT_NE(m[1].str().find("\"no-runc\""), std::string::npos) << m[1];
  EXPECT_NE(r.out.find("stdout=\"from-go\\n\"\nexit=3\n"), std::string::npos) << r.out;
  // The v1 shim publishes the exit through a `publish` process of its own,
  // so it may come after the runtime's delete (on containerd too): only the
  // daemon's own events have an order.
  size_t c = r.out.find("event /tasks/create"), s = r.out.find("event /tasks/start"),
         de = r.out.find("event /tasks/delete");
  ASSERT_NE(c, std::string::npos) << r.out;
  ASSERT_NE(de, std::string::npos) << r.out;
  EXPECT_LT(c, s);
  EXPECT_LT(s, de);
  EXPECT_EQ(Join(V1Leftovers(d(), "gov1")), "");
  EXPECT_EQ(Join(V1Leftovers(d(), "gov1-norunc")), "");
}

TEST_F(RuntimeV1Test, SurvivesDaemonCrash) {
  auto r = RunDetached("v1crash");
  ASSERT_EQ(r.exit_code, 0) << ResultText(r);
  // A second task whose shim dies while the daemon is down: cleaned up at
  // start-up (runc state, mount, bundle), its container left to delete.
  r = RunDetached("v1gone");
  ASSERT_EQ(r.exit_code, 0) << ResultText(r);
  const std::string gone = d().state() + "/io.containerd.runtime.v1.linux/default/v1gone";
  pid_t gone_shim = std::stoi(fs::ReadFile(gone + "/shim.pid"));
  d().Kill();
  ASSERT_EQ(::kill(gone_shim, SIGKILL), 0);
  EXPECT_TRUE(
      AwaitExit("-workdir " + d().root() + "/io.containerd.runtime.v1.linux/default/v1gone ", -1,
                std::chrono::seconds(20))
          .empty());
  d().Start();
  r = Ctr(d(), {"task", "ls", "-q"});
  EXPECT_EQ(r.out, "v1crash\n") << ResultText(r);
  EXPECT_FALSE(fs::Exists(gone));
  EXPECT_FALSE(fs::Exists("/run/containerd/runc/default/v1gone"));
  r = Ctr(d(), {"c", "rm", "v1gone"});
  EXPECT_EQ(r.exit_code, 0) << ResultText(r);
  EXPECT_FALSE(fs::Exists(runtime::SocketAddress(d().socket(), "default", "v1gone").substr(7)));

  EXPECT_TRUE(
      std::regex_search(Ctr(d(), {"task", "ls"}).out, std::regex(R"(v1crash\s+\d+\s+RUNNING)")));
  r = Ctr(d(), {"task", "exec", "--exec-id", "e1", "v1crash", "echo", "after-restart"});
  EXPECT_EQ(r.exit_code, 0) << ResultText(r);
  EXPECT_EQ(r.out, "after-restart\n");
  r = Ctr(d(), {"task", "metrics", "v1crash"});
  EXPECT_EQ(r.exit_code, 0) << ResultText(r);
  EXPECT_NE(r.out.find("memory.usage_in_bytes"), std::string::npos) << r.out;
  r = Ctr(d(), {"task", "kill", "-s", "KILL", "v1crash"});
  EXPECT_EQ(r.exit_code, 0) << ResultText(r);
  r = Ctr(d(), {"task", "rm", "-f", "v1crash"});
  EXPECT_EQ(r.exit_code, 0) << ResultText(r);
  r = Ctr(d(), {"c", "rm", "v1crash"});
  EXPECT_EQ(r.exit_code, 0) << ResultText(r);
  EXPECT_EQ(Join(V1Leftovers(d(), "v1crash")), "");
}

TEST_F(RuntimeV1Test, ShimKilledWhileDaemonRuns) {
  auto r = RunDetached("v1dead");
  ASSERT_EQ(r.exit_code, 0) << ResultText(r);
  const std::string bundle = d().state() + "/io.containerd.runtime.v1.linux/default/v1dead";
  pid_t shim = std::stoi(fs::ReadFile(bundle + "/shim.pid"));
  EventWatcher events(d());
  ASSERT_EQ(::kill(shim, SIGKILL), 0);
  ASSERT_TRUE(events.WaitFor({"/tasks/exit", "\"v1dead\"", "\"exit_status\":137"}))
      << events.seen();
  ASSERT_TRUE(events.WaitFor({"/tasks/delete", "\"v1dead\""})) << events.seen();
  EXPECT_EQ(Ctr(d(), {"task", "ls", "-q"}).out, "");
  r = Ctr(d(), {"c", "rm", "v1dead"});
  EXPECT_EQ(r.exit_code, 0) << ResultText(r);
  EXPECT_EQ(Join(V1Leftovers(d(), "v1dead")), "");
}

// The in-process shim is not there: the plugin says so, the rest runs.
TEST(RuntimeV1Config, NoShimIsRefused) {
  Require("ctr");
  TempDir dir;
  Daemon d(dir.path(), {.extra_args = {},
                        .config_toml = "version = 2\n[plugins.\"io.containerd.runtime.v1.linux\"]\n"
                                       "  no_shim = true\n"});
  d.Start();
  auto r = Ctr(d, {"plugins", "ls", "-d", "id==linux"});
  EXPECT_NE(r.out.find("no_shim = true (the in-process shim) is not supported"), std::string::npos)
      << ResultText(r);
  r = Ctr(d, {"plugins", "ls", "id==tasks"});
  EXPECT_NE(r.out.find(" ok"), std::string::npos) << ResultText(r);
}

// A shim binary that is not there fails the create as containerd's does,
// leaving nothing.
TEST(RuntimeV1Config, MissingShimBinary) {
  Require("ctr");
  TempDir dir;
  Daemon d(dir.path(), {.extra_args = {},
                        .config_toml = "version = 2\n[plugins.\"io.containerd.runtime.v1.linux\"]\n"
                                       "  shim = \"no-such-shim\"\n"});
  d.Start();
  ASSERT_NO_FATAL_FAILURE(ImportBusybox(d, dir.path(), kImage));
  auto r = Ctr(d, {"run", "--runtime", kV1, "-d", kImage, "noshim", "true"});
  EXPECT_EQ(r.exit_code, 1) << ResultText(r);
  EXPECT_NE(r.err.find("ctr: failed to start shim: no-such-shim resolves to executable in current "
                       "directory (./no-such-shim): unknown"),
            std::string::npos)
      << ResultText(r);
  EXPECT_EQ(Ctr(d, {"c", "rm", "noshim"}).exit_code, 0);
  EXPECT_EQ(Join(V1Leftovers(d, "noshim")), "");
}

}  // namespace
}  // namespace mcd::itest::rt
