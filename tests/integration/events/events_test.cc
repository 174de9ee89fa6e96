// Events against a running daemon: the real `ctr events`, filters, and 500
// concurrent Subscribe streams from a callback-API gRPC client.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <regex>

#include "github.com/containerd/containerd/api/events/namespace.pb.h"
#include "github.com/containerd/containerd/api/services/events/v1/events.grpc.pb.h"
#include "tests/integration/events/watch.h"
#include "tests/integration/support/harness.h"

namespace mcd::itest {
namespace {

using namespace std::chrono_literals;
namespace api = containerd::services::events::v1;

// The line ctr prints: Go's time.Time String(), namespace, topic, event JSON.
const std::regex kLine(
    R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,9})? \+0000 UTC (\S+) (\S+) (.*)$)");

struct Event {
  std::string ns, topic, json;
  bool operator==(const Event&) const = default;
};
std::ostream& operator<<(std::ostream& o, const Event& e) {
  return o << e.ns << " " << e.topic << " " << e.json;
}

std::optional<Event> NextEvent(Background& ctr) {
  auto line = ctr.ReadLine(60s);
  if (!line) return std::nullopt;
  std::smatch m;
  if (!std::regex_match(*line, m, kLine)) {
    ADD_FAILURE() << "unexpected ctr events line: " << *line;
    return std::nullopt;
  }
  return Event{m[2], m[3], m[4]};
}

class EventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Require("ctr");
    daemon_.Start();
    // The daemon's own subscribers (the restart monitor's): what the count
    // returns to once the clients are gone.
    std::string log = daemon_.Log();
    auto at = log.rfind("subscribers=");
    ASSERT_NE(at, std::string::npos) << log;
    idle_subscribers_ = "subscribers=" + std::to_string(std::stoi(log.substr(at + 12)));
  }
  // Starts `ctr events [filters]` and waits until the daemon has its subscription.
  std::unique_ptr<Background> CtrEvents(const std::vector<std::string>& filters) {
    LogWatch log(daemon_.log_path());
    std::vector<std::string> argv = {"ctr", "-a", daemon_.socket(), "events"};
    argv.insert(argv.end(), filters.begin(), filters.end());
    auto bg = std::make_unique<Background>(argv);
    EXPECT_TRUE(log.WaitFor("event subscription added", 60s)) << daemon_.Log();
    return bg;
  }
  void Ctr0(const std::vector<std::string>& args) {
    auto r = Ctr(daemon_, args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  TempDir dir_;
  Daemon daemon_{dir_.path()};
  std::string idle_subscribers_;
};

TEST_F(EventsTest, CtrEventsPrintsNamespaceEventsAsContainerd) {
  auto ev = CtrEvents({});
  Ctr0({"namespaces", "create", "evtest"});
  Ctr0({"namespaces", "create", "evlab", "a=b"});
  Ctr0({"namespaces", "label", "evlab", "c=d"});
  Ctr0({"namespaces", "remove", "evtest"});
  // As containerd 1.6.20 prints them (checked side by side): create and
  // update in the caller's namespace with the request's labels, delete in
  // the deleted namespace.
  std::vector<Event> want = {
      {"default", "/namespaces/create", R"({"name":"evtest"})"},
      {"default", "/namespaces/create", R"({"name":"evlab","labels":{"a":"b"}})"},
      {"default", "/namespaces/update", R"({"name":"evlab","labels":{"c":"d"}})"},
      {"evtest", "/namespaces/delete", R"({"name":"evtest"})"},
  };
  for (const auto& w : want) {
    auto got = NextEvent(*ev);
    ASSERT_TRUE(got) << daemon_.Log();
    EXPECT_EQ(*got, w);
  }
}

// Reads events until the sentinel namespace "end" shows up.
std::vector<Event> UntilEnd(Background& ctr) {
  std::vector<Event> out;
  while (auto e = NextEvent(ctr)) {
    out.push_back(*e);
    if (e->json == R"({"name":"end"})") break;
  }
  return out;
}

TEST_F(EventsTest, CtrEventsFiltersSelectOnlyWhatTheyName) {
  auto by_topic = CtrEvents({R"(topic=="/namespaces/create")"});
  auto by_ns = CtrEvents({"namespace==fa", "event.name==end"});
  auto by_field = CtrEvents({"event.name==fb", "event.name==end"});
  auto by_label = CtrEvents({"event.labels.team==x,topic~=create", "event.name==end"});
  Ctr0({"namespaces", "create", "fa"});
  Ctr0({"namespaces", "create", "fb", "team=x"});
  Ctr0({"namespaces", "label", "fb", "k=v"});
  Ctr0({"namespaces", "remove", "fa"});
  Ctr0({"namespaces", "create", "end"});
  const Event end{"default", "/namespaces/create", R"({"name":"end"})"};
  EXPECT_EQ(UntilEnd(*by_topic),
            (std::vector<Event>{
                {"default", "/namespaces/create", R"({"name":"fa"})"},
                {"default", "/namespaces/create", R"({"name":"fb","labels":{"team":"x"}})"},
                end}));
  EXPECT_EQ(UntilEnd(*by_ns),
            (std::vector<Event>{{"fa", "/namespaces/delete", R"({"name":"fa"})"}, end}));
  EXPECT_EQ(UntilEnd(*by_field),
            (std::vector<Event>{
                {"default", "/namespaces/create", R"({"name":"fb","labels":{"team":"x"}})"},
                {"default", "/namespaces/update", R"({"name":"fb","labels":{"k":"v"}})"},
                end}));
  EXPECT_EQ(UntilEnd(*by_label),
            (std::vector<Event>{
                {"default", "/namespaces/create", R"({"name":"fb","labels":{"team":"x"}})"}, end}));
}

TEST_F(EventsTest, BadFilterIsRejectedAsContainerd) {
  auto r = Ctr(daemon_, {"events", "topic=="});
  EXPECT_NE(r.exit_code, 0);
  // containerd 1.6.20 says exactly this (its Subscribe returns the error unconverted).
  EXPECT_NE(r.err.find("ctr: rpc error: code = Unknown desc = subscription error: failed parsing "
                       "subscription filters: filters: parse error: [topic==]: expected value or "
                       "quoted: invalid argument"),
            std::string::npos)
      << r.err;
}

// A gRPC client of the daemon's socket.
std::unique_ptr<api::Events::Stub> Stub(const Daemon& d) {
  grpc::ChannelArguments args;
  return api::Events::NewStub(
      grpc::CreateCustomChannel("unix:" + d.socket(), grpc::InsecureChannelCredentials(), args));
}

grpc::Status Publish(api::Events::Stub& stub, const std::string& ns, const std::string& topic,
                     const std::string& name) {
  grpc::ClientContext ctx;
  if (!ns.empty()) ctx.AddMetadata("containerd-namespace", ns);
  api::PublishRequest req;
  req.set_topic(topic);
  containerd::events::NamespaceCreate ev;
  ev.set_name(name);
  req.mutable_event()->set_type_url("containerd.events.NamespaceCreate");
  ev.SerializeToString(req.mutable_event()->mutable_value());
  google::protobuf::Empty resp;
  return stub.Publish(&ctx, req, &resp);
}

TEST_F(EventsTest, PublishNeedsNamespaceAndValidTopic) {
  auto stub = Stub(daemon_);
  auto st = Publish(*stub, "", "/x/y", "n");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message(),
            "failed publishing event: namespace is required: failed precondition");
  st = Publish(*stub, "default", "x", "n");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "envelope topic \"x\": must start with '/': invalid argument");
}

TEST_F(EventsTest, ForwardKeepsEnvelopeAndValidates) {
  auto ev = CtrEvents({});
  auto stub = Stub(daemon_);
  api::ForwardRequest req;
  auto* env = req.mutable_envelope();
  env->set_namespace_("shimns");
  env->set_topic("/tasks/oom");
  env->mutable_timestamp()->set_seconds(1700000000);
  env->mutable_timestamp()->set_nanos(5);
  containerd::events::NamespaceCreate payload;
  payload.set_name("fwd");
  env->mutable_event()->set_type_url("containerd.events.NamespaceCreate");
  payload.SerializeToString(env->mutable_event()->mutable_value());
  {
    grpc::ClientContext ctx;
    google::protobuf::Empty resp;
    auto st = stub->Forward(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  auto line = ev->ReadLine(60s);
  ASSERT_TRUE(line);
  EXPECT_EQ(*line, "2023-11-14 22:13:20.000000005 +0000 UTC shimns /tasks/oom {\"name\":\"fwd\"}");

  env->clear_timestamp();
  grpc::ClientContext ctx;
  google::protobuf::Empty resp;
  auto st = stub->Forward(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "timestamp must be set on forwarded event: invalid argument");
}

// Counts what many callback-API subscribers receive, without a thread each.
struct Tally {
  std::mutex mu;
  std::condition_variable cv;
  int subscribed = 0;
  int got = 0;
  int done = 0;
  template <class Pred>
  bool Wait(Pred pred, std::chrono::seconds t) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, t, [&] { return pred(*this); });
  }
};

