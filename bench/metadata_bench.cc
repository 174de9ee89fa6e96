// The metadata database after a long life: a CI daemon creates and deletes
// containers, snapshots and leases by the thousand, and every deletion leaves
// a tombstone that a prefix scan (a List, a collection's mark phase) must step
// over until RocksDB drops it. This measures a scan of a bucket holding one
// live object after `deleted` others were created and removed.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "metadata/db.h"

namespace {

void BM_ScanAfterDeletes(benchmark::State& state) {
  const auto deleted = static_cast<int>(state.range(0));
  auto dir =
      std::filesystem::temp_directory_path() / ("mcd-metadata-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    auto db = mcd::metadata::DB::Open(dir.string());
    const std::string bucket = mcd::metadata::BucketPrefix("ns", "containers");
    for (int i = 0; i < deleted; ++i) {
      const std::string key = bucket + "gone-" + std::to_string(i);
      db->Update([&](mcd::metadata::Txn& t) { t.Put(key, "record"); });
      db->Update([&](mcd::metadata::Txn& t) { t.Delete(key); });
    }
    db->Update([&](mcd::metadata::Txn& t) { t.Put(bucket + "live", "record"); });
    db->WaitForIdle();
    for (auto _ : state) {
      int n = 0;
      db->Scan(bucket, [&](std::string_view, std::string_view) {
        ++n;
        return true;
      });
      if (n != 1) state.SkipWithError("scan did not find the one live key");
    }
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ScanAfterDeletes)->Arg(0)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
