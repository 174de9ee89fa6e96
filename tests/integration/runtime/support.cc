#include "tests/integration/runtime/support.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "pkg/fd.h"
#include "pkg/fs.h"
#include "tests/integration/support/image_builder.h"

namespace mcd::itest::rt {

EventWatcher::EventWatcher(const Daemon& d) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  std::string sock = d.socket();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(p[1], 1);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 2);
    ::execlp("ctr", "ctr", "-a", sock.c_str(), "events", nullptr);
    ::_exit(127);
  }
  ::close(p[1]);
  fd_ = p[0];
  // `ctr events` subscribes some time after it starts, and an event before
  // that is never seen: the watcher is ready once a probe event arrives
  // (probed again each second until one does).
  static std::atomic<int> probes{0};
  for (int i = 0; i < 30; ++i) {
    std::string ns = "evprobe-" + std::to_string(::getpid()) + "-" + std::to_string(probes++);
    Ctr(d, {"namespaces", "create", ns});
    bool live = WaitFor({"/namespaces/create", "\"" + ns + "\""}, std::chrono::seconds(1));
    Ctr(d, {"namespaces", "remove", ns});
    if (live) return;
  }
  ::kill(pid_, SIGKILL);  // no destructor runs for a throwing constructor
  ::waitpid(pid_, nullptr, 0);
  ::close(fd_);
  throw std::runtime_error("ctr events did not subscribe within 30 s");
}

EventWatcher::~EventWatcher() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (fd_ >= 0) ::close(fd_);
}

bool EventWatcher::WaitFor(const std::vector<std::string>& needles, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // Scan complete lines not yet scanned.
    size_t nl;
    while ((nl = buf_.find('\n', scanned_)) != std::string::npos) {
      std::string line = buf_.substr(scanned_, nl - scanned_);
      scanned_ = nl + 1;
      bool all = true;
      for (const auto& n : needles) all = all && line.find(n) != std::string::npos;
      if (all) return true;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd_, POLLIN, 0};
    int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (r <= 0) continue;
    char b[4096];
    ssize_t n = ::read(fd_, b, sizeof b);
    if (n <= 0) return false;
    buf_.append(b, static_cast<size_t>(n));
    seen_.append(b, static_cast<size_t>(n));
  }
}

std::vector<pid_t> ProcessesMentioning(const std::string& needle, pid_t except) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0 || pid == except || pid == ::getpid()) continue;
    std::ifstream f("/proc/" + std::string(e->d_name) + "/cmdline");
    std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    for (auto& c : cmd)
      if (c == '\0') c = ' ';
    if (cmd.find(needle) != std::string::npos) out.push_back(pid);
  }
  ::closedir(d);
  return out;
}

std::vector<pid_t> ShimPids(const Daemon& d, const std::string& id) {
  std::vector<pid_t> out;
  for (pid_t p : ProcessesMentioning("-address " + d.socket() + " ", d.pid())) {
    std::ifstream f("/proc/" + std::to_string(p) + "/cmdline");
    std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    for (auto& c : cmd)
      if (c == '\0') c = ' ';
    if (cmd.find("containerd-shim") != std::string::npos &&
        cmd.find(" -id " + id + " ") != std::string::npos)
      out.push_back(p);
  }
  return out;
}

namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms < 0 ? 0 : static_cast<int>(ms);
}