class Subscriber : public grpc::ClientReadReactor<api::Envelope> {
 public:
  Subscriber(api::Events::Stub& stub, Tally& tally, const std::string& want_topic)
      : tally_(tally), want_(want_topic) {
    stub.async()->Subscribe(&ctx_, &req_, this);
    StartRead(&env_);
    StartCall();
  }
  void Cancel() { ctx_.TryCancel(); }
  // The daemon sends headers once the subscription exists.
  void OnReadInitialMetadataDone(bool ok) override {
    std::lock_guard lk(tally_.mu);
    if (ok) tally_.subscribed++;
    tally_.cv.notify_all();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    if (env_.topic() == want_ && env_.event().type_url() == "containerd.events.NamespaceCreate") {
      std::lock_guard lk(tally_.mu);
      tally_.got++;
      tally_.cv.notify_all();
    }
    StartRead(&env_);
  }
  void OnDone(const grpc::Status&) override {
    std::lock_guard lk(tally_.mu);
    tally_.done++;
    tally_.cv.notify_all();
  }

 private:
  Tally& tally_;
  std::string want_;
  grpc::ClientContext ctx_;
  api::SubscribeRequest req_;
  api::Envelope env_;
};

int Threads(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

TEST_F(EventsTest, FiveHundredSubscribersShareFewThreads) {
  constexpr int kSubs = 500;
  const int threads_before = Threads(daemon_.pid());
  auto stub = Stub(daemon_);
  Tally tally;
  std::vector<std::unique_ptr<Subscriber>> subs;
  for (int i = 0; i < kSubs; ++i) {
    subs.push_back(std::make_unique<Subscriber>(*stub, tally, "/test/ping"));
  }
  ASSERT_TRUE(tally.Wait([&](Tally& t) { return t.subscribed == kSubs; }, 120s))
      << "only " << tally.subscribed << " of " << kSubs << " subscribed";
  ASSERT_TRUE(Publish(*stub, "default", "/test/ping", "ping").ok());
  ASSERT_TRUE(tally.Wait([&](Tally& t) { return t.got == kSubs; }, 120s))
      << "only " << tally.got << " of " << kSubs << " received the event";
  const int threads = Threads(daemon_.pid());
  std::printf("daemon threads: %d before, %d with %d open Subscribe streams\n", threads_before,
              threads, kSubs);
  EXPECT_LT(threads, 64);

  {
    LogWatch log(daemon_.log_path());
    for (auto& s : subs) s->Cancel();
    ASSERT_TRUE(tally.Wait([&](Tally& t) { return t.done == kSubs; }, 120s));
    ASSERT_TRUE(log.WaitFor(idle_subscribers_, 120s, true)) << "subscriptions not freed";
  }
  std::printf("daemon threads after closing: %d\n", Threads(daemon_.pid()));
  // Still serving, and publishing to nobody is fine.
  EXPECT_TRUE(Publish(*stub, "default", "/test/ping", "again").ok());
  EXPECT_EQ(::kill(daemon_.pid(), 0), 0);
  auto r = Ctr(daemon_, {"version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(EventsTest, ClientVanishingMidStreamIsCleanedUp) {
  {
    LogWatch log(daemon_.log_path());
    auto ev = CtrEvents({});
    ::kill(ev->pid(), SIGKILL);
    ev.reset();
    ASSERT_TRUE(log.WaitFor(idle_subscribers_, 60s, true));
  }
  // Publishing afterwards reaches nobody and breaks nothing.
  auto stub = Stub(daemon_);
  EXPECT_TRUE(Publish(*stub, "default", "/test/after", "x").ok());
  auto r = Ctr(daemon_, {"version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace mcd::itest
