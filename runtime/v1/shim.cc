#include "runtime/v1/shim.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "pkg/cgroup_mounts.h"
#include "pkg/errdefs.h"
#include "pkg/fd.h"
#include "pkg/fs.h"
#include "pkg/log.h"
#include "pkg/process.h"
#include "runtime/v2/shim_launch.h"

namespace mcd::runtime::v1 {
namespace {

// A write end of a fifo for the shim's stdout/stderr; the daemon's
// read-write drain keeps a reader on it, so this open does not block.
UniqueFd FifoWriter(const std::string& path) {
  if (::mkfifo(path.c_str(), 0700) != 0 && errno != EEXIST)
    throw errdefs::FromErrno(errno, "mkfifo " + path);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) throw errdefs::FromErrno(errno, "open " + path);
  // The shim writes blocking, as to any pipe.
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  return fd;
}

int PidfdOpen(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

}  // namespace

std::string LegacyAddress(const std::string& ns, const std::string& id) {
  return "@/containerd-shim/" + ns + "/" + id + "/shim.sock";
}

std::vector<std::string> Args(const ShimConfig& c) {
  std::vector<std::string> a = {c.binary,  "-namespace", c.ns,           "-workdir",
                                c.workdir, "-address",   c.grpc_address, "-containerd-binary",
                                c.self};
  if (!c.criu.empty()) a.insert(a.end(), {"-criu-path", c.criu});
  if (!c.runtime_root.empty()) a.insert(a.end(), {"-runtime-root", c.runtime_root});
  if (c.systemd_cgroup) a.push_back("-systemd-cgroup");
  if (c.debug) a.push_back("-debug");
  return a;
}

pid_t StartShim(const ShimConfig& c, const std::string& address, std::function<void()> on_exit) {
  std::string exe =
      c.binary.find('/') == std::string::npos ? process::LookPath(c.binary) : c.binary;
  // containerd's wording (Go's execabs refuses a name not found on PATH so).
  if (exe.empty())
    throw errdefs::Unknown("failed to start shim: " + c.binary +
                           " resolves to executable in current directory (./" + c.binary + ")");
  UniqueFd sock = ListenShimSocket(address, StaleSocket::kReplace);
  UniqueFd out = FifoWriter(c.workdir + "/shim.stdout.log");
  UniqueFd err = FifoWriter(c.workdir + "/shim.stderr.log");

  process::SpawnOptions so{.exe = exe,
                           .argv = Args(c),
                           .extra_env = {"GOMAXPROCS=2"},
                           .cwd = c.bundle,
                           .new_process_group = true,
                           .fds = {-1, out.get(), err.get(), sock.get()}};
  pid_t pid = -1;
  if (int rc = process::Spawn(so, &pid); rc != 0)
    throw errdefs::Unknown("failed to start shim: fork/exec " + exe + ": " +
                           errdefs::ErrnoText(rc));
  // The shim owns the socket now; the daemon only dials it.
  sock.reset();
  ReapOnExit(pid, [pid, on_exit = std::move(on_exit)] {
    log::Info("shim reaped", {{"pid", std::to_string(pid)}});
    if (on_exit) on_exit();
  });
  log::Info(
      "shim " + c.binary + " started",
      {{"pid", std::to_string(pid)}, {"address", address}, {"debug", c.debug ? "true" : "false"}});
  try {
    WriteBundleFile(c.bundle, "address", address);
    WriteBundleFile(c.bundle, "shim.pid", std::to_string(pid));
    if (!c.cgroup.empty()) {
      JoinCgroup(c.cgroup, pid);
      log::Info("shim placed in cgroup " + c.cgroup,
                {{"pid", std::to_string(pid)}, {"address", address}});
    }
    AdjustOOMScore(pid);
  } catch (...) {
    ::kill(pid, SIGKILL);
    throw;
  }
  return pid;
}

void JoinCgroup(const std::string& path, pid_t pid) {
  // The v1 hierarchies' mount points.
  std::vector<std::string> mounts;
  for (const auto& m : cgroups::Mounts())
    if (!m.v2) mounts.push_back(m.mountpoint);
  const std::string what = "failed to load cgroup " + path + ": ";
  if (mounts.empty()) throw errdefs::Unknown(what + "cgroups: cgroup mountpoint does not exist");
  std::vector<std::string> active;
  for (const auto& m : mounts)
    if (fs::Exists(m + "/" + path)) active.push_back(m + "/" + path);
  if (active.empty()) throw errdefs::Unknown(what + "cgroups: cgroup deleted");
  const std::string v = std::to_string(pid);
  for (const auto& dir : active) {
    UniqueFd fd(::open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), v.data(), v.size()) < 0)
      throw errdefs::Unknown("failed to join cgroup " + path + ": " + errdefs::ErrnoText(errno));
  }
}

void KillShim(pid_t pid, std::chrono::milliseconds timeout) {
  if (pid <= 0 || pid == ::getpid()) return;
  UniqueFd pfd(PidfdOpen(pid));
  // The whole group: the shim's children (a runc it was running) go too.
  if (::kill(-pid, SIGKILL) != 0) ::kill(pid, SIGKILL);
  if (!pfd) return;  // already gone
  pollfd p{pfd.get(), POLLIN, 0};
  while (::poll(&p, 1, static_cast<int>(timeout.count())) < 0 && errno == EINTR) {
  }
}

}  // namespace mcd::runtime::v1
