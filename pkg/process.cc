#include "pkg/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <string_view>

#include "pkg/errdefs.h"
#include "pkg/fd.h"

extern char** environ;

namespace mcd::process {
namespace {

void MakePipe(UniqueFd* r, UniqueFd* w) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw errdefs::FromErrno(errno, "pipe");
  r->reset(p[0]);
  w->reset(p[1]);
}

}  // namespace

std::string LookPath(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string cand = dir + "/" + name;
    struct stat st;
    if (::stat(cand.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(cand.c_str(), X_OK) == 0)
      return cand;
    start = end + 1;
  }
  return "";
}

int Spawn(const SpawnOptions& opts, pid_t* pid) {
  // Everything exec needs is built before the spawn.
  std::vector<char*> argv;
  for (const auto& a : opts.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // As Go's exec.Cmd: an added variable replaces an inherited one of the
  // same name (the child's Go runtime would read the first).
  auto key = [](std::string_view kv) { return kv.substr(0, kv.find('=')); };
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) {
    bool replaced = false;
    for (const auto& x : opts.extra_env) replaced = replaced || key(x) == key(*e);
    if (!replaced) envp.push_back(*e);
  }
  for (const auto& e : opts.extra_env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  // posix_spawn, not fork: glibc spawns with CLONE_VM|CLONE_VFORK, so the
  // daemon's page tables are not copied and its threads take no
  // copy-on-write faults afterwards (a fork of a 30 MB, 25-thread daemon
  // costs milliseconds on every shim start).
  auto check = [](int rc, const char* what) {
    if (rc != 0) throw errdefs::FromErrno(rc, what);
  };
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  check(::posix_spawn_file_actions_init(&fa), "posix_spawn_file_actions_init");
  struct FaGuard {
    posix_spawn_file_actions_t* fa;
    ~FaGuard() { ::posix_spawn_file_actions_destroy(fa); }
  } fa_guard{&fa};
  check(::posix_spawnattr_init(&attr), "posix_spawnattr_init");
  struct AttrGuard {
    posix_spawnattr_t* attr;
    ~AttrGuard() { ::posix_spawnattr_destroy(attr); }
  } attr_guard{&attr};

  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  ::posix_spawnattr_setsigmask(&attr, &none);
  // Handlers the daemon installed must not survive into the child.
  ::posix_spawnattr_setsigdefault(&attr, &all);
  if (opts.new_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    ::posix_spawnattr_setpgroup(&attr, 0);
  }
  ::posix_spawnattr_setflags(&attr, flags);
  if (!opts.cwd.empty())
    check(::posix_spawn_file_actions_addchdir_np(&fa, opts.cwd.c_str()), "spawn chdir");
  for (size_t i = 0; i < opts.fds.size(); ++i) {
    const int to = static_cast<int>(i);
    if (opts.fds[i] < 0) {
      check(
          ::posix_spawn_file_actions_addopen(&fa, to, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0),
          "spawn open");
    } else {
      check(::posix_spawn_file_actions_adddup2(&fa, opts.fds[i], to), "spawn dup2");
    }
  }
  // Nothing else crosses exec: a long-lived child (a shim) holding an
  // inherited listening socket would make a restarted daemon think the
  // socket is still served.
  check(::posix_spawn_file_actions_addclosefrom_np(&fa, static_cast<int>(opts.fds.size())),
        "spawn closefrom");
  return ::posix_spawn(pid, opts.exe.c_str(), &fa, &attr, argv.data(), envp.data());
}

Result Run(const Options& opts) {
  if (opts.argv.empty()) throw errdefs::InvalidArgument("empty argv");
  std::string exe = LookPath(opts.argv[0]);
  if (exe.empty())
    throw errdefs::NotFound("executable file " + opts.argv[0] + " not found in $PATH");

  UniqueFd in_r, in_w, out_r, out_w, err_r, err_w;
  MakePipe(&in_r, &in_w);
  MakePipe(&out_r, &out_w);
  if (!opts.merge_stderr) MakePipe(&err_r, &err_w);

  SpawnOptions so{.exe = exe,
                  .argv = opts.argv,
                  .extra_env = opts.extra_env,
                  .cwd = opts.cwd,
                  .new_process_group = opts.new_process_group,
                  .fds = {in_r.get(), out_w.get(), opts.merge_stderr ? out_w.get() : err_w.get()}};
  pid_t pid = -1;
  if (int rc = Spawn(so, &pid); rc != 0)
    throw errdefs::FromErrno(rc, "start " + exe + (opts.cwd.empty() ? "" : " in " + opts.cwd));
  in_r.reset();
  out_w.reset();
  err_w.reset();

  Result res;
  size_t in_off = 0;
  if (opts.stdin_data.empty()) in_w.reset();
  auto deadline = opts.timeout ? std::chrono::steady_clock::now() + *opts.timeout
                               : std::chrono::steady_clock::time_point::max();
  while (out_r || err_r || in_w) {
    pollfd fds[3];
    int n = 0;
    int out_i = -1, err_i = -1, in_i = -1;
    if (out_r) {
      fds[n] = {out_r.get(), POLLIN, 0};
      out_i = n++;
    }
    if (err_r) {
      fds[n] = {err_r.get(), POLLIN, 0};
      err_i = n++;
    }
    if (in_w) {
      fds[n] = {in_w.get(), POLLOUT, 0};
      in_i = n++;
    }
    int wait_ms = -1;
    if (opts.timeout) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      wait_ms = left.count() < 0 ? 0 : static_cast<int>(left.count());
    }
    int rc = ::poll(fds, static_cast<nfds_t>(n), wait_ms);
    if (rc < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (rc == 0) {
      ::kill(pid, SIGKILL);
      res.timed_out = true;
      break;
    }
    char buf[65536];
    auto drain = [&](int idx, UniqueFd& fd, std::string& sink) {
      if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLHUP | POLLERR))) return;
      ssize_t r = ::read(fd.get(), buf, sizeof buf);
      if (r > 0)
        sink.append(buf, static_cast<size_t>(r));
      else if (r == 0 || errno != EINTR)
        fd.reset();
    };
    drain(out_i, out_r, res.out);
    drain(err_i, err_r, res.err);
    if (in_i >= 0 && (fds[in_i].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w =
          ::write(in_w.get(), opts.stdin_data.data() + in_off, opts.stdin_data.size() - in_off);
      if (w > 0) in_off += static_cast<size_t>(w);
      if (w < 0 && errno != EINTR && errno != EAGAIN) in_w.reset();
      if (in_off >= opts.stdin_data.size()) in_w.reset();
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) res.term_signal = WTERMSIG(status);
  return res;
}

