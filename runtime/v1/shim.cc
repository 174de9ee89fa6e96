#include "runtime/v1/shim.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <poll.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>

#include "pkg/cgroup_mounts.h"
#include "pkg/errdefs.h"
#include "pkg/fd.h"
#include "pkg/fs.h"
#include "pkg/log.h"
#include "pkg/process.h"
#include "ttrpc/address.h"
#include "ttrpc/io.h"

namespace mcd::runtime::v1 {
namespace {

constexpr size_t kSocketPathLimit = 106;  // containerd's limit on the address

std::string Hex(const unsigned char* d, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[d[i] >> 4];
    out += digits[d[i] & 15];
  }
  return out;
}

// Lexical clean of a joined path as filepath.Join: no "//", no trailing "/".
std::string JoinClean(const std::string& a, const std::string& ns, const std::string& id) {
  std::string s = a + "/" + ns + "/" + id;
  std::string out;
  for (char ch : s) {
    if (ch == '/' && !out.empty() && out.back() == '/') continue;
    out += ch;
  }
  return out;
}

UniqueFd Listen(const std::string& address) {
  if (address.size() > kSocketPathLimit)
    throw errdefs::InvalidArgument("\"" + address + "\": unix socket path too long (> 106)");
  std::string path = ttrpc::SocketPath(address);
  bool abstract = !path.empty() && path[0] == '\0';
  if (!abstract) fs::MkdirAll(path.substr(0, path.rfind('/')), 0600);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw errdefs::FromErrno(errno, "socket");
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.data(), path.size());
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  auto* addr = reinterpret_cast<sockaddr*>(&sa);
  int rc = ::bind(fd.get(), addr, len);
  if (rc != 0 && errno == EADDRINUSE && !abstract) {
    // A shim of the same task that died without removing its socket.
    ::unlink(path.c_str());
    rc = ::bind(fd.get(), addr, len);
  }
  if (rc != 0)
    throw errdefs::FromErrno(errno, "failed to listen to unix socket \"" + address + "\"");
  if (!abstract && ::chmod(path.c_str(), 0600) != 0)
    throw errdefs::FromErrno(errno, "chmod " + path);
  if (::listen(fd.get(), SOMAXCONN) != 0) throw errdefs::FromErrno(errno, "listen " + address);
  return fd;
}

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

// As containerd's writeFile: a hidden temp file renamed over the target.
void WriteBundleFile(const std::string& dir, const std::string& name, const std::string& data) {
  std::string tmp = dir + "/." + name;
  UniqueFd fd(::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_SYNC | O_CLOEXEC, 0666));
  if (!fd) throw errdefs::FromErrno(errno, "open " + tmp);
  if (::write(fd.get(), data.data(), data.size()) != static_cast<ssize_t>(data.size()))
    throw errdefs::FromErrno(errno, "write " + tmp);
  fd.reset();
  if (::rename(tmp.c_str(), (dir + "/" + name).c_str()) != 0)
    throw errdefs::FromErrno(errno, "rename " + tmp);
}

void SetOOMScore(pid_t shim) {
  int score = 0;
  try {
    score = std::stoi(fs::ReadFile("/proc/self/oom_score_adj"));
  } catch (const std::exception& e) {
    throw errdefs::Unknown(std::string("get daemon OOM score: ") + e.what());
  }
  score = std::min(score + 1, 1000);
  std::string path = "/proc/" + std::to_string(shim) + "/oom_score_adj";
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  std::string v = std::to_string(score);
  if (!fd || ::write(fd.get(), v.data(), v.size()) < 0)
    throw errdefs::FromErrno(errno, "set shim OOM score");
}

int PidfdOpen(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

// Reaps the shim when it exits: the pidfd becomes readable, no polling.
void Reap(pid_t pid, std::function<void()> on_exit) {
  int pfd = PidfdOpen(pid);
  if (pfd < 0) {
    log::Error("pidfd_open of shim", {{"pid", std::to_string(pid)}});
    return;
  }
  auto sd = std::make_shared<boost::asio::posix::stream_descriptor>(ttrpc::Io(), pfd);
  sd->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                 [sd, pid, on_exit = std::move(on_exit)](boost::system::error_code) {
                   int status = 0;
                   while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
                   }
                   log::Info("shim reaped", {{"pid", std::to_string(pid)}});
                   boost::system::error_code ec;
                   sd->close(ec);
                   if (on_exit) on_exit();
                 });
}

}  // namespace

std::string SocketAddress(const std::string& grpc_address, const std::string& ns,
                          const std::string& id) {
  std::string key = JoinClean(grpc_address, ns, id);
  unsigned char d[SHA256_DIGEST_LENGTH];
  ::SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), d);
  return "unix:///run/containerd/s/" + Hex(d, sizeof d);
}

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
  UniqueFd sock = Listen(address);
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
  Reap(pid, std::move(on_exit));
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
    SetOOMScore(pid);
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

void RemoveSocket(const std::string& address) {
  if (address.rfind("unix://", 0) != 0) return;
  std::string path = address.substr(7);
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
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
