// `ctr images push` and `pull` through a local registry (Debian's
// docker-registry on 127.0.0.1): the blobs travel through the daemon's
// content store (ref writers, expected digests, labels), the pulled image is
// unpacked and runs. Outputs were compared with containerd 1.6.20's.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "pkg/fd.h"
#include "pkg/fs.h"
#include "tests/integration/support/harness.h"
#include "tests/integration/support/image_builder.h"

namespace mcd::itest {
namespace {

// A port the kernel just handed out (and released again) on 127.0.0.1.
int FreePort() {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (!s || ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("no free port");
  return ntohs(a.sin_port);
}

// docker-registry serving <dir>/registry on a free port until destroyed.
class Registry {
 public:
  explicit Registry(const std::string& dir) {
    host_ = "127.0.0.1:" + std::to_string(FreePort());
    const std::string config = dir + "/registry.yml";
    fs::WriteFileAtomic(config, "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: " + dir +
                                    "/registry\nhttp:\n  addr: " + host_ + "\n");
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(p[1], 2);
      int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::execlp("docker-registry", "docker-registry", "serve", config.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(p[1]);
    log_fd_.reset(p[0]);
    // Ready when it says it listens; its log is read to the end on a thread
    // so it never blocks on a full pipe.
    std::string seen;
    char buf[4096];
    while (seen.find("listening on") == std::string::npos) {
      pollfd pfd{log_fd_.get(), POLLIN, 0};
      if (::poll(&pfd, 1, 30000) <= 0) break;
      ssize_t n = ::read(log_fd_.get(), buf, sizeof buf);
      if (n <= 0) break;
      seen.append(buf, static_cast<size_t>(n));
    }
    if (seen.find("listening on") == std::string::npos)
      throw std::runtime_error("docker-registry did not start: " + seen);
    drain_ = std::thread([fd = log_fd_.get()] {
      char b[4096];
      while (::read(fd, b, sizeof b) > 0) {
      }
    });
  }
  ~Registry() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    drain_.join();  // EOF once the registry is gone
  }
  const std::string& host() const { return host_; }

 private:
  std::string host_;
  pid_t pid_ = -1;
  UniqueFd log_fd_;
  std::thread drain_;
};

TEST(Registry, PushThenPullRunsTheImage) {
  Require("ctr");
  Require("docker-registry");
  TempDir dir;
  Registry reg(dir.path());
  Daemon d(dir.path());
  d.Start();
  const std::string tar = dir.path() + "/busybox.tar";
  image::WriteOciArchive({image::Busybox()}, tar);
  auto r = Ctr(d, {"images", "import", "--no-unpack", tar});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  const std::string ref = reg.host() + "/mcd/busybox:1";
  r = Ctr(d, {"images", "tag", "docker.io/library/busybox:latest", ref});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Ctr(d, {"images", "push", "--plain-http", ref});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  // Nothing of it is left here: the pull below must fetch every blob.
  r = Ctr(d, {"images", "rm", "--sync", ref, "docker.io/library/busybox:latest"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Ctr(d, {"content", "ls", "-q"}).out, "");

  r = Ctr(d, {"images", "pull", "--plain-http", ref});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("unpacking linux/amd64 sha256:"), std::string::npos) << r.out;
  EXPECT_EQ(Ctr(d, {"images", "ls", "-q"}).out, ref + "\n");
  r = Ctr(d, {"images", "check"});
  EXPECT_NE(r.out.find("complete (2/2)"), std::string::npos) << r.out;
  // Each fetched blob carries where it came from (the pull's labels).
  r = Ctr(d, {"content", "ls"});
  size_t labelled = 0;
  for (size_t at = 0; (at = r.out.find("containerd.io/distribution.source.127.0.0.1=mcd/busybox",
                                       at)) != std::string::npos;
       ++at)
    ++labelled;
  EXPECT_EQ(labelled, 3u) << r.out;
  r = Ctr(d, {"run", "--rm", ref, "pulled1", "echo", "pulled"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "pulled\n");
  // Again: everything is there already.
  r = Ctr(d, {"images", "pull", "--plain-http", ref});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace mcd::itest
