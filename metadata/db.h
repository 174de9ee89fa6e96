#pragma once
// The metadata database on RocksDB. Keys mirror containerd's bolt buckets as
// strings: "v1/<ns>/<bucket>/<id>..." with namespace records at "v1/<ns>".
// Every write is one atomic batch with a synced WAL (containerd's bolt fsyncs
// each transaction). Read-modify-write goes through Update(), which
// serialises writers so a transaction sees its own writes and no one else's.
#include <rocksdb/db.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "plugins/plugin.h"

namespace mcd::metadata {

namespace gc {
class Collector;  // metadata/gc.h
}
class ContentStore;  // metadata/content.h

// 2: lease resources in their own bucket (leases::UpgradeLayout moves a
// schema 1 database's, once).
inline constexpr int kSchemaVersion = 2;
inline constexpr const char* kSchemaKey = "schema/version";

// Key builders.
std::string NamespaceKey(std::string_view ns);                           // v1/<ns>
std::string BucketPrefix(std::string_view ns, std::string_view bucket);  // v1/<ns>/<bucket>/
std::string ObjectKey(std::string_view ns, std::string_view bucket, std::string_view id);

// A read-write transaction: reads see this transaction's writes.
class Txn {
 public:
  std::optional<std::string> Get(std::string_view key);
  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);
  // Every key with this prefix, in order, with its value; fn returns false to stop.
  void Scan(std::string_view prefix,
            const std::function<bool(std::string_view key, std::string_view value)>& fn);
  void DeletePrefix(std::string_view prefix);
  bool HasPrefix(std::string_view prefix);
  // This commit's deletes leave no garbage (an ingest record replaced by its
  // blob, an aborted ingest): the collector is not triggered, as containerd
  // marks its database dirty only for real removals.
  void NoGarbage() { no_garbage_ = true; }
  // This commit need not survive a power loss (the WAL is written but not
  // synced): what it records is reconciled after a crash anyway (a removed
  // backend snapshot's record comes back as an orphan collection removes).
  // A later synced commit syncs it too.
  void NoSync() { no_sync_ = true; }

 private:
  friend class DB;
  bool no_garbage_ = false;
  bool no_sync_ = false;
  size_t deletes_ = 0;
  explicit Txn(rocksdb::DB* db) : db_(db), batch_(rocksdb::BytewiseComparator(), 0, true) {}
  rocksdb::DB* db_;
  rocksdb::WriteBatchWithIndex batch_;
};

class DB : public plugin::Instance {
 public:
  // Opens (creating) the database in `dir`; refuses a newer schema.
  static std::shared_ptr<DB> Open(const std::string& dir);
  // Closes without the clean-stop mark (what a crash leaves).
  ~DB() override;
  // Closes, marking a clean stop when tracked.
  void Close() override;

  // The daemon's metadata database remembers whether it was stopped cleanly
  // (Close) or not (a crash): takes the mark left by the last Close and has
  // this one's Close put it back. Only after a crash can the disk hold what
  // no record names (a blob, a backend snapshot), so only then do start-up
  // and the first collection look through it.
  void TrackCleanStop();
  bool StoppedCleanly() const { return stopped_cleanly_; }

  // Runs fn in one transaction and commits it atomically with a synced WAL.
  // An exception from fn discards every write.
  void Update(const std::function<void(Txn&)>& fn);
  template <class R>
  R UpdateR(const std::function<R(Txn&)>& fn) {
    std::optional<R> r;
    Update([&](Txn& t) { r = fn(t); });
    return std::move(*r);
  }

  // Lock-free reads of committed data.
  std::optional<std::string> Get(std::string_view key) const;
  void Scan(std::string_view prefix,
            const std::function<bool(std::string_view key, std::string_view value)>& fn) const;
  bool HasPrefix(std::string_view prefix) const;

  // Namespace names in order, found by seeking past each one's subtree.
  std::vector<std::string> Namespaces() const;

  // Bumped after every committed write; the GC scheduler watches it.
  uint64_t mutations() const { return mutations_.load(); }
  // Hooks run after a commit that deleted something (GC triggers).
  void OnMutation(std::function<void(bool deletion)> fn);
  void NotifyDeletion();  // a store removed something outside a commit

  rocksdb::DB* raw() { return db_.get(); }

  // Every deleted key leaves a tombstone that prefix scans step over until
  // a compaction drops it; a daemon that creates and removes containers by
  // the thousand would make every List and collection slower with age. After
  // this many deleted keys a background compaction runs.
  static constexpr size_t kCompactAfterDeletes = 1000;
  // Logs found at open past which they are flushed away (see Open).
  static constexpr size_t kMaxLogsAtOpen = 4;
  // Blocks until no compaction is pending or running (tests, benchmarks).
  void WaitForIdle();

  // The garbage collector over this database (metadata/gc.h); stores
  // register their resources on it.
  gc::Collector& collector() { return *collector_; }

  // The namespaced content store over the content plugin, set by the
  // metadata plugin at init (metadata/content.h), as containerd's
  // db.ContentStore().
  std::shared_ptr<ContentStore> content;

 private:
  DB();
  std::unique_ptr<rocksdb::DB> db_;
  std::mutex write_mu_;
  std::atomic<uint64_t> mutations_{0};
  std::mutex hooks_mu_;
  std::vector<std::function<void(bool)>> hooks_;
  std::unique_ptr<gc::Collector> collector_;

  void NoteDeletes(size_t n);
  void CompactLoop(const std::stop_token& stop);
  std::mutex compact_mu_;
  std::condition_variable_any compact_cv_;
  size_t deletes_since_compact_ = 0;
  bool compact_pending_ = false;
  bool compacting_ = false;
  std::jthread compactor_;  // started at the first compaction

  void CloseHandle();
  bool track_clean_stop_ = false;
  bool stopped_cleanly_ = false;
};

// Throws errdefs::Internal on a RocksDB failure.
void Check(const rocksdb::Status& s, std::string_view what);

}  // namespace mcd::metadata
