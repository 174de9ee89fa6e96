// Client and server together: calls, errors, metadata, timeouts,
// cancellation, concurrency, shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "pkg/errdefs.h"
#include "tests/unit/ttrpc/testutil.h"
#include "ttrpc/client.h"
#include "ttrpc/server.h"

namespace mcd::ttrpc {
namespace {

using errdefs::Code;
using test::CodeOf;
using test::Latch;

class CallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = Server::Create();
    server_->Register("test.Echo", "Echo", [](const Context&, const std::string& p) { return p; });
    server_->Register("test.Echo", "Namespace", [](const Context& ctx, const std::string&) {
      return ctx.ns.empty() ? std::string() : ctx.Namespace();
    });
    server_->Register("test.Echo", "Fail", [](const Context&, const std::string& p) -> std::string {
      throw errdefs::NotFound("thing \"" + p + "\"");
    });
    server_->Register("test.Echo", "Throw", [](const Context&, const std::string&) -> std::string {
      throw std::runtime_error("plain failure");
    });
    server_->Register("test.Echo", "Big", [](const Context&, const std::string&) {
      return std::string(kMaxMessageSize + 1, 'b');
    });
    server_->Register("test.Echo", "Deadline", [](const Context& ctx, const std::string&) {
      return std::string(ctx.deadline ? "yes" : "no");
    });
    server_->Register("test.Echo", "Block", [this](const Context&, const std::string& p) {
      if (started_.fetch_add(1) == 0) first_started_.set_value();
      block_.Wait();
      finished_.fetch_add(1);
      return p;
    });
    server_->Listen(dir_.Sock());
    client_ = Client::Connect(dir_.Sock());
  }
  void TearDown() override {
    if (!released_) block_.Release();
    client_->Close();
    server_->Shutdown();
  }
  void Release() {
    released_ = true;
    block_.Release();
  }

  test::SocketDir dir_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<Client> client_;
  Latch block_;
  bool released_ = false;
  std::atomic<int> started_{0}, finished_{0};
  std::promise<void> first_started_;
};

TEST_F(CallTest, Echo) {
  EXPECT_EQ(client_->Call("test.Echo", "Echo", "ping"), "ping");
  EXPECT_EQ(client_->Call("test.Echo", "Echo", ""), "");
}

TEST_F(CallTest, NamespaceFromMetadata) {
  CallOptions o;
  o.ns = "k8s.io";
  EXPECT_EQ(client_->Call("test.Echo", "Namespace", "", o), "k8s.io");
  EXPECT_EQ(client_->Call("test.Echo", "Namespace", ""), "");
  o.ns = "bad/ns";
  EXPECT_EQ(CodeOf([&] { client_->Call("test.Echo", "Namespace", "", o); }),
            Code::kInvalidArgument);
}

TEST_F(CallTest, UnknownServiceAndMethodAreUnimplementedInTtrpcWording) {
  std::string msg;
  EXPECT_EQ(CodeOf([&] { client_->Call("no.Such", "Echo", ""); }, &msg), Code::kUnimplemented);
  EXPECT_EQ(msg, "service no.Such");
  EXPECT_EQ(CodeOf([&] { client_->Call("test.Echo", "Nope", ""); }, &msg), Code::kUnimplemented);
  EXPECT_EQ(msg, "method Nope");
  // Names are bytes to Go's ttrpc: not UTF-8 is just another unknown name.
  EXPECT_EQ(CodeOf([&] { client_->Call("no.\xff\xfe", "Echo", ""); }, &msg), Code::kUnimplemented);
  EXPECT_EQ(msg, "service no.\xff\xfe");
}

TEST_F(CallTest, HandlerErrorsBecomeStatuses) {
  std::string msg;
  EXPECT_EQ(CodeOf([&] { client_->Call("test.Echo", "Fail", "x"); }, &msg), Code::kNotFound);
  EXPECT_EQ(msg, "thing \"x\": not found");
  EXPECT_EQ(CodeOf([&] { client_->Call("test.Echo", "Throw", ""); }, &msg), Code::kUnknown);
  EXPECT_EQ(msg, "plain failure");
  // The connection survives errors.
  EXPECT_EQ(client_->Call("test.Echo", "Echo", "still"), "still");
}

TEST_F(CallTest, SizeLimits) {
  // Largest payload that fits a 4 MiB request frame round-trips.
  std::string big(kMaxMessageSize - 64, 'q');
  EXPECT_EQ(client_->Call("test.Echo", "Echo", big).size(), big.size());
  // Too large to send: refused before it reaches the wire.
  EXPECT_EQ(CodeOf([&] { client_->Call("test.Echo", "Echo", std::string(kMaxMessageSize, 'q')); }),
            Code::kResourceExhausted);
  // A handler answering more than the limit: ResourceExhausted, not a frame the peer rejects.
  EXPECT_EQ(CodeOf([&] { client_->Call("test.Echo", "Big", ""); }), Code::kResourceExhausted);
  EXPECT_EQ(client_->Call("test.Echo", "Echo", "after"), "after");
}

TEST_F(CallTest, TimeoutIsDeadlineExceededAndSentToServer) {
  CallOptions o;
  o.timeout = std::chrono::seconds(30);
  EXPECT_EQ(client_->Call("test.Echo", "Deadline", "", o), "yes");
  EXPECT_EQ(client_->Call("test.Echo", "Deadline", ""), "no");

  o.timeout = std::chrono::milliseconds(20);
  std::string msg;
  EXPECT_EQ(CodeOf([&] { client_->Call("test.Echo", "Block", "", o); }, &msg),
            Code::kDeadlineExceeded);
  EXPECT_EQ(msg, "context deadline exceeded");
  Release();
  // The late answer to the timed-out call is dropped; the connection works.
  EXPECT_EQ(client_->Call("test.Echo", "Echo", "next"), "next");
}

