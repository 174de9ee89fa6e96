#include "tests/integration/runtime/support.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "pkg/fs.h"

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

std::vector<std::string> Leftovers(const Daemon& d) {
  std::vector<std::string> out;
  for (pid_t p : ProcessesMentioning("-address " + d.socket() + " ", d.pid()))
    out.push_back("shim process " + std::to_string(p));
  std::ifstream mi("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mi, line)) {
    if (line.find(d.state() + "/io.containerd.runtime.v2.task") != std::string::npos)
      out.push_back("mount: " + line);
  }
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
      while (dirent* t = ::readdir(td)) {
        std::string id = t->d_name;
        if (id != "." && id != "..") out.push_back("task dir " + dir + "/" + n + "/" + id);
      }
      ::closedir(td);
    }
    ::closedir(nsd);
  }
  return out;
}

process::Result RunWithPty(const std::string& command) {
  process::Options o;
  o.argv = {"script", "-qec", command, "/dev/null"};
  o.timeout = std::chrono::seconds(120);
  return process::Run(o);
}

}  // namespace mcd::itest::rt
