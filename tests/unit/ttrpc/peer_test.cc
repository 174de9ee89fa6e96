// Peer death across processes: a server process killed with calls pending,
// and the same-user check on the server side. Children run raw syscalls only
// (the parent has threads).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <vector>

#include "pkg/errdefs.h"
#include "tests/unit/ttrpc/rawpeer.h"
#include "tests/unit/ttrpc/testutil.h"
#include "ttrpc/client.h"
#include "ttrpc/server.h"

namespace mcd::ttrpc {
namespace {

using errdefs::Code;
using test::CodeOf;

// A child process that accepts one connection, reports it on `ready`, then
// reads and never answers.
pid_t SilentServer(const std::string& path, int ready) {
  sockaddr_un a = test::Addr(path);
  int lfd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(lfd, 4) != 0) {
    throw std::runtime_error("listen");
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    int c = ::accept(lfd, nullptr, nullptr);
    char b = 1;
    if (c < 0 || ::write(ready, &b, 1) != 1) ::_exit(2);
    char buf[4096];
    while (::read(c, buf, sizeof buf) > 0) {
    }
    ::_exit(0);
  }
  ::close(lfd);
  return pid;
}

TEST(PeerDeath, KilledServerProcessFailsPendingCallsWithUnavailable) {
  test::SocketDir dir;
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  pid_t pid = SilentServer(dir.Sock(), p[1]);
  auto client = Client::Connect(dir.Sock());
  test::Signal closed;
  client->OnClose(closed.Notifier());
  char b;
  ASSERT_EQ(::read(p[0], &b, 1), 1);  // accepted
  constexpr int kN = 50;
  std::vector<std::promise<Code>> got(kN);
  for (int i = 0; i < kN; ++i) {
    client->AsyncCall("containerd.task.v2.Task", "Wait", "", {},
                      [&, i](std::exception_ptr e, std::string) {
                        got[i].set_value(CodeOf([&] {
                          if (e) std::rethrow_exception(e);
                        }));
                      });
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  for (auto& g : got) {
    auto f = g.get_future();
    EXPECT_EQ(test::Get(f), Code::kUnavailable);
  }
  test::Get(closed.future());
  // New calls fail at once too.
  EXPECT_EQ(CodeOf([&] { client->Call("s", "m", ""); }), Code::kUnavailable);
  ::close(p[0]);
  ::close(p[1]);
}

TEST(PeerDeath, ConnectToNothingIsUnavailable) {
  test::SocketDir dir;
  EXPECT_EQ(CodeOf([&] { Client::Connect(dir.Sock()); }), Code::kUnavailable);
  { test::RawListener gone(dir.Sock()); }  // a socket file nobody listens on
  EXPECT_EQ(CodeOf([&] { Client::Connect(dir.Sock()); }), Code::kUnavailable);
  EXPECT_EQ(CodeOf([&] { Client::Connect("@mcd-ttrpc-nobody-" + std::to_string(::getpid())); }),
            Code::kUnavailable);
}

TEST(SameUser, OtherUsersAreRefusedWhenRequired) {
  ASSERT_EQ(::geteuid(), 0u) << "this test needs root to become another user";
  test::SocketDir dir;
  ::chmod(dir.Sock("").c_str(), 0777);
  Server::Options o;
  o.require_same_user = true;
  auto server = Server::Create(o);
  server->Register("s", "m", [](const Context&, const std::string&) { return std::string("ok"); });
  server->Listen(dir.Sock());
  ::chmod(dir.Sock().c_str(), 0777);
  // We are the same user: served.
  EXPECT_EQ(Client::Connect(dir.Sock())->Call("s", "m", ""), "ok");

  mcd::ttrpc::Request req;
  req.set_service("s");
  req.set_method("m");
  const std::string frame = EncodeFrame(1, MessageType::kRequest, req.SerializeAsString());
  sockaddr_un a = test::Addr(dir.Sock());
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) ::_exit(3);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) ::_exit(4);
    if (::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) < 0) {
      // The server may already have closed: that is the refusal.
    }
    char buf[64];
    ::_exit(::read(fd, buf, sizeof buf) <= 0 ? 0 : 1);  // closed, no answer
  }
  int status;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "3/4: setup failed in the child, 1: it was answered";
  server->Shutdown();
}

}  // namespace
}  // namespace mcd::ttrpc