TEST_F(CallTest, CancellationFailsTheCallWithCanceled) {
  auto cancel = std::make_shared<Cancellation>();
  CallOptions o;
  o.cancel = cancel;
  std::promise<Code> got;
  auto fut = got.get_future();
  client_->AsyncCall("test.Echo", "Block", "x", o, [&](std::exception_ptr e, std::string) {
    got.set_value(CodeOf([&] {
      if (e) std::rethrow_exception(e);
    }));
  });
  // Cancel once the server is running it (a notification-free wait is not
  // needed: Cancel before arrival must work too, and is tested below).
  cancel->Cancel();
  EXPECT_EQ(test::Get(fut), Code::kCanceled);
  Release();
  EXPECT_EQ(client_->Call("test.Echo", "Echo", "ok"), "ok");
  // An already-canceled token fails at once.
  EXPECT_EQ(CodeOf([&] { client_->Call("test.Echo", "Echo", "x", o); }), Code::kCanceled);
}

TEST_F(CallTest, ManyConcurrentCallsOnOneConnection) {
  constexpr int kThreads = 8, kPerThread = 250;
  std::atomic<int> ok{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string p = std::to_string(t) + ":" + std::to_string(i);
        if (client_->Call("test.Echo", "Echo", p) == p) ok.fetch_add(1);
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
}

TEST_F(CallTest, ManyOutstandingAsyncCalls) {
  constexpr int kCalls = 2000;  // far more than the server's in-flight window
  std::atomic<int> ok{0}, done{0};
  std::promise<void> all;
  for (int i = 0; i < kCalls; ++i) {
    std::string p = std::to_string(i);
    client_->AsyncCall("test.Echo", "Echo", p, {}, [&, p](std::exception_ptr e, std::string out) {
      if (!e && out == p) ok.fetch_add(1);
      if (done.fetch_add(1) + 1 == kCalls) all.set_value();
    });
  }
  auto f = all.get_future();
  test::Get(f);
  EXPECT_EQ(ok.load(), kCalls);
}

TEST_F(CallTest, ShutdownWaitsForRunningHandlersAndAnswersThem) {
  std::promise<std::string> got;
  auto fut = got.get_future();
  client_->AsyncCall("test.Echo", "Block", "slow", {}, [&](std::exception_ptr e, std::string out) {
    got.set_value(e ? "error" : out);
  });
  auto started = first_started_.get_future();
  test::Get(started);
  std::thread releaser([&] { Release(); });
  server_->Shutdown();
  EXPECT_EQ(finished_.load(), 1);
  releaser.join();
  EXPECT_EQ(test::Get(fut), "slow");
  // No longer listening.
  EXPECT_EQ(CodeOf([&] { Client::Connect(dir_.Sock()); }), Code::kUnavailable);
}

TEST_F(CallTest, CloseFailsPendingCallsAndRunsOnClose) {
  test::Signal closed;
  client_->OnClose(closed.Notifier());
  std::promise<Code> got;
  auto fut = got.get_future();
  client_->AsyncCall("test.Echo", "Block", "x", {}, [&](std::exception_ptr e, std::string) {
    got.set_value(CodeOf([&] {
      if (e) std::rethrow_exception(e);
    }));
  });
  client_->Close();
  EXPECT_EQ(test::Get(fut), Code::kUnavailable);
  test::Get(closed.future());
  EXPECT_TRUE(client_->closed());
  EXPECT_EQ(CodeOf([&] { client_->Call("test.Echo", "Echo", ""); }), Code::kUnavailable);
  // OnClose after the fact runs at once.
  bool ran = false;
  client_->OnClose([&] { ran = true; });
  EXPECT_TRUE(ran);
}

TEST(Server, AbstractSocketAddresses) {
  auto server = Server::Create();
  server->Register("s", "m", [](const Context&, const std::string& p) { return p + "!"; });
  std::string name = "mcd-ttrpc-test-" + std::to_string(::getpid());
  server->Listen("@" + name);
  EXPECT_EQ(Client::Connect("@" + name)->Call("s", "m", "a"), "a!");
  EXPECT_EQ(Client::Connect("unix://@" + name)->Call("s", "m", "b"), "b!");
  server->Shutdown();
}

TEST(Server, UnixUrlAndStaleAndLiveSockets) {
  test::SocketDir dir;
  auto a = Server::Create();
  a->Register("s", "m", [](const Context&, const std::string&) { return std::string("a"); });
  a->Listen("unix://" + dir.Sock());
  EXPECT_EQ(Client::Connect("unix://" + dir.Sock())->Call("s", "m", ""), "a");
  // A live socket is refused.
  auto b = Server::Create();
  EXPECT_EQ(CodeOf([&] { b->Listen(dir.Sock()); }), Code::kFailedPrecondition);
  // Shutdown removes the file.
  a->Shutdown();
  EXPECT_FALSE(std::filesystem::exists(dir.Sock()));
  EXPECT_EQ(CodeOf([&] { Client::Connect(dir.Sock()); }), Code::kUnavailable);
}

TEST(Server, DuplicateRegistrationIsRefused) {
  auto s = Server::Create();
  s->Register("s", "m", [](const Context&, const std::string&) { return std::string(); });
  EXPECT_EQ(CodeOf([&] { s->Register("s", "m", nullptr); }), Code::kAlreadyExists);
}

}  // namespace
}  // namespace mcd::ttrpc
