// Events published per second to 100 subscribers: in-process through the
// exchange, and through the gRPC Events service (a daemon-less server in this
// process, 100 callback-API Subscribe streams over a unix socket).
#include <benchmark/benchmark.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/events/namespace.pb.h"
#include "github.com/containerd/containerd/api/services/events/v1/events.grpc.pb.h"
#include "plugins/plugin.h"
#include "services/grpc_util.h"

namespace {

using namespace mcd;
namespace api = containerd::services::events::v1;

constexpr int kSubscribers = 100;

containerd::events::NamespaceCreate Event() {
  containerd::events::NamespaceCreate ev;
  ev.set_name("bench");
  (*ev.mutable_labels())["k"] = "v";
  return ev;
}

// Publishing to 100 subscribers that each drain on their own thread.
void BM_ExchangePublish100(benchmark::State& state) {
  events::Exchange ex;
  std::atomic<int64_t> received{0};
  std::vector<std::shared_ptr<events::Subscription>> subs;
  std::vector<std::thread> readers;
  for (int i = 0; i < kSubscribers; ++i) {
    subs.push_back(ex.Subscribe({}, events::SubscribeOptions{.max_events = 1 << 20}));
    readers.emplace_back([&received, s = subs.back()] {
      while (s->Next()) received++;
    });
  }
  const auto ev = Event();
  const auto ctx = MakeContext("default");
  for (auto _ : state) ex.Publish(ctx, "/namespaces/create", ev);
  const int64_t want = state.iterations() * kSubscribers;
  while (received.load() < want) std::this_thread::yield();
  for (auto& s : subs) s->Close();
  for (auto& t : readers) t.join();
  state.SetItemsProcessed(state.iterations());
  state.counters["deliveries/s"] =
      benchmark::Counter(static_cast<double>(want), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ExchangePublish100)->UseRealTime();

// Same, with callback subscribers (delivery on the publishing thread).
void BM_ExchangePublish100Callback(benchmark::State& state) {
  events::Exchange ex;
  std::atomic<int64_t> received{0};
  std::vector<std::shared_ptr<events::Subscription>> subs;
  for (int i = 0; i < kSubscribers; ++i) {
    subs.push_back(ex.Subscribe({}, [&received](const events::Envelope&) { received++; }));
  }
  const auto ev = Event();
  const auto ctx = MakeContext("default");
  for (auto _ : state) ex.Publish(ctx, "/namespaces/create", ev);
  state.SetItemsProcessed(state.iterations());
  state.counters["deliveries/s"] =
      benchmark::Counter(static_cast<double>(received.load()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ExchangePublish100Callback)->UseRealTime();

// Through gRPC: the events grpc plugin, registered as the daemon does.
struct Reader : grpc::ClientReadReactor<api::Envelope> {
  Reader(api::Events::Stub& stub, std::atomic<int64_t>& n, std::mutex& mu,
         std::condition_variable& cv)
      : n_(n), mu_(mu), cv_(cv) {
    stub.async()->Subscribe(&ctx, &req, this);
    StartRead(&env);
    StartCall();
  }
  // The server sends headers once the subscription exists.
  void OnReadInitialMetadataDone(bool) override {
    std::lock_guard lk(mu_);
    subscribed = true;
    cv_.notify_all();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    {
      std::lock_guard lk(mu_);
      n_++;
    }
    cv_.notify_all();
    StartRead(&env);
  }
  void OnDone(const grpc::Status&) override {
    std::lock_guard lk(mu_);
    done = true;
    cv_.notify_all();
  }
  std::atomic<int64_t>& n_;
  std::mutex& mu_;
  std::condition_variable& cv_;
  grpc::ClientContext ctx;
  api::SubscribeRequest req;
  api::Envelope env;
  bool done = false;
  bool subscribed = false;
};

void BM_GrpcPublish100(benchmark::State& state) {
  events::Exchange ex;
  // The grpc plugin from services/events, built through the registry.
  const plugin::Registration* reg = nullptr;
  for (const auto& r : plugin::Registry::Global().All()) {
    if (r.type == plugin::kGRPC && r.id == "events") reg = &r;
  }
  if (!reg) {
    state.SkipWithError("events grpc plugin not linked");
    return;
  }
  plugin::Set set;
  auto exl = std::make_shared<plugin::Loaded>();
  for (const auto& r : plugin::Registry::Global().All()) {
    if (r.type == plugin::kEvent && r.id == "exchange") exl->reg = &r;
  }
  exl->instance = std::shared_ptr<plugin::Instance>(std::shared_ptr<plugin::Instance>{}, &ex);
  set.Add(exl);
  plugin::DaemonInfo info;
  plugin::Loaded self;
  self.reg = reg;
  toml::table cfg;
  plugin::InitContext ic(*reg, info, cfg, &ex, set, self);
  auto svc = std::dynamic_pointer_cast<services::GrpcService>(reg->init(ic));

  const std::string sock = "/tmp/mcd-events-bench-" + std::to_string(::getpid()) + ".sock";
  ::unlink(sock.c_str());
  grpc::ServerBuilder b;
  b.AddListeningPort("unix:" + sock, grpc::InsecureServerCredentials());
  b.RegisterService(svc->service());
  auto server = b.BuildAndStart();
  auto stub =
      api::Events::NewStub(grpc::CreateChannel("unix:" + sock, grpc::InsecureChannelCredentials()));

  std::atomic<int64_t> received{0};
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<Reader>> readers;
  for (int i = 0; i < kSubscribers; ++i) {
    readers.push_back(std::make_unique<Reader>(*stub, received, mu, cv));
  }
  {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] {
      for (auto& r : readers) {
        if (!r->subscribed) return false;
      }
      return true;
    });
  }
  api::PublishRequest req;
  req.set_topic("/namespaces/create");
  events::PackEvent(Event(), req.mutable_event());
  for (auto _ : state) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("containerd-namespace", "default");
    google::protobuf::Empty resp;
    auto st = stub->Publish(&ctx, req, &resp);
    if (!st.ok()) state.SkipWithError(st.error_message().c_str());
  }
  const int64_t want = state.iterations() * kSubscribers;
  {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return received.load() >= want; });
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["deliveries/s"] =
      benchmark::Counter(static_cast<double>(want), benchmark::Counter::kIsRate);
  for (auto& r : readers) r->ctx.TryCancel();
  {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] {
      for (auto& r : readers) {
        if (!r->done) return false;
      }
      return true;
    });
  }
  server->Shutdown();
  ::unlink(sock.c_str());
}
BENCHMARK(BM_GrpcPublish100)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
