// Real containers through the real ctr, containerd-shim-runc-v2/v1 and runc.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "pkg/fd.h"
#include "pkg/fs.h"
#include "tests/integration/runtime/support.h"
#include "tests/integration/support/image_builder.h"
#include "ttrpc/client.h"

namespace mcd::itest::rt {
namespace {

const char* kImage = "docker.io/library/busybox:latest";

std::string Out(const process::Result& r) {
  return r.out + r.err;
}

// A daemon with the busybox image imported (and unpacked).
class Env {
 public:
  Env() : daemon_(dir_.path()) {
    for (const char* tool : {"ctr", "runc", "containerd-shim-runc-v2", "script"}) Require(tool);
    daemon_.Start();
    std::string tar = dir_.path() + "/busybox.tar";
    image::WriteOciArchive({image::Busybox(kImage)}, tar);
    auto r = Ctr(daemon_, {"images", "import", tar});
    if (r.exit_code != 0) throw std::runtime_error("ctr images import failed: " + Out(r));
  }
  // A failed test must not leave containers running on the machine.
  ~Env() {
    if (!daemon_.running()) return;
    auto r = Ctr(daemon_, {"task", "ls", "-q"});
    std::istringstream ids(r.out);
    for (std::string id; std::getline(ids, id);)
      if (!id.empty()) Ctr(daemon_, {"task", "rm", "-f", id});
  }
  Daemon& daemon() { return daemon_; }
  const std::string& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  Daemon daemon_;
};

class RuntimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { env_ = new Env(); }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }
  Daemon& d() { return env_->daemon(); }
  static Env* env_;
};
Env* RuntimeTest::env_ = nullptr;

TEST_F(RuntimeTest, RunRmEchoHi) {
  auto r = Ctr(d(), {"run", "--rm", kImage, "echo1", "echo", "hi"});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  EXPECT_EQ(r.out, "hi\n");
  EXPECT_TRUE(Leftovers(d()).empty());
}

TEST_F(RuntimeTest, ExitStatusPassesThrough) {
  auto r = Ctr(d(), {"run", "--rm", kImage, "exit7", "sh", "-c", "exit 7"});
  EXPECT_EQ(r.exit_code, 7) << Out(r);
  EXPECT_TRUE(Leftovers(d()).empty());
}