std::string Describe(const Result& r) {
  if (!r.term_signal) return "exit status " + std::to_string(r.exit_code);
  // Go's names of the Linux signals (its syscall package's table).
  static constexpr const char* kNames[] = {"hangup",
                                           "interrupt",
                                           "quit",
                                           "illegal instruction",
                                           "trace/breakpoint trap",
                                           "aborted",
                                           "bus error",
                                           "floating point exception",
                                           "killed",
                                           "user defined signal 1",
                                           "segmentation fault",
                                           "user defined signal 2",
                                           "broken pipe",
                                           "alarm clock",
                                           "terminated",
                                           "stack fault",
                                           "child exited",
                                           "continued",
                                           "stopped (signal)",
                                           "stopped",
                                           "stopped (tty input)",
                                           "stopped (tty output)",
                                           "urgent I/O condition",
                                           "CPU time limit exceeded",
                                           "file size limit exceeded",
                                           "virtual timer expired",
                                           "profiling timer expired",
                                           "window changed",
                                           "I/O possible",
                                           "power failure",
                                           "bad system call"};
  const int n = static_cast<int>(std::size(kNames));
  if (r.term_signal >= 1 && r.term_signal <= n)
    return std::string("signal: ") + kNames[r.term_signal - 1];
  return "signal: signal " + std::to_string(r.term_signal);
}

}  // namespace mcd::process
