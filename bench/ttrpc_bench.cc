// ttrpc round trips against the project's own echo server over a unix
// socket: latency of one blocking call at a time, and calls/second on one
// connection and on eight (blocking callers, and pipelined async calls).
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>

#include "ttrpc/client.h"
#include "ttrpc/server.h"

namespace {

using mcd::ttrpc::Client;
using mcd::ttrpc::Server;

const std::string& SocketDir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/mcd-ttrpc-bench-XXXXXX";
    if (!::mkdtemp(tmpl)) std::abort();
    return std::string(tmpl);
  }();
  return dir;
}
std::string SocketPath() {
  return SocketDir() + "/echo.sock";
}

std::unique_ptr<Server> g_server;  // shut down and removed in main

// Started once, lives until the benchmarks are done.
void EnsureServer() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_server = Server::Create();
    g_server->Register("bench.Echo", "Echo",
                       [](const mcd::Context&, const std::string& p) { return p; });
    g_server->Listen(SocketPath());
  });
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

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (g_server) g_server->Shutdown();
  std::filesystem::remove_all(SocketDir());
  return 0;
}