TEST_F(RuntimeTest, TerminalRun) {
  auto r = RunWithPty("ctr -a " + d().socket() + " run --fifo-dir " + d().fifo_dir() + " -t --rm " +
                      kImage + " tty1 sh -c 'tty; echo done-$((6*7))'");
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  EXPECT_NE(r.out.find("/dev/pts/"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("done-42"), std::string::npos) << r.out;
}

TEST_F(RuntimeTest, UnknownRuntimeFailsCleanly) {
  auto r =
      Ctr(d(), {"run", "--rm", "--runtime", "io.containerd.nosuch.v1", kImage, "bad1", "true"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(Out(r).find("containerd-shim-nosuch-v1"), std::string::npos) << Out(r);
  EXPECT_TRUE(Leftovers(d()).empty());
}

TEST_F(RuntimeTest, TaskErrors) {
  auto r = Ctr(d(), {"task", "start", "nosuch"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(Out(r).find("not found"), std::string::npos) << Out(r);
  r = Ctr(d(), {"task", "kill", "nosuch"});
  EXPECT_NE(r.exit_code, 0);
}

class Lifecycle : public RuntimeTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(Lifecycle, DetachedTask) {
  const std::string rt = GetParam();
  const std::string id = rt.find("v1") != std::string::npos ? "life-v1" : "life-v2";
  EventWatcher events(d());
  auto r = Ctr(d(), {"run", "-d", "--runtime", rt, kImage, id, "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << Out(r);

  r = Ctr(d(), {"task", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Out(r);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(id + "\\s+(\\d+)\\s+RUNNING"))) << r.out;
  std::string pid = m[1];
  EXPECT_NE(pid, "0");

  r = Ctr(d(), {"task", "ps", id});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  EXPECT_NE(r.out.find(pid), std::string::npos) << r.out;

  r = Ctr(d(), {"task", "exec", "--exec-id", "e1", id, "echo", "x"});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  EXPECT_EQ(r.out, "x\n");

  r = Ctr(d(), {"task", "pause", id});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  r = Ctr(d(), {"task", "ls"});
  EXPECT_TRUE(std::regex_search(r.out, std::regex(id + "\\s+" + pid + "\\s+PAUSED"))) << r.out;
  r = Ctr(d(), {"task", "resume", id});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  r = Ctr(d(), {"task", "ls"});
  EXPECT_TRUE(std::regex_search(r.out, std::regex(id + "\\s+" + pid + "\\s+RUNNING"))) << r.out;

  r = Ctr(d(), {"task", "metrics", id});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  EXPECT_NE(r.out.find(id), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("memory"), std::string::npos) << r.out;

  // Removing a running task is refused.
  r = Ctr(d(), {"task", "rm", id});
  EXPECT_NE(r.exit_code, 0) << Out(r);

  r = Ctr(d(), {"task", "kill", "-s", "SIGKILL", id});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  // The init process's exit ("id" is the task's), not the exec's above.
  ASSERT_TRUE(events.WaitFor({"/tasks/exit", "\"id\":\"" + id + "\""})) << events.seen();
  r = Ctr(d(), {"task", "ls"});
  EXPECT_TRUE(std::regex_search(r.out, std::regex(id + "\\s+" + pid + "\\s+STOPPED"))) << r.out;
  r = Ctr(d(), {"task", "rm", id});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  EXPECT_NE(Out(r).find("exit code 137"), std::string::npos) << Out(r);
  r = Ctr(d(), {"c", "rm", id});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  EXPECT_TRUE(events.WaitFor({"/tasks/delete", id})) << events.seen();
  // Order as containerd: create, start, exec-added, exec-started, exit, delete.
  const std::string& s = events.seen();
  size_t c = s.find("/tasks/create"), st = s.find("/tasks/start"), ea = s.find("/tasks/exec-added"),
         es = s.find("/tasks/exec-started"), pa = s.find("/tasks/paused"),
         re = s.find("/tasks/resumed"), ex = s.rfind("/tasks/exit"), de = s.find("/tasks/delete");
  for (size_t pos : {c, st, ea, es, pa, re, ex, de}) ASSERT_NE(pos, std::string::npos) << s;
  EXPECT_LT(c, st);
  EXPECT_LT(st, ea);
  EXPECT_LT(ea, es);
  EXPECT_LT(pa, re);
  EXPECT_LT(ex, de);
  auto left = Leftovers(d());
  EXPECT_TRUE(left.empty()) << left.front();
}

INSTANTIATE_TEST_SUITE_P(Runtimes, Lifecycle,
                         ::testing::Values("io.containerd.runc.v2", "io.containerd.runc.v1"));

TEST_F(RuntimeTest, ContainerWithLiveTaskCannotBeRemoved) {
  auto r = Ctr(d(), {"run", "-d", kImage, "busy1", "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << Out(r);
  r = Ctr(d(), {"c", "rm", "busy1"});
  EXPECT_NE(r.exit_code, 0);
  r = Ctr(d(), {"ns", "rm", "default"});
  EXPECT_NE(r.exit_code, 0);
  r = Ctr(d(), {"task", "rm", "-f", "busy1"});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  r = Ctr(d(), {"c", "rm", "busy1"});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  EXPECT_TRUE(Leftovers(d()).empty());
}

// The FIFO directories ctr makes for a detached task's IO under the harness's
// --fifo-dir (the test's dir, not the host's /run/containerd/fifo). `ctr task
// rm` removes them from the IO paths the daemon keeps for the task: a daemon
// that lost them would leave the FIFOs behind.
TEST_F(RuntimeTest, FifosLiveInTheTestDirUntilTaskRm) {
  namespace stdfs = std::filesystem;
  auto fifos = [&](const std::string& id) {
    std::vector<std::string> found;
    if (!stdfs::exists(d().fifo_dir())) return found;
    for (const auto& e : stdfs::recursive_directory_iterator(d().fifo_dir())) {
      const std::string name = e.path().filename();
      if (name.starts_with(id + "-") && e.is_fifo()) found.push_back(name);
    }
    std::sort(found.begin(), found.end());
    return found;
  };
  auto r = Ctr(d(), {"run", "-d", kImage, "fifo1", "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << Out(r);
  EXPECT_EQ(fifos("fifo1"),
            (std::vector<std::string>{"fifo1-stderr", "fifo1-stdin", "fifo1-stdout"}));
  r = Ctr(d(), {"task", "rm", "-f", "fifo1"});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  EXPECT_EQ(fifos("fifo1"), std::vector<std::string>{});
  r = Ctr(d(), {"c", "rm", "fifo1"});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  EXPECT_TRUE(Leftovers(d()).empty());
}

// The containerd Go client (Debian's 1.6.20 sources, built offline): a task
// with stdout captured, its exit status, and its events.
TEST_F(RuntimeTest, GoClient) {
  Require("go");
  std::string bin = env_->dir() + "/goclient";
  auto r = BuildGo(MCD_GOCLIENT_DIR, bin);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = Sh({bin, "-fifo-dir", d().fifo_dir(), d().socket(), kImage, "gotask"});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  EXPECT_NE(r.out.find("stdout=\"from-go\\n\"\nexit=3\n"), std::string::npos) << r.out;
  size_t c = r.out.find("event /tasks/create"), s = r.out.find("event /tasks/start"),
         e = r.out.find("event /tasks/exit"), de = r.out.find("event /tasks/delete");
  ASSERT_NE(c, std::string::npos) << r.out;
  ASSERT_NE(de, std::string::npos) << r.out;
  EXPECT_LT(c, s);
  EXPECT_LT(s, e);
  EXPECT_LT(e, de);
  EXPECT_TRUE(Leftovers(d()).empty());
}

// The containerd Go client through task and process scenarios (exit codes,
// exec, IO, signals, pause, metrics, errors, events), compared with what
// containerd 1.6.20 showed for the same scenarios (goconform/expected.go).
TEST_F(RuntimeTest, GoConform) {
  Require("go");
  std::string bin = env_->dir() + "/goconform";
  auto r = BuildGo(MCD_GOCONFORM_DIR, bin);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string ns = "goconform";
  r = Ctr(d(), {"images", "import", env_->dir() + "/busybox.tar"}, ns);
  ASSERT_EQ(r.exit_code, 0) << Out(r);
  r = Sh({bin, "-fifo-dir", d().fifo_dir(), d().socket(), ns, kImage});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::regex pass("^PASS ");
  std::istringstream lines(r.out);
  int passed = 0;
  for (std::string l; std::getline(lines, l);) passed += std::regex_search(l, pass);
  EXPECT_GE(passed, 35) << r.out;
  EXPECT_EQ(r.out.find("FAIL"), std::string::npos) << r.out;
  r = Ctr(d(), {"c", "ls", "-q"}, ns);
  EXPECT_EQ(r.out, "");
  auto left = Leftovers(d());
  EXPECT_TRUE(left.empty()) << left.front();
}

// A /proc file of a process as NUL-separated words.
std::vector<std::string> ProcWords(pid_t pid, const char* file) {
  std::string raw = fs::ReadFile("/proc/" + std::to_string(pid) + "/" + file);
  std::vector<std::string> out;
  size_t at = 0;
  while (at < raw.size()) {
    size_t end = raw.find('\0', at);
    if (end == std::string::npos) end = raw.size();
    out.push_back(raw.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

pid_t ParentOf(pid_t pid) {
  // "pid (comm) state ppid ...": comm may hold spaces, so after the last ')'.
  std::string stat = fs::ReadFile("/proc/" + std::to_string(pid) + "/stat");
  return static_cast<pid_t>(std::stol(stat.substr(stat.rfind(')') + 4)));
}

// What the runc v2 shim's `start` gives the shim daemon it starts: argv,
// environment, cwd, process group, OOM score, the socket named in `address`.
void ExpectStartedAsByStart(const Daemon& d, pid_t shim, const std::string& id) {
  const std::string bin = process::LookPath("containerd-shim-runc-v2");
  EXPECT_EQ(ProcWords(shim, "cmdline"),
            (std::vector<std::string>{bin, "-namespace", "default", "-id", id, "-address",
                                      d.socket(), "-debug"}));
  auto env = ProcWords(shim, "environ");
  EXPECT_EQ(std::count(env.begin(), env.end(), "GOMAXPROCS=4"), 1);
  EXPECT_EQ(std::count_if(env.begin(), env.end(),
                          [](const std::string& e) { return e.starts_with("GOMAXPROCS="); }),
            1);
  EXPECT_EQ(std::count(env.begin(), env.end(), "TTRPC_ADDRESS=" + d.socket() + ".ttrpc"), 1);
  const std::string bundle = d.state() + "/io.containerd.runtime.v2.task/default/" + id;
  EXPECT_EQ(std::filesystem::read_symlink("/proc/" + std::to_string(shim) + "/cwd"), bundle);
  EXPECT_EQ(::getpgid(shim), shim);
  int daemon_score = std::stoi(fs::ReadFile("/proc/" + std::to_string(d.pid()) + "/oom_score_adj"));
  EXPECT_EQ(std::stoi(fs::ReadFile("/proc/" + std::to_string(shim) + "/oom_score_adj")),
            std::min(daemon_score + 1, 1000));
  std::string address = fs::ReadFile(bundle + "/address");
  ASSERT_TRUE(address.starts_with("unix:///run/containerd/s/")) << address;
  struct stat st;
  ASSERT_EQ(::stat(address.substr(7).c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// The runc v2 shim's `start` is done by the daemon (no Go process of its
// own): the shim daemon must still look exactly as that command starts it
// (the grouped test below checks the same of one the command started).
TEST_F(RuntimeTest, RuncShimStartsAsItsStartCommandWould) {
  const std::string id = "startlike";
  auto r = Ctr(d(), {"run", "-d", kImage, id, "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << Out(r);
  auto shims = ShimPids(d(), id);
  ASSERT_EQ(shims.size(), 1u);
  const pid_t shim = shims[0];
  ExpectStartedAsByStart(d(), shim, id);
  // No `start` process in between: the daemon is the shim's parent.
  EXPECT_EQ(ParentOf(shim), d().pid());

  r = Ctr(d(), {"task", "exec", "--exec-id", "e1", id, "echo", "x"});
  EXPECT_EQ(r.out, "x\n") << Out(r);
  r = Ctr(d(), {"task", "rm", "-f", id});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  r = Ctr(d(), {"c", "rm", id});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  // The daemon reaps its child: no zombie once the shim exits.
  EXPECT_TRUE(AwaitExit(" -id " + id + " ", d().pid()).empty());
  auto left = Leftovers(d());
  EXPECT_TRUE(left.empty()) << left.front();
}

// runc options as ctr and the Go client send them (typeurl's bare message
// name), and a runtime path that is a symlink (`start` runs
// os.Executable(): the real path), leave that start to the daemon too.
TEST_F(RuntimeTest, RuncShimWithOptionsOrThroughASymlinkStartsTheSameWay) {
  const std::string link = env_->dir() + "/containerd-shim-runc-v2";
  std::filesystem::remove(link);
  std::filesystem::create_symlink(process::LookPath("containerd-shim-runc-v2"), link);
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"startopts", {"--runc-binary", process::LookPath("runc")}},
      {"startlink", {"--runtime", link}},
  };
  for (const auto& [id, flags] : cases) {
    std::vector<std::string> args = {"run", "-d"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {kImage, id, "sleep", "1000"});
    auto r = Ctr(d(), args);
    ASSERT_EQ(r.exit_code, 0) << Out(r);
    auto shims = ShimPids(d(), id);
    ASSERT_EQ(shims.size(), 1u) << id;
    ExpectStartedAsByStart(d(), shims[0], id);
    EXPECT_EQ(ParentOf(shims[0]), d().pid()) << id;
    r = Ctr(d(), {"task", "rm", "-f", id});
    EXPECT_EQ(r.exit_code, 0) << Out(r);
    r = Ctr(d(), {"c", "rm", id});
    EXPECT_EQ(r.exit_code, 0) << Out(r);
  }
  auto left = Leftovers(d());
  EXPECT_TRUE(left.empty()) << left.front();
}

// Containers grouped by annotation share one shim, which only the shim's own
// `start` knows how to find: those go through it.
TEST_F(RuntimeTest, GroupedContainersShareTheShimThroughItsStart) {
  const std::string group = "--annotation=io.containerd.runc.v2.group=grp";
  auto r = Ctr(d(), {"run", "-d", group, kImage, "grp1", "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << Out(r);
  r = Ctr(d(), {"run", "-d", group, kImage, "grp2", "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << Out(r);
  auto shims = ShimPids(d(), "grp1");
  ASSERT_EQ(shims.size(), 1u);
  EXPECT_TRUE(ShimPids(d(), "grp2").empty());
  EXPECT_NE(ParentOf(shims[0]), d().pid());
  ExpectStartedAsByStart(d(), shims[0], "grp1");
  const std::string tasks = d().state() + "/io.containerd.runtime.v2.task/default/";
  EXPECT_EQ(fs::ReadFile(tasks + "grp1/address"), fs::ReadFile(tasks + "grp2/address"));
  r = Ctr(d(), {"task", "ls"});
  EXPECT_TRUE(std::regex_search(r.out, std::regex("grp1\\s+\\d+\\s+RUNNING"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("grp2\\s+\\d+\\s+RUNNING"))) << r.out;
  for (const char* id : {"grp1", "grp2"}) {
    r = Ctr(d(), {"task", "rm", "-f", id});
    EXPECT_EQ(r.exit_code, 0) << Out(r);
    r = Ctr(d(), {"c", "rm", id});
    EXPECT_EQ(r.exit_code, 0) << Out(r);
  }
  EXPECT_TRUE(AwaitExit(" -id grp1 ", d().pid()).empty());
  auto left = Leftovers(d());
  EXPECT_TRUE(left.empty()) << left.front();
}

// A shim killed while the daemon runs: noticed through the connection, the
// task shows stopped, the exit event is published, everything is removable.
TEST_F(RuntimeTest, ShimKilled) {
  EventWatcher events(d());
  auto r = Ctr(d(), {"run", "-d", kImage, "shimkill", "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << Out(r);
  std::string address =
      fs::ReadFile(d().state() + "/io.containerd.runtime.v2.task/default/shimkill/address");
  auto shims = ShimPids(d(), "shimkill");
  ASSERT_EQ(shims.size(), 1u);
  ASSERT_EQ(::kill(shims[0], SIGKILL), 0);
  ASSERT_TRUE(events.WaitFor({"/tasks/exit", "shimkill"})) << events.seen();
  ASSERT_TRUE(events.WaitFor({"/tasks/delete", "shimkill"})) << events.seen();
  // As containerd's: once cleaned up, the task is gone (no stopped task to
  // delete).
  r = Ctr(d(), {"task", "ls"});
  EXPECT_EQ(r.out.find("shimkill"), std::string::npos) << r.out;
  r = Ctr(d(), {"task", "rm", "shimkill"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(Out(r).find("no running task found: task shimkill not found: not found"),
            std::string::npos)
      << Out(r);
  r = Ctr(d(), {"c", "rm", "shimkill"});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  auto left = Leftovers(d());
  EXPECT_TRUE(left.empty()) << left.front();
  if (address.rfind("unix://", 0) == 0) {
    EXPECT_FALSE(fs::Exists(address.substr(7)));
  }
}

// While calls that block (task creates, each waiting for its shim's start)
// outnumber gRPC's own threads, other calls, reads and writes alike, are
// answered, and the blocked ones end as their shims do.
TEST_F(RuntimeTest, BlockedCallsDoNotHoldUpOthers) {
  constexpr int kBlocked = 6;
  const std::string dir = env_->dir() + "/blocking";
  fs::MkdirAll(dir, 0755);
  const std::string ready = dir + "/ready", release = dir + "/release";
  ASSERT_EQ(::mkfifo(ready.c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo(release.c_str(), 0600), 0);
  // Read-write opens never wait for the other side.
  UniqueFd ready_fd(::open(ready.c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(ready_fd);
  const std::string shim = dir + "/containerd-shim-blocking-v1";
  fs::WriteFileAtomic(shim,
                      "#!/bin/sh\ncase \"$*\" in *start) echo >" + ready + "; read x <" + release +
                          "; echo released >&2; exit 1;; esac\n",
                      0755);
  std::vector<process::Result> results(kBlocked);
  std::vector<std::thread> runs;
  auto release_all = [&] {
    UniqueFd w(::open(release.c_str(), O_RDWR | O_CLOEXEC));
    std::string lines(kBlocked, '\n');
    ASSERT_EQ(::write(w.get(), lines.data(), lines.size()), static_cast<ssize_t>(lines.size()));
    for (auto& t : runs) t.join();
    runs.clear();
  };
  for (int i = 0; i < kBlocked; ++i) {
    runs.emplace_back([&, i] {
      results[i] = Ctr(
          d(), {"run", "--rm", "--runtime", shim, kImage, "blocked" + std::to_string(i), "true"});
    });
  }
  // Every shim start has begun: each writes a line (poll, no sleeping).
  int started = 0;
  for (std::string buf(64, '\0'); started < kBlocked;) {
    pollfd p{ready_fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 60000) != 1) break;
    ssize_t n = ::read(ready_fd.get(), buf.data(), buf.size());
    if (n <= 0) break;
    started += static_cast<int>(std::count(buf.begin(), buf.begin() + n, '\n'));
  }
  if (started < kBlocked) {
    release_all();
    FAIL() << "only " << started << " of " << kBlocked << " shim starts began";
  }
  auto quick = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--timeout", "30s"});
    return Ctr(d(), args);
  };
  auto ls = quick({"namespaces", "ls"});
  auto create = quick({"namespaces", "create", "blocking-ns"});
  auto rm = quick({"namespaces", "rm", "blocking-ns"});
  auto containers = quick({"containers", "ls", "-q"});
  release_all();
  EXPECT_EQ(ls.exit_code, 0) << Out(ls);
  EXPECT_NE(ls.out.find("default"), std::string::npos) << Out(ls);
  EXPECT_EQ(create.exit_code, 0) << Out(create);
  EXPECT_EQ(rm.exit_code, 0) << Out(rm);
  EXPECT_EQ(containers.exit_code, 0) << Out(containers);
  EXPECT_NE(containers.out.find("blocked0"), std::string::npos) << Out(containers);
  for (const auto& r : results) {
    EXPECT_NE(r.exit_code, 0) << Out(r);
    EXPECT_NE(Out(r).find("released"), std::string::npos) << Out(r);
  }
  auto left = Ctr(d(), {"containers", "ls", "-q"});
  EXPECT_EQ(left.out.find("blocked"), std::string::npos) << left.out;
}

// Ten running containers survive a SIGKILL of the daemon.
// A crash between a task Delete's answer and the shim's Shutdown (which
// runs after it, in the background) leaves a retired, hidden bundle whose
// shim still runs: the next start shuts that shim down and removes it all.
TEST(RuntimeRestart, ShimOfRetiredBundleIsShutDownAtStart) {
  Env env;
  Daemon& d = env.daemon();
  const std::string id = "retired1";
  auto r = Ctr(d, {"run", "-d", kImage, id, "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << Out(r);
  const std::string state = d.state() + "/io.containerd.runtime.v2.task/default/";
  const std::string work = d.root() + "/io.containerd.runtime.v2.task/default/";
  std::string address = fs::ReadFile(state + id + "/address");
  while (!address.empty() && address.back() == '\n') address.pop_back();
  {
    EventWatcher events(d);
    r = Ctr(d, {"task", "kill", "-s", "SIGKILL", id});
    ASSERT_EQ(r.exit_code, 0) << Out(r);
    ASSERT_TRUE(events.WaitFor({"/tasks/exit", "\"" + id + "\""})) << events.seen();
  }
  d.Kill();
  // The state a Delete leaves before its background part: the shim deleted
  // the process, the bundle and work dir are renamed to hidden names.
  auto shim = ttrpc::Client::Connect(address);
  containerd::task::v2::DeleteRequest req;
  req.set_id(id);
  containerd::task::v2::DeleteResponse resp;
  shim->Call("containerd.task.v2.Task", "Delete", req, &resp, {.ns = "default"});
  shim->Close();
  ASSERT_EQ(::rename((state + id).c_str(), (state + "." + id + ".1").c_str()), 0);
  ASSERT_EQ(::rename((work + id).c_str(), (work + "." + id + ".1").c_str()), 0);
  ASSERT_FALSE(ShimPids(d, id).empty());

  d.Start();
  auto left = Leftovers(d);
  EXPECT_TRUE(left.empty()) << left.front();
  EXPECT_FALSE(fs::Exists(state + "." + id + ".1"));
  EXPECT_FALSE(fs::Exists(work + "." + id + ".1"));
  // The container record stays, as after any task delete.
  r = Ctr(d, {"c", "rm", id});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
}

TEST(RuntimeRestart, SurvivesDaemonKill) {
  Env env;
  Daemon& d = env.daemon();
  constexpr int kN = 10;
  std::vector<std::string> addresses;
  for (int i = 0; i < kN; ++i) {
    std::string id = "r" + std::to_string(i);
    auto r = Ctr(d, {"run", "-d", kImage, id, "sleep", "1000"});
    ASSERT_EQ(r.exit_code, 0) << Out(r);
    addresses.push_back(
        fs::ReadFile(d.state() + "/io.containerd.runtime.v2.task/default/" + id + "/address"));
  }
  d.Kill();
  d.Start();
  auto r = Ctr(d, {"task", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Out(r);
  for (int i = 0; i < kN; ++i)
    EXPECT_TRUE(
        std::regex_search(r.out, std::regex("r" + std::to_string(i) + "\\s+\\d+\\s+RUNNING")))
        << r.out;
  EventWatcher events(d);
  for (int i = 0; i < kN; ++i) {
    std::string id = "r" + std::to_string(i);
    r = Ctr(d, {"task", "exec", "--exec-id", "x" + id, id, "echo", id});
    EXPECT_EQ(r.exit_code, 0) << Out(r);
    EXPECT_EQ(r.out, id + "\n");
    r = Ctr(d, {"task", "kill", "-s", "SIGKILL", id});
    EXPECT_EQ(r.exit_code, 0) << Out(r);
  }
  for (int i = 0; i < kN; ++i) {
    std::string id = "r" + std::to_string(i);
    // ctr events prints topic then the event's fields, the id among them.
    ASSERT_TRUE(events.WaitFor({"/tasks/exit", "\"" + id + "\""})) << events.seen();
    r = Ctr(d, {"task", "rm", id});
    EXPECT_EQ(r.exit_code, 0) << Out(r);
    r = Ctr(d, {"c", "rm", id});
    EXPECT_EQ(r.exit_code, 0) << Out(r);
  }
  auto left = Leftovers(d);
  EXPECT_TRUE(left.empty()) << left.front();
  for (auto a : addresses) {
    while (!a.empty() && (a.back() == '\n' || a.back() == ' ')) a.pop_back();
    if (a.rfind("unix://", 0) == 0) {
      EXPECT_FALSE(fs::Exists(a.substr(7))) << a;
    }
  }
}

// A shim that died while the daemon was down is cleaned up at start-up.
TEST(RuntimeRestart, DeadShimCleanedAtStart) {
  Env env;
  Daemon& d = env.daemon();
  auto r = Ctr(d, {"run", "-d", kImage, "gone", "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << Out(r);
  d.Kill();
  for (pid_t p : ShimPids(d, "gone")) ::kill(p, SIGKILL);
  d.Start();
  EventWatcher events(d);
  // While its cleanup runs the task is listed as stopped (a delete waits for
  // the cleanup); after, it is gone as in containerd. Either way the
  // container can go next.
  r = Ctr(d, {"task", "rm", "gone"});
  EXPECT_TRUE(r.exit_code == 0 || Out(r).find("not found") != std::string::npos) << Out(r);
  r = Ctr(d, {"c", "rm", "gone"});
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  auto left = Leftovers(d);
  EXPECT_TRUE(left.empty()) << left.front();
}

}  // namespace
}  // namespace mcd::itest::rt