// "<base>/<ns>/<entry>" under the runtime's state and root dirs: bundles,
// work dirs and hidden ones being removed.
std::vector<std::string> TaskEntries(const Daemon& d, std::vector<std::string>* ns_dirs = nullptr) {
  std::vector<std::string> out;
  for (const char* base :
       {"/state/io.containerd.runtime.v2.task", "/root/io.containerd.runtime.v2.task"}) {
    std::string dir = d.root().substr(0, d.root().rfind('/')) + base;
    DIR* nsd = ::opendir(dir.c_str());
    if (!nsd) continue;
    while (dirent* ns = ::readdir(nsd)) {
      std::string n = ns->d_name;
      if (n == "." || n == "..") continue;
      DIR* td = ::opendir((dir + "/" + n).c_str());
      if (!td) continue;
      if (ns_dirs) ns_dirs->push_back(dir + "/" + n);
      while (dirent* t = ::readdir(td)) {
        std::string id = t->d_name;
        if (id != "." && id != "..") out.push_back(dir + "/" + n + "/" + id);
      }
      ::closedir(td);
    }
    ::closedir(nsd);
  }
  return out;
}

// Until no task entry is left or the deadline: inotify wakes on removals.
void AwaitNoTaskEntries(const Daemon& d, Clock::time_point deadline) {
  for (;;) {
    UniqueFd ino(::inotify_init1(IN_CLOEXEC));
    if (!ino) return;
    std::vector<std::string> ns_dirs;
    TaskEntries(d, &ns_dirs);
    for (const auto& dir : ns_dirs)
      ::inotify_add_watch(ino.get(), dir.c_str(), IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF);
    // Checked after the watches are set: no removal goes unnoticed.
    if (TaskEntries(d).empty() || MillisLeft(deadline) == 0) return;
    pollfd pfd{ino.get(), POLLIN, 0};
    ::poll(&pfd, 1, MillisLeft(deadline));
  }
}

}  // namespace

std::vector<pid_t> AwaitExit(const std::string& needle, pid_t except,
                             std::chrono::seconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (pid_t p : ProcessesMentioning(needle, except)) {
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, p, 0)));
    if (!pidfd) continue;  // gone already
    pollfd pfd{pidfd.get(), POLLIN, 0};
    ::poll(&pfd, 1, MillisLeft(deadline));
  }
  return ProcessesMentioning(needle, except);
}

std::vector<std::string> Leftovers(const Daemon& d) {
  // A task Delete answers once the shim deleted the process and the rootfs
  // is unmounted; the shim's exit and the removal of the bundle's files
  // follow in the background. They get a bounded time, woken by the kernel
  // (pidfd, inotify), before anything counts as left behind.
  auto deadline = Clock::now() + std::chrono::seconds(20);
  std::vector<std::string> out;
  for (pid_t p : AwaitExit("-address " + d.socket() + " ", d.pid(), std::chrono::seconds(20)))
    out.push_back("shim process " + std::to_string(p));
  std::ifstream mi("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mi, line)) {
    if (line.find(d.state() + "/io.containerd.runtime.v2.task") != std::string::npos)
      out.push_back("mount: " + line);
  }
  AwaitNoTaskEntries(d, deadline);
  for (const auto& e : TaskEntries(d)) out.push_back("task dir " + e);
  return out;
}

void ImportBusybox(const Daemon& d, const std::string& dir, const std::string& name) {
  const std::string tar = dir + "/busybox.tar";
  image::WriteOciArchive({image::Busybox(name)}, tar);
  auto r = Ctr(d, {"images", "import", tar});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
}

process::Result RunWithPty(const std::string& command) {
  process::Options o;
  o.argv = {"script", "-qec", command, "/dev/null"};
  o.timeout = std::chrono::seconds(120);
  return process::Run(o);
}

std::string ResultText(const process::Result& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

void BusyboxDaemonTest::SetUp() {
  for (const auto& tool : tools_) Require(tool);
  d_ = std::make_unique<Daemon>(dir_.path());
  d_->Start();
  ASSERT_NO_FATAL_FAILURE(ImportBusybox(*d_, dir_.path(), image_));
}

void BusyboxDaemonTest::TearDown() {
  if (!d_->running()) return;
  for (const auto& id : ids_) {
    Ctr(*d_, {"task", "rm", "-f", id});
    Ctr(*d_, {"containers", "rm", id});
  }
}

}  // namespace mcd::itest::rt
