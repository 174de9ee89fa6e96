// ttrpc round trips against the project's own echo server over a unix
// socket: latency of one blocking call at a time, and calls/second on one
// connection and on eight (blocking callers, and pipelined async calls).
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>

#include "ttrpc/client.h"
#include "ttrpc/server.h"

namespace {

using mcd::ttrpc::Client;
using mcd::ttrpc::Server;

const std::string& SocketPath() {
  static const std::string path = [] {
    char tmpl[] = "/tmp/mcd-ttrpc-bench-XXXXXX";
    if (!::mkdtemp(tmpl)) std::abort();
    return std::string(tmpl) + "/echo.sock";
  }();
  return path;
}

// Started once, lives for the process.
void EnsureServer() {
  static Server* server = [] {
    auto s = Server::Create();
    s->Register("bench.Echo", "Echo", [](const mcd::Context&, const std::string& p) { return p; });
    s->Listen(SocketPath());
    return s.release();
  }();
  (void)server;
}

const std::string kPayload(64, 'x');

// One blocking call at a time on the caller's own connection: with
// ->Threads(8) this is eight connections.
void BM_RoundTrip(benchmark::State& state) {
  EnsureServer();
  auto client = Client::Connect(SocketPath());
  for (auto _ : state) {
    benchmark::DoNotOptimize(client->Call("bench.Echo", "Echo", kPayload));
  }
  state.counters["calls/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RoundTrip)->UseRealTime()->Threads(1);
BENCHMARK(BM_RoundTrip)->UseRealTime()->Threads(8);

// Eight callers sharing one connection.
void BM_RoundTripSharedConnection(benchmark::State& state) {
  EnsureServer();
  static std::shared_ptr<Client> shared;
  if (state.thread_index() == 0) shared = Client::Connect(SocketPath());
  // Benchmark threads start the timed loop together, after setup.
  for (auto _ : state) {
    benchmark::DoNotOptimize(shared->Call("bench.Echo", "Echo", kPayload));
  }
  state.counters["calls/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  if (state.thread_index() == 0) shared.reset();
}
BENCHMARK(BM_RoundTripSharedConnection)->UseRealTime()->Threads(8);

// Pipelined: `window` async calls outstanding on each connection.
void BM_Pipelined(benchmark::State& state) {
  EnsureServer();
  const int window = static_cast<int>(state.range(0));
  auto client = Client::Connect(SocketPath());
  std::mutex mu;
  std::condition_variable cv;
  int outstanding = 0;
  for (auto _ : state) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return outstanding < window; });
    ++outstanding;
    lock.unlock();
    client->AsyncCall("bench.Echo", "Echo", kPayload, {}, [&](std::exception_ptr e, std::string) {
      if (e) std::abort();
      std::lock_guard l(mu);
      --outstanding;
      cv.notify_one();
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return outstanding == 0; });
  state.counters["calls/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Pipelined)->Arg(32)->UseRealTime()->Threads(1);
BENCHMARK(BM_Pipelined)->Arg(32)->UseRealTime()->Threads(8);

}  // namespace

BENCHMARK_MAIN();
