#include "tests/integration/support/harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "pkg/fs.h"
#include "pkg/mount.h"

namespace mcd::itest {
TempDir::TempDir() {
  char tmpl[] = "/tmp/mcd-test-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
  ::chmod(path_.c_str(), 0711);
}

TempDir::~TempDir() {
  mount::UnmountAllUnder(path_);
  try {
    fs::RemoveAll(path_);
  } catch (...) {
  }
}

Daemon::Daemon(const std::string& dir, Options opts)
    : dir_(dir), opts_(std::move(opts)), socket_(dir + "/containerd.sock") {}

Daemon::~Daemon() {
  if (pid_ > 0) Stop();
}

std::vector<std::string> Daemon::Argv() const {
  const std::string binary =
      opts_.binary.empty() ? std::string(MCD_DAEMON_BINARY) : process::LookPath(opts_.binary);
  std::vector<std::string> argv = {binary,      "--root", root(),        "--state", state(),
                                   "--address", socket_,  "--log-level", "debug"};
  if (!opts_.config_toml.empty()) {
    argv.push_back("--config");
    argv.push_back(dir_ + "/config.toml");
  }
  for (const auto& a : opts_.extra_args) argv.push_back(a);
  return argv;
}

std::string Daemon::Log() const {
  try {
    return fs::ReadFile(log_path());
  } catch (...) {
    return "";
  }
}

void Daemon::Start() {
  std::string log;
  if (StartExpectFailure(&log) != 0 || pid_ <= 0) {
    throw std::runtime_error("daemon failed to start:\n" + log);
  }
}

int Daemon::StartExpectFailure(std::string* log) {
  if (!opts_.config_toml.empty()) fs::WriteFileAtomic(dir_ + "/config.toml", opts_.config_toml);
  auto argv = Argv();
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  int logfd = ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  pid_t pid = ::fork();
  if (pid == 0) {
    // The daemon's stderr goes to a pipe a reader thread copies to the log:
    // here a small relay process does it so the test needs no thread.
    ::close(p[0]);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::dup2(logfd, 1);
    ::dup2(p[1], 2);
    ::setpgid(0, 0);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(p[1]);
  pid_ = pid;
  // Read the daemon's stderr until it says it booted or closes it (exit).
  std::string seen;
  char buf[4096];
  bool booted = false;
  while (!booted) {
    ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n <= 0) break;
    seen.append(buf, static_cast<size_t>(n));
    if (::write(logfd, buf, static_cast<size_t>(n)) < 0) break;
    booted = seen.find("containerd successfully booted") != std::string::npos;
  }
  if (booted) {
    // Keep copying the rest of the log in a detached relay process.
    pid_t relay = ::fork();
    if (relay == 0) {
      // Not the test's stdout and stderr: should the test die without
      // stopping its daemon, ctest must still see them close.
      int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      for (;;) {
        ssize_t n = ::read(p[0], buf, sizeof buf);
        if (n <= 0) ::_exit(0);
        if (::write(logfd, buf, static_cast<size_t>(n)) < 0) ::_exit(0);
      }
    }
    ::close(p[0]);
    ::close(logfd);
    *log = seen;
    return 0;
  }
  ::close(p[0]);
  ::close(logfd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  pid_ = -1;
  *log = Log();
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int Daemon::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void Daemon::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

namespace {
// How many leading words of `args` name a ctr command that has --fifo-dir
// (ctr 1.6: run, and task start / exec under any of task's aliases); 0 for
// the others.
size_t FifoCommandWords(const std::vector<std::string>& args) {
  if (args.empty()) return 0;
  if (args[0] == "run") return 1;
  if (args.size() >= 2 && (args[0] == "task" || args[0] == "tasks" || args[0] == "t") &&
      (args[1] == "start" || args[1] == "exec")) {
    return 2;
  }
  return 0;
}

bool NamesFifoDir(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    for (const char* flag : {"--fifo-dir", "-fifo-dir"}) {
      if (a == flag || a.starts_with(std::string(flag) + "=")) return true;
    }
  }
  return false;
}
}  // namespace

process::Result Ctr(const Daemon& d, const std::vector<std::string>& args, const std::string& ns,
                    const std::string& stdin_data) {
  process::Options o;
  o.argv = {"ctr", "-a", d.socket()};
  if (!ns.empty()) {
    o.argv.push_back("-n");
    o.argv.push_back(ns);
  }
  const size_t words = NamesFifoDir(args) ? 0 : FifoCommandWords(args);
  o.argv.insert(o.argv.end(), args.begin(), args.begin() + static_cast<std::ptrdiff_t>(words));
  if (words > 0) {
    o.argv.push_back("--fifo-dir");
    o.argv.push_back(d.fifo_dir());
  }
  o.argv.insert(o.argv.end(), args.begin() + static_cast<std::ptrdiff_t>(words), args.end());
  o.stdin_data = stdin_data;
  o.timeout = std::chrono::seconds(120);
  return process::Run(o);
}

process::Result Sh(const std::vector<std::string>& argv, const std::string& stdin_data) {
  process::Options o;
  o.argv = argv;
  o.stdin_data = stdin_data;
  o.timeout = std::chrono::seconds(300);
  return process::Run(o);
}

void Require(const std::string& tool) {
  if (process::LookPath(tool).empty()) {
    throw std::runtime_error("integration tests need " + tool +
                             " on PATH (install: see .ci/run); refusing to skip");
  }
}

std::string MountBtrfs(const std::string& dir) {
  Require("mkfs.btrfs");
  const std::string img = dir + "/btrfs.img", mnt = dir + "/btrfs";
  fs::WriteFileAtomic(img, "", 0600);
  if (::truncate(img.c_str(), 256 << 20) != 0) throw std::runtime_error("truncate " + img);
  fs::MkdirAll(mnt, 0711);
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {"mkfs.btrfs", "-q", "-f", img}, {"mount", "-o", "loop", img, mnt}}) {
    auto r = Sh(argv);
    if (r.exit_code != 0) throw std::runtime_error(argv[0] + ": " + r.out + r.err);
  }
  return mnt;
}

namespace {
process::Result RunGo(const std::vector<std::string>& argv, const std::string& src_dir) {
  process::Options o;
  o.argv = argv;
  o.cwd = src_dir;
  o.extra_env = {"GO111MODULE=off", "GOPATH=/usr/share/gocode", "GOFLAGS=", "CGO_ENABLED=0"};
  o.timeout = std::chrono::minutes(15);
  return process::Run(o);
}
}  // namespace

process::Result BuildGo(const std::string& src_dir, const std::string& out) {
  return RunGo({"go", "build", "-o", out, "."}, src_dir);
}

process::Result BuildGoTest(const std::string& src_dir, const std::string& out) {
  return RunGo({"go", "test", "-c", "-o", out, "."}, src_dir);
}

std::map<std::string, std::string> GoTestOutcomes(const std::string& out) {
  static const std::regex line(R"(^\s*--- (PASS|FAIL|SKIP): (\S+))");
  std::map<std::string, std::string> r;
  std::istringstream in(out);
  std::string l;
  std::smatch m;
  while (std::getline(in, l)) {
    if (std::regex_search(l, m, line)) r[m[2]] = m[1];
  }
  return r;
}

}  // namespace mcd::itest
