// What goes over the wire, checked with a hand-written peer: stream ids,
// metadata, timeout_nano, and bad input in both directions (answered as
// github.com/containerd/ttrpc answers it, never crashing or leaking).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "pkg/errdefs.h"
#include "tests/unit/ttrpc/rawpeer.h"
#include "tests/unit/ttrpc/testutil.h"
#include "ttrpc/client.h"
#include "ttrpc/server.h"

namespace mcd::ttrpc {
namespace {

using errdefs::Code;
using test::CodeOf;
using test::RawConn;
using test::RawListener;

class ServerWire : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = Server::Create();
    server_->Register("s", "echo", [](const Context&, const std::string& p) { return p; });
    server_->Listen(dir_.Sock());
  }
  void TearDown() override { server_->Shutdown(); }
  // The connection still serves a good request afterwards.
  void ExpectAlive(RawConn& c, uint32_t id) {
    c.WriteRequest(id, "s", "echo", "alive");
    uint32_t got;
    auto r = c.ReadResponse(&got);
    EXPECT_EQ(got, id);
    EXPECT_EQ(r.status().code(), 0);
    EXPECT_EQ(r.payload(), "alive");
  }
  test::SocketDir dir_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerWire, ResponseCarriesStreamIdAndOkStatus) {
  auto c = RawConn::Dial(dir_.Sock());
  c.WriteRequest(41, "s", "echo", "x");
  auto f = c.Read();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->header.stream_id, 41u);
  EXPECT_EQ(f->header.type, 2);
  EXPECT_EQ(f->header.flags, 0);
  mcd::ttrpc::Response r;
  ASSERT_TRUE(r.ParseFromString(f->payload));
  EXPECT_TRUE(r.has_status());  // ttrpc always sends one
  EXPECT_EQ(r.status().code(), 0);
  EXPECT_EQ(r.payload(), "x");
}

TEST_F(ServerWire, OversizedFrameGetsResourceExhaustedAndConnectionContinues) {
  auto c = RawConn::Dial(dir_.Sock());
  const uint32_t len = kMaxMessageSize + 1;
  c.WriteHeader(len, 3, 1);
  std::thread body([&] { c.Write(std::string(len, 'z')); });  // skipped by the server
  uint32_t id;
  auto r = c.ReadResponse(&id);
  body.join();
  EXPECT_EQ(id, 3u);
  EXPECT_EQ(r.status().code(), static_cast<int>(Code::kResourceExhausted));
  EXPECT_EQ(r.status().message(), "message length 4194305 exceed maximum message size of 4194304");
  ExpectAlive(c, 5);
}

TEST_F(ServerWire, GarbageRequestIsInvalidArgument) {
  auto c = RawConn::Dial(dir_.Sock());
  c.Write(EncodeFrame(7, MessageType::kRequest, std::string("\xff\xff\xff\xff", 4)));
  uint32_t id;
  auto r = c.ReadResponse(&id);
  EXPECT_EQ(id, 7u);
  EXPECT_EQ(r.status().code(), static_cast<int>(Code::kInvalidArgument));
  EXPECT_TRUE(r.status().message().starts_with("unmarshal request error")) << r.status().message();
  ExpectAlive(c, 9);
}

TEST_F(ServerWire, EvenStreamIdIsInvalidArgument) {
  auto c = RawConn::Dial(dir_.Sock());
  c.WriteRequest(2, "s", "echo", "x");
  uint32_t id;
  auto r = c.ReadResponse(&id);
  EXPECT_EQ(id, 2u);
  EXPECT_EQ(r.status().code(), static_cast<int>(Code::kInvalidArgument));
  EXPECT_EQ(r.status().message(), "StreamID must be odd for client initiated streams");
  ExpectAlive(c, 1);
}

