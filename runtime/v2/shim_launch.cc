#include "runtime/v2/shim_launch.h"

#include <fcntl.h>
#include <openssl/sha.h>
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
#include <cstring>
#include <memory>

#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "pkg/log.h"
#include "ttrpc/address.h"
#include "ttrpc/io.h"

namespace mcd::runtime {
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

sockaddr_un Addr(const std::string& path, socklen_t* len) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.data(), path.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  return sa;
}

bool Answers(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  socklen_t len;
  sockaddr_un sa = Addr(path, &len);
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) == 0;
}

}  // namespace

std::string SocketAddress(const std::string& grpc_address, const std::string& ns,
                          const std::string& id) {
  std::string key = JoinClean(grpc_address, ns, id);
  unsigned char d[SHA256_DIGEST_LENGTH];
  ::SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), d);
  return "unix:///run/containerd/s/" + Hex(d, sizeof d);
}

UniqueFd ListenShimSocket(const std::string& address, StaleSocket stale) {
  if (address.size() > kSocketPathLimit)
    throw errdefs::InvalidArgument("\"" + address + "\": unix socket path too long (> 106)");
  std::string path = ttrpc::SocketPath(address);
  bool abstract = !path.empty() && path[0] == '\0';
  if (!abstract) fs::MkdirAll(path.substr(0, path.rfind('/')), 0600);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw errdefs::FromErrno(errno, "socket");
  socklen_t len;
  sockaddr_un sa = Addr(path, &len);
  auto* addr = reinterpret_cast<sockaddr*>(&sa);
  int rc = ::bind(fd.get(), addr, len);
  if (rc != 0 && errno == EADDRINUSE && !abstract) {
    // A shim of the same id that died without removing its socket, or
    // (grouped containers) a live shim this one should join.
    if (stale == StaleSocket::kKeepIfAnswering && Answers(path)) return UniqueFd();
    ::unlink(path.c_str());
    rc = ::bind(fd.get(), addr, len);
  }
  if (rc != 0)
    throw errdefs::FromErrno(errno, "failed to listen to unix socket \"" + address + "\"");
  if (!abstract && ::chmod(path.c_str(), 0600) != 0)
    throw errdefs::FromErrno(errno, "chmod " + path);
  // The kernel caps the backlog at net.core.somaxconn, which is what Go asks.
  if (::listen(fd.get(), 65535) != 0) throw errdefs::FromErrno(errno, "listen " + address);
  return fd;
}

void RemoveSocket(const std::string& address) {
  if (address.rfind("unix://", 0) != 0) return;
  std::string path = address.substr(7);
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
}

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

void AdjustOOMScore(pid_t shim) {
  int score = 0;
  try {
    score = std::stoi(fs::ReadFile("/proc/self/oom_score_adj"));
  } catch (const std::exception& e) {
    throw errdefs::Unknown(std::string("get parent OOM score: ") + e.what());
  }
  score = std::min(score + 1, 1000);
  std::string path = "/proc/" + std::to_string(shim) + "/oom_score_adj";
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  std::string v = std::to_string(score);
  if (!fd || ::write(fd.get(), v.data(), v.size()) < 0)
    throw errdefs::FromErrno(errno, "set shim OOM score");
}

void ReapOnExit(pid_t pid, std::function<void()> on_exit) {
  int pfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
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
                   log::Debug("shim reaped", {{"pid", std::to_string(pid)}});
                   boost::system::error_code ec;
                   sd->close(ec);
                   if (on_exit) on_exit();
                 });
}

}  // namespace mcd::runtime
