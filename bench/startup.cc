// Time from exec to a served gRPC call: starts the daemon command given
// after "--", waits for its socket to appear (inotify), connects as soon as
// it accepts, and answers a Version call; then, with an event stream open
// (a `ctr events` left running), SIGTERMs it and times its exit. Repeats n
// times on a fresh root each time (the command may use {n} for the run index).
//   bench_startup <socket> <runs> -- <daemon> <args...>
#include <grpcpp/grpcpp.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "github.com/containerd/containerd/api/services/events/v1/events.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/version/v1/version.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

bool Accepts(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || std::string(argv[3]) != "--") {
    std::fprintf(stderr, "usage: %s <socket> <runs> -- <daemon> <args...>\n", argv[0]);
    return 2;
  }
  int runs = std::stoi(argv[2]);
  std::vector<double> ms;
  std::vector<double> stop_ms;
  for (int run = 0; run < runs; ++run) {
    std::string sock = Replace(argv[1], "{n}", std::to_string(run));
    std::filesystem::path dir = std::filesystem::path(sock).parent_path();
    std::filesystem::create_directories(dir);
    std::filesystem::remove(sock);
    int in = ::inotify_init1(IN_CLOEXEC);
    ::inotify_add_watch(in, dir.c_str(), IN_CREATE);
    std::vector<std::string> args;
    for (int i = 4; i < argc; ++i) args.push_back(Replace(argv[i], "{n}", std::to_string(run)));
    auto t0 = Clock::now();
    pid_t pid = ::fork();
    if (pid == 0) {
      std::vector<char*> av;
      for (auto& a : args) av.push_back(a.data());
      av.push_back(nullptr);
      int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      ::execvp(av[0], av.data());
      ::_exit(127);
    }
    // Wait for the socket file (or the daemon's death), then for the
    // listener to accept.
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    char buf[4096];
    while (!std::filesystem::exists(sock)) {
      pollfd fds[2] = {{in, POLLIN, 0}, {pidfd, POLLIN, 0}};
      ::poll(fds, 2, -1);
      if (fds[1].revents != 0) {
        std::fprintf(stderr, "%s exited before serving\n", args[0].c_str());
        return 1;
      }
      if (::read(in, buf, sizeof(buf)) <= 0) break;
    }
    ::close(in);
    ::close(pidfd);
    while (!Accepts(sock)) std::this_thread::yield();
    auto channel = grpc::CreateChannel("unix://" + sock, grpc::InsecureChannelCredentials());
    auto stub = containerd::services::version::v1::Version::NewStub(channel);
    google::protobuf::Empty req;
    containerd::services::version::v1::VersionResponse resp;
    grpc::Status st;
    do {
      grpc::ClientContext ctx;
      st = stub->Version(&ctx, req, &resp);
    } while (!st.ok());
    auto t1 = Clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());

    auto events = containerd::services::events::v1::Events::NewStub(channel);
    grpc::ClientContext ev_ctx;
    containerd::services::events::v1::SubscribeRequest sub;
    auto reader = events->Subscribe(&ev_ctx, sub);
    std::thread drain([&] {
      containerd::services::events::v1::Envelope env;
      while (reader->Read(&env)) {
      }
      reader->Finish();
    });
    {
      // Streams of one connection are taken in order: once this call is
      // answered, the daemon holds the subscription.
      grpc::ClientContext ctx;
      stub->Version(&ctx, req, &resp);
    }
    auto t2 = Clock::now();
    ::kill(pid, SIGTERM);
    int status;
    ::waitpid(pid, &status, 0);
    stop_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t2).count());
    drain.join();
  }
  std::sort(ms.begin(), ms.end());
  std::printf("startup to first served call: median %.1f ms, min %.1f ms, max %.1f ms (%d runs)\n",
              ms[ms.size() / 2], ms.front(), ms.back(), runs);
  std::sort(stop_ms.begin(), stop_ms.end());
  std::printf("SIGTERM to exit, an event stream open: median %.1f ms, min %.1f ms, max %.1f ms\n",
              stop_ms[stop_ms.size() / 2], stop_ms.front(), stop_ms.back());
  return 0;
}