TEST_F(ServerWire, OtherMessageTypesAreIgnored) {
  auto c = RawConn::Dial(dir_.Sock());
  c.Write(EncodeFrame(1, MessageType::kResponse, "whatever"));
  c.Write(std::string("\0\0\0\1\0\0\0\3\x09\0Z", 11));  // type 9, unknown
  ExpectAlive(c, 5);
}

TEST_F(ServerWire, PeerVanishingMidFrameLeavesServerServing) {
  for (int i = 0; i < 50; ++i) {
    auto c = RawConn::Dial(dir_.Sock());
    c.WriteHeader(1000, 1, 1);
    c.Write("partial");
  }  // each closed with a frame half sent
  auto c = RawConn::Dial(dir_.Sock());
  ExpectAlive(c, 1);
}

TEST_F(ServerWire, ManyPipelinedRequestsAllAnswered) {
  auto c = RawConn::Dial(dir_.Sock());
  std::string batch;
  constexpr int kN = 1000;
  for (int i = 0; i < kN; ++i) {
    mcd::ttrpc::Request r;
    r.set_service("s");
    r.set_method("echo");
    r.set_payload(std::to_string(i));
    batch += EncodeFrame(2 * i + 1, MessageType::kRequest, r.SerializeAsString());
  }
  std::thread w([&] { c.Write(batch); });
  std::vector<bool> seen(kN);
  for (int i = 0; i < kN; ++i) {
    uint32_t id;
    auto r = c.ReadResponse(&id);
    ASSERT_EQ(id % 2, 1u);
    int n = static_cast<int>(id / 2);
    ASSERT_LT(n, kN);
    EXPECT_EQ(r.payload(), std::to_string(n));
    seen[n] = true;
  }
  w.join();
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), kN);
}

TEST(ServerListen, StaleSocketFileIsReplaced) {
  test::SocketDir dir;
  { RawListener stale(dir.Sock()); }  // bound then closed: the file stays
  ASSERT_TRUE(std::filesystem::exists(dir.Sock()));
  auto s = Server::Create();
  s->Register("s", "m", [](const Context&, const std::string&) { return std::string("ok"); });
  s->Listen(dir.Sock());
  EXPECT_EQ(Client::Connect(dir.Sock())->Call("s", "m", ""), "ok");
  s->Shutdown();
}

TEST(ServerListen, NonSocketFileIsRefused) {
  test::SocketDir dir;
  { std::ofstream(dir.Sock()) << "x"; }
  auto s = Server::Create();
  EXPECT_EQ(CodeOf([&] { s->Listen(dir.Sock()); }), Code::kFailedPrecondition);
  EXPECT_TRUE(std::filesystem::exists(dir.Sock()));
}

// The client against a hand-written server.
class ClientWire : public ::testing::Test {
 protected:
  test::SocketDir dir_;
  RawListener listener_{dir_.Sock()};
};

TEST_F(ClientWire, OddIncreasingStreamIdsMetadataAndTimeout) {
  auto client = Client::Connect(dir_.Sock());
  auto peer = listener_.Accept();
  CallOptions o;
  o.ns = "default";
  o.timeout = std::chrono::seconds(7);
  o.metadata = {{"k", "v"}};
  std::vector<std::future<std::string>> calls;
  for (int i = 0; i < 3; ++i) {
    calls.push_back(std::async(std::launch::async, [&, i] {
      return client->Call("svc", "M" + std::to_string(i), "p", o);
    }));
  }
  std::vector<uint32_t> ids;
  for (int i = 0; i < 3; ++i) {
    auto f = peer.Read();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->header.type, 1);
    mcd::ttrpc::Request r;
    ASSERT_TRUE(r.ParseFromString(f->payload));
    EXPECT_EQ(r.service(), "svc");
    EXPECT_EQ(r.payload(), "p");
    EXPECT_EQ(r.timeout_nano(), 7'000'000'000);
    ASSERT_EQ(r.metadata_size(), 2);
    EXPECT_EQ(r.metadata(0).key(), "containerd-namespace-ttrpc");
    EXPECT_EQ(r.metadata(0).value(), "default");
    EXPECT_EQ(r.metadata(1).key(), "k");
    ids.push_back(f->header.stream_id);
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<uint32_t>{1, 3, 5}));
  // Answer out of order; each call gets its own answer.
  for (uint32_t id : {5u, 1u, 3u}) {
    mcd::ttrpc::Response r;
    r.mutable_status();
    r.set_payload("r" + std::to_string(id));
    peer.Write(EncodeFrame(id, MessageType::kResponse, r.SerializeAsString()));
  }
  std::set<std::string> got;
  for (auto& c : calls) got.insert(test::Get(c));
  EXPECT_EQ(got, (std::set<std::string>{"r1", "r3", "r5"}));
}

