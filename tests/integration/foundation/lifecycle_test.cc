// Start-up and shutdown: persistence across restarts, sockets, refusing a
// live daemon's socket, bad config, log format, the ephemeral mode.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pkg/fs.h"
#include "pkg/mount.h"
#include "tests/integration/foundation/common.h"

namespace mcd::itest {
namespace {

std::string UUIDOf(const Daemon& d) {
  auto r = Ctr(d, {"version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto at = r.out.find("UUID: ");
  if (at == std::string::npos) return "";
  return r.out.substr(at + 6, r.out.find('\n', at) - at - 6);
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

TEST(Lifecycle, RestartKeepsNamespacesAndUUID) {
  Require("ctr");
  TempDir dir;
  std::string uuid;
  {
    Daemon d(dir.path());
    d.Start();
    ASSERT_EQ(Ctr(d, {"ns", "create", "kept", "l=v"}).exit_code, 0);
    uuid = UUIDOf(d);
    ASSERT_EQ(uuid.size(), 36u) << uuid;
    EXPECT_EQ(d.Stop(), 0);
  }
  Daemon d(dir.path());
  d.Start();
  EXPECT_EQ(UUIDOf(d), uuid);
  auto r = Ctr(d, {"ns", "ls"});
  EXPECT_EQ(Rows(r.out)[1], (std::vector<std::string>{"kept", "l=v"})) << r.out;
  // A crash (SIGKILL) loses nothing either: writes are synced.
  ASSERT_EQ(Ctr(d, {"ns", "create", "after"}).exit_code, 0);
  d.Kill();
  Daemon again(dir.path());
  again.Start();  // the socket left by the crash is stale and replaced
  EXPECT_EQ(Ctr(again, {"ns", "ls", "-q"}).out, "after\nkept\n");
  EXPECT_EQ(UUIDOf(again), uuid);
}

// The root and state directories as containerd 1.6.20 leaves them, run
// beside it: the root is 0700 (an existing 0755 one too), the state keeps
// an existing mode, and each plugin's directory has containerd's name and
// mode (the UUID under io.containerd.grpc.v1.introspection).
TEST(Lifecycle, RootAndStateLayoutIsContainerds) {
  Require("ctr");
  Require("containerd");
  auto layout = [](const std::string& binary, bool existing) {
    TempDir dir;
    Daemon d(dir.path(), Daemon::Options{.extra_args = {},
                                         .config_toml = "version = 2\ndisabled_plugins = "
                                                        "[\"io.containerd.grpc.v1.cri\"]\n",
                                         .binary = binary});
    if (existing) {
      fs::MkdirAll(d.root(), 0755);
      fs::MkdirAll(d.state(), 0755);
      ::chmod(d.root().c_str(), 0755);
      ::chmod(d.state().c_str(), 0755);
    }
    d.Start();
    EXPECT_EQ(Ctr(d, {"version"}).exit_code, 0);
    std::string out;
    for (const auto& top : {d.root(), d.state()}) {
      std::vector<std::string> names = {""};
      for (const auto& e : std::filesystem::directory_iterator(top)) {
        names.push_back("/" + e.path().filename().string());
      }
      std::sort(names.begin(), names.end());
      for (const auto& n : names) {
        // The metadata store is RocksDB here, bolt there (README).
        if (n.find("io.containerd.metadata.v1.") != std::string::npos) continue;
        struct stat st;
        EXPECT_EQ(::lstat((top + n).c_str(), &st), 0) << top + n;
        out +=
            fmt::format("{:o} {}{}\n", st.st_mode & 07777, top == d.root() ? "root" : "state", n);
      }
    }
    EXPECT_TRUE(Exists(d.root() + "/io.containerd.grpc.v1.introspection/uuid")) << out;
    EXPECT_EQ(d.Stop(), 0);
    return out;
  };
  for (bool existing : {false, true}) {
    EXPECT_EQ(layout("", existing), layout("containerd", existing)) << "existing=" << existing;
  }
}

// containerd unmounts <root>/tmpmounts at start: a daemon killed while a
// layer was applied through a temporary mount leaves nothing mounted.
TEST(Lifecycle, StartUnmountsTemporaryMountsACrashLeft) {
  TempDir dir;
  Daemon d(dir.path());
  std::string left = d.root() + "/tmpmounts/containerd-mount123";
  fs::MkdirAll(left, 0700);
  mount::MountAll({mount::Mount("tmpfs", "tmpfs", {"size=1m"})}, left);
  ASSERT_TRUE(mount::IsMountPoint(left));
  d.Start();
  EXPECT_TRUE(mount::MountPointsUnder(d.root()).empty());
  EXPECT_FALSE(Exists(left));
  EXPECT_TRUE(Exists(d.root() + "/tmpmounts"));
}

TEST(Lifecycle, SigtermRemovesSocketAndExitsZero) {
  Require("ctr");
  TempDir dir;
  Daemon d(dir.path());
  d.Start();
  ASSERT_TRUE(Exists(d.socket()));
  struct stat st;
  ASSERT_EQ(::stat(d.socket().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(d.Stop(), 0);
  EXPECT_FALSE(Exists(d.socket()));
  EXPECT_NE(d.Log().find("containerd successfully shutdown"), std::string::npos) << d.Log();
}

TEST(Lifecycle, SecondDaemonOnSameSocketRefuses) {
  Require("ctr");
  TempDir dir, other;
  Daemon d(dir.path());
  d.Start();
  auto r = RunDaemonBinary({"--root", other.path() + "/root", "--state", other.path() + "/state",
                            "--address", d.socket()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("address " + d.socket() + " is in use by a running daemon"),
            std::string::npos)
      << r.err;
  // The first one is untouched and still serves.
  EXPECT_TRUE(Exists(d.socket()));
  EXPECT_EQ(Ctr(d, {"version"}).exit_code, 0);
}

TEST(Lifecycle, StaleSocketIsReplaced) {
  Require("ctr");
  TempDir dir;
  Daemon d(dir.path());
  // A socket file nobody listens on, as a killed daemon leaves behind.
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", d.socket().c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  ASSERT_TRUE(Exists(d.socket()));
  d.Start();
  EXPECT_EQ(Ctr(d, {"version"}).exit_code, 0);
  EXPECT_NE(d.Log().find("removing stale socket"), std::string::npos) << d.Log();
}

TEST(Lifecycle, NonSocketAtAddressRefuses) {
  TempDir dir;
  std::string path = dir.path() + "/notasocket";
  fs::WriteFileAtomic(path, "keep me");
  auto r = RunDaemonBinary(
      {"--root", dir.path() + "/root", "--state", dir.path() + "/state", "--address", path});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(path + " exists and is not a socket"), std::string::npos) << r.err;
  EXPECT_EQ(fs::ReadFile(path), "keep me");
}

TEST(Lifecycle, BadConfigValueFailsWithFileKeyAndReason) {
  TempDir dir;
  Daemon d(dir.path(), Daemon::Options{.extra_args = {},
                                       .config_toml = "version = 2\n[grpc]\n  gid = \"wheel\"\n"});
  std::string log;
  EXPECT_NE(d.StartExpectFailure(&log), 0);
  EXPECT_NE(log.find("invalid config " + dir.path() +
                     "/config.toml:3: grpc.gid: expected an integer: invalid argument"),
            std::string::npos)
      << log;
  EXPECT_FALSE(Exists(d.socket()));
}

TEST(Lifecycle, UnknownPluginKeysOnlyWarn) {
  TempDir dir;
  Daemon d(dir.path(),
           Daemon::Options{.extra_args = {},
                           .config_toml = "version = 2\n[plugins.\"io.containerd.metadata.v1."
                                          "rocksdb\"]\n  x = 1\n[plugins.\"io.containerd.grpc.v1."
                                          "introspection\"]\n  y = 2\n"});
  // Unknown keys in plugin sections only warn.
  d.Start();
  EXPECT_NE(d.Log().find("unknown config key"), std::string::npos) << d.Log();
}

TEST(Lifecycle, RequiredPluginMissingFailsStartup) {
  TempDir dir;
  Daemon d(dir.path(), Daemon::Options{.extra_args = {},
                                       .config_toml = "version = 2\nrequired_plugins = "
                                                      "[\"io.containerd.grpc.v1.nosuch\"]\n"});
  std::string log;
  EXPECT_NE(d.StartExpectFailure(&log), 0);
  EXPECT_NE(log.find("required plugin io.containerd.grpc.v1.nosuch not initialised"),
            std::string::npos)
      << log;
  EXPECT_FALSE(Exists(d.socket()));
}

TEST(Lifecycle, DisabledPluginIsNotLoaded) {
  Require("ctr");
  TempDir dir;
  Daemon d(dir.path(), Daemon::Options{.extra_args = {},
                                       .config_toml = "version = 2\ndisabled_plugins = "
                                                      "[\"io.containerd.grpc.v1.healthcheck\"]\n"});
  d.Start();
  auto r = Ctr(d, {"plugins", "ls", "id==healthcheck"});
  EXPECT_EQ(Rows(r.out).size(), 1u) << r.out;
}

// The config dockerd 20.10 writes for the containerd it starts itself
// (version 0 = containerd's deprecated version 1, plugins by id, a
// [plugins.linux] section): containerd 1.6 runs with it, so must this daemon
// (it refused "version 0" and dockerd gave up waiting for it).
TEST(Lifecycle, DockerdsManagedConfigIsAccepted) {
  Require("ctr");
  TempDir dir;
  const std::string x = dir.path() + "/exec/containerd";
  Daemon d(dir.path(), Daemon::Options{.extra_args = {}, .config_toml = R"(version = 0
root = ")" + dir.path() + R"(/docker/containerd/daemon"
state = ")" + x + R"(/daemon"
temp = ""
plugin_dir = ""
disabled_plugins = ["cri"]
required_plugins = []
oom_score = 0

[grpc]
  address = ")" + x + R"(/containerd.sock"
  tcp_address = ""
  tcp_tls_ca = ""
  tcp_tls_cert = ""
  tcp_tls_key = ""
  uid = 0
  gid = 0
  max_recv_message_size = 16777216
  max_send_message_size = 16777216

[ttrpc]
  address = ""
  uid = 0
  gid = 0

[debug]
  address = ")" + x + R"(/containerd-debug.sock"
  uid = 0
  gid = 0
  level = "debug"
  format = ""

[metrics]
  address = ""
  grpc_histogram = false

[cgroup]
  path = ""

[plugins]
  [plugins.linux]
    shim = "containerd-shim"
    runtime = "runc"
    runtime_root = ")" + dir.path() + R"(/docker/runc"
    no_shim = false
    shim_debug = true
)"});
  d.Start();
  EXPECT_NE(d.Log().find("containerd config version `1` has been deprecated"), std::string::npos)
      << d.Log();
  auto r = Ctr(d, {"version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Ctr(d, {"plugins", "ls", "id==version"});
  EXPECT_NE(r.out.find(" ok"), std::string::npos) << r.out;
}

// Version 1 names plugins by id in disabled_plugins, required_plugins and
// [plugins.<id>], as containerd's V1DisabledFilter and Decode.
TEST(Lifecycle, Version1ConfigNamesPluginsById) {
  Require("ctr");
  TempDir dir;
  Daemon d(dir.path(), Daemon::Options{.extra_args = {},
                                       .config_toml = "version = 1\n"
                                                      "disabled_plugins = [\"healthcheck\"]\n"
                                                      "required_plugins = [\"introspection\"]\n"
                                                      "[plugins.scheduler]\n"
                                                      "  pause_threshold = 0.05\n"});
  d.Start();
  auto r = Ctr(d, {"plugins", "ls", "id==healthcheck"});
  EXPECT_EQ(Rows(r.out).size(), 1u) << r.out;  // the header only
  auto dump = RunDaemonBinary({"--config", dir.path() + "/config.toml", "config", "dump"});
  EXPECT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find("pause_threshold = 0.05"), std::string::npos) << dump.out;
  d.Stop();
  // A required plugin by id that is not there fails start-up.
  TempDir dir2;
  Daemon bad(dir2.path(), Daemon::Options{.extra_args = {},
                                          .config_toml = "version = 1\n"
                                                         "required_plugins = [\"nosuch\"]\n"});
  std::string log;
  EXPECT_NE(bad.StartExpectFailure(&log), 0);
  EXPECT_NE(log.find("required plugin nosuch not initialised"), std::string::npos) << log;
}

// containerd reads a file without `version` as version 1 (by id); this
// daemon takes ids and URIs there, so an old file and one that only forgot
// the key both work. `config dump` writes version 2, as containerd's.
TEST(Lifecycle, ConfigWithoutVersionNamesPluginsByIdOrUri) {
  Require("ctr");
  TempDir dir;
  Daemon d(dir.path(),
           Daemon::Options{.extra_args = {},
                           .config_toml = "disabled_plugins = [\"healthcheck\", "
                                          "\"io.containerd.grpc.v1.version\"]\n"
                                          "required_plugins = [\"introspection\"]\n"
                                          "[plugins.scheduler]\n"
                                          "  pause_threshold = 0.05\n"
                                          "[plugins.\"io.containerd.gc.v1.scheduler\"]\n"
                                          "  deletion_threshold = 7\n"});
  d.Start();
  EXPECT_EQ(d.Log().find("has been deprecated"), std::string::npos) << d.Log();
  for (const char* id : {"healthcheck", "version"}) {
    auto r = Ctr(d, {"plugins", "ls", std::string("id==") + id});
    EXPECT_EQ(Rows(r.out).size(), 1u) << id << "\n" << r.out;  // the header only
  }
  auto dump = RunDaemonBinary({"--config", dir.path() + "/config.toml", "config", "dump"});
  EXPECT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find("\nversion = 2\n"), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find("pause_threshold = 0.05"), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find("deletion_threshold = 7"), std::string::npos) << dump.out;
}

TEST(Lifecycle, JsonLogFormat) {
  Require("ctr");
  TempDir dir;
  Daemon d(dir.path(), Daemon::Options{.extra_args = {},
                                       .config_toml = "version = 2\n[debug]\nformat = \"json\"\n"});
  d.Start();
  EXPECT_EQ(d.Stop(), 0);
  std::istringstream in(d.Log());
  std::string line;
  int lines = 0;
  bool booted = false;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++lines;
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(line)) << line;
    EXPECT_TRUE(j.contains("level") && j.contains("msg") && j.contains("time")) << line;
    if (j["msg"] == "containerd successfully booted") booted = true;
  }
  EXPECT_GT(lines, 3);
  EXPECT_TRUE(booted);
}

TEST(Lifecycle, TextLogFormat) {
  TempDir dir;
  Daemon d(dir.path());
  d.Start();
  std::string log = d.Log();
  EXPECT_NE(log.find("level=info msg=\"containerd successfully booted\""), std::string::npos)
      << log;
  EXPECT_EQ(log.rfind("time=\"", 0), 0u) << log;
}

// The last non-empty line of a failed start-up: the one error line.
std::string LastLine(const std::string& s) {
  std::string t = s;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t.substr(t.rfind('\n') == std::string::npos ? 0 : t.rfind('\n') + 1);
}

TEST(BadInput, UnknownFlag) {
  auto r = RunDaemonBinary({"--bogus"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--bogus"), std::string::npos) << r.err;
}

TEST(BadInput, ConfigThatDoesNotParse) {
  TempDir dir;
  std::string path = dir.path() + "/config.toml";
  fs::WriteFileAtomic(path, "version = 2\nroot = \n");
  auto r = RunDaemonBinary({"--config", path, "--root", dir.path() + "/root", "--state",
                            dir.path() + "/state", "--address", dir.path() + "/c.sock"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(LastLine(r.err).rfind("minicontainerd: invalid config " + path + ":2:", 0), 0u)
      << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line:\n" << r.err;
  EXPECT_FALSE(Exists(dir.path() + "/root"));
}

TEST(BadInput, SocketPathTooLong) {
  TempDir dir;
  std::string sock = dir.path() + "/" + std::string(110, 's') + ".sock";
  auto r = RunDaemonBinary(
      {"--root", dir.path() + "/root", "--state", dir.path() + "/state", "--address", sock});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(LastLine(r.err).find("unix socket path too long (> 107)"), std::string::npos) << r.err;
  EXPECT_FALSE(Exists(dir.path() + "/root"));
  EXPECT_FALSE(Exists(dir.path() + "/state"));
  // Room for the socket but not for "<socket>.ttrpc" is refused too.
  std::string edge = dir.path() + "/" + std::string(104 - dir.path().size(), 'e');
  ASSERT_EQ(edge.size(), 105u);
  r = RunDaemonBinary(
      {"--root", dir.path() + "/root", "--state", dir.path() + "/state", "--address", edge});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(LastLine(r.err).find("ttrpc address"), std::string::npos) << r.err;
}

TEST(BadInput, UnwritableRoot) {
  TempDir dir;
  auto r = RunDaemonBinary({"--root", "/proc/mcd-no-such-root", "--state", dir.path() + "/state",
                            "--address", dir.path() + "/c.sock"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(LastLine(r.err).find("/proc/mcd-no-such-root"), std::string::npos) << r.err;
  EXPECT_FALSE(Exists(dir.path() + "/c.sock"));
}

TEST(Lifecycle, EphemeralCleansUpOnInterrupt) {
  Require("ctr");
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 2);
    ::execl(MCD_DAEMON_BINARY, MCD_DAEMON_BINARY, "--ephemeral", nullptr);
    ::_exit(127);
  }
  ::close(out[1]);
  // Read stdout until the socket line.
  std::string seen;
  char buf[1024];
  while (seen.find("try:") == std::string::npos) {
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    seen.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  auto at = seen.find("socket: ");
  ASSERT_NE(at, std::string::npos) << seen;
  std::string socket = seen.substr(at + 8, seen.find('\n', at) - at - 8);
  std::string dir = socket.substr(0, socket.find('/', std::string("/tmp/").size()));
  EXPECT_EQ(dir.rfind("/tmp/minicontainerd-", 0), 0u) << dir;
  process::Options o;
  o.argv = {"ctr", "-a", socket, "version"};
  o.timeout = std::chrono::seconds(60);
  EXPECT_EQ(process::Run(o).exit_code, 0);
  // The managed opt directory (`ctr install`) is the throwaway one too.
  o.argv = {"ctr", "-a", socket, "plugins", "ls", "-d", "id==opt"};
  auto opt = process::Run(o);
  EXPECT_NE(opt.out.find("path      " + dir + "/opt\n"), std::string::npos) << opt.out;
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(Exists(dir)) << dir << " left behind";
}

}  // namespace
}  // namespace mcd::itest