TEST_F(ClientWire, BadResponsesFailOnlyTheirCall) {
  auto client = Client::Connect(dir_.Sock());
  auto peer = listener_.Accept();
  auto call = [&] {
    return std::async(std::launch::async, [&] {
      std::string msg;
      return CodeOf([&] { client->Call("s", "m", ""); }, &msg);
    });
  };
  auto next_id = [&] {
    auto f = peer.Read();
    if (!f) throw std::runtime_error("eof");
    return f->header.stream_id;
  };

  // Undecodable response payload.
  auto c1 = call();
  peer.Write(EncodeFrame(next_id(), MessageType::kResponse, std::string("\xff\xff\xff", 3)));
  EXPECT_EQ(test::Get(c1), Code::kUnknown);

  // A request frame where a response belongs.
  auto c2 = call();
  peer.Write(EncodeFrame(next_id(), MessageType::kRequest, ""));
  EXPECT_EQ(test::Get(c2), Code::kUnknown);

  // An oversized response: body skipped, ResourceExhausted.
  auto c3 = call();
  uint32_t id3 = next_id();
  peer.WriteHeader(kMaxMessageSize + 10, id3, 2);
  peer.Write(std::string(kMaxMessageSize + 10, 'x'));
  EXPECT_EQ(test::Get(c3), Code::kResourceExhausted);

  // Unknown stream ids and a status code out of range.
  auto c4 = call();
  uint32_t id4 = next_id();
  mcd::ttrpc::Response r;
  r.mutable_status()->set_code(999);
  r.mutable_status()->set_message("weird");
  peer.Write(EncodeFrame(id4 + 100, MessageType::kResponse, r.SerializeAsString()));
  peer.Write(EncodeFrame(id4, MessageType::kResponse, r.SerializeAsString()));
  EXPECT_EQ(test::Get(c4), Code::kUnknown);

  // Still usable.
  auto c5 = call();
  mcd::ttrpc::Response ok;
  ok.mutable_status()->set_code(5);
  ok.mutable_status()->set_message("x: not found");
  peer.Write(EncodeFrame(next_id(), MessageType::kResponse, ok.SerializeAsString()));
  EXPECT_EQ(test::Get(c5), Code::kNotFound);
  EXPECT_FALSE(client->closed());
}

TEST_F(ClientWire, PeerClosingFailsEveryPendingCallWithUnavailable) {
  auto client = Client::Connect(dir_.Sock());
  test::Signal closed;
  client->OnClose(closed.Notifier());
  std::optional<RawConn> peer(listener_.Accept());
  constexpr int kN = 20;
  std::vector<std::future<Code>> calls;
  for (int i = 0; i < kN; ++i) {
    calls.push_back(std::async(std::launch::async,
                               [&] { return CodeOf([&] { client->Call("s", "m", ""); }); }));
  }
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(peer->Read());  // all on the wire
  peer.reset();                                            // the peer goes away
  for (auto& c : calls) EXPECT_EQ(test::Get(c), Code::kUnavailable);
  test::Get(closed.future());
  EXPECT_TRUE(client->closed());
}

}  // namespace
}  // namespace mcd::ttrpc
