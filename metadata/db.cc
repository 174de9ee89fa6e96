#include "metadata/db.h"

#include <rocksdb/options.h>

#include <filesystem>

#include "metadata/gc.h"
#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "pkg/log.h"

namespace mcd::metadata {

std::string NamespaceKey(std::string_view ns) {
  return "v1/" + std::string(ns);
}
std::string BucketPrefix(std::string_view ns, std::string_view bucket) {
  return "v1/" + std::string(ns) + "/" + std::string(bucket) + "/";
}
std::string ObjectKey(std::string_view ns, std::string_view bucket, std::string_view id) {
  return BucketPrefix(ns, bucket) + std::string(id);
}

void Check(const rocksdb::Status& s, std::string_view what) {
  if (!s.ok()) throw errdefs::Internal(std::string(what) + ": " + s.ToString());
}

namespace {
// The smallest key after every key starting with `prefix` ("" when none:
// a prefix of only 0xff bytes).
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

// Read options for a scan of `prefix`: the upper bound lets the iterator
// stop at the prefix's end instead of stepping over every deletion tombstone
// after it to find the next live key.
class PrefixReadOptions {
 public:
  explicit PrefixReadOptions(std::string_view prefix) : end_(PrefixEnd(prefix)), bound_(end_) {
    if (!end_.empty()) options_.iterate_upper_bound = &bound_;
  }
  PrefixReadOptions(const PrefixReadOptions&) = delete;
  PrefixReadOptions& operator=(const PrefixReadOptions&) = delete;
  const rocksdb::ReadOptions& get() const { return options_; }

 private:
  std::string end_;
  rocksdb::Slice bound_;
  rocksdb::ReadOptions options_;
};

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}
}  // namespace

std::optional<std::string> Txn::Get(std::string_view key) {
  std::string v;
  auto s = batch_.GetFromBatchAndDB(db_, rocksdb::ReadOptions(),
                                    rocksdb::Slice(key.data(), key.size()), &v);
  if (s.IsNotFound()) return std::nullopt;
  Check(s, "get");
  return v;
}

void Txn::Put(std::string_view key, std::string_view value) {
  Check(batch_.Put(rocksdb::Slice(key.data(), key.size()),
                   rocksdb::Slice(value.data(), value.size())),
        "put");
}

void Txn::Delete(std::string_view key) {
  ++deletes_;
  Check(batch_.Delete(rocksdb::Slice(key.data(), key.size())), "delete");
}

void Txn::Scan(std::string_view prefix,
               const std::function<bool(std::string_view, std::string_view)>& fn) {
  const PrefixReadOptions ro(prefix);
  std::unique_ptr<rocksdb::Iterator> base(db_->NewIterator(ro.get()));
  std::unique_ptr<rocksdb::Iterator> it(batch_.NewIteratorWithBase(base.release()));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    auto k = it->key();
    std::string_view key(k.data(), k.size());
    if (!StartsWith(key, prefix)) break;
    auto v = it->value();
    if (!fn(key, std::string_view(v.data(), v.size()))) break;
  }
}

void Txn::DeletePrefix(std::string_view prefix) {
  std::vector<std::string> keys;
  Scan(prefix, [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  for (const auto& k : keys) Delete(k);
}

bool Txn::HasPrefix(std::string_view prefix) {
  bool found = false;
  Scan(prefix, [&](std::string_view, std::string_view) {
    found = true;
    return false;
  });
  return found;
}

std::shared_ptr<DB> DB::Open(const std::string& dir) {
  fs::MkdirAll(dir, 0711);
  rocksdb::Options opts;
  opts.create_if_missing = true;
  // Small and quick to open: the daemon's metadata is small.
  opts.max_open_files = 64;
  opts.keep_log_file_num = 2;
  opts.recycle_log_file_num = 2;
  opts.max_background_jobs = 1;
  // RocksDB loads table files at open with up to 16 threads it creates and
  // joins each time; a few small tables need none of them (3 databases x 15
  // thread creations were a visible part of start-up).
  opts.max_file_opening_threads = 1;
  opts.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  opts.write_buffer_size = 4 << 20;
  // Replay the log into memory and keep it, rather than flushing it to a
  // table (and fsyncing) at every start: start-up stays independent of how
  // much was written since the last flush.
  opts.avoid_flush_during_recovery = true;
  opts.skip_stats_update_on_db_open = true;
  rocksdb::DB* raw = nullptr;
  Check(rocksdb::DB::Open(opts, dir, &raw), "open metadata database " + dir);
  std::shared_ptr<DB> db(new DB());
  db->db_.reset(raw);

  auto v = db->Get(kSchemaKey);
  if (!v) {
    db->Update([](Txn& t) { t.Put(kSchemaKey, std::to_string(kSchemaVersion)); });
  } else if (std::stoi(*v) > kSchemaVersion) {
    throw errdefs::FailedPrecondition("metadata schema version " + *v +
                                      " is newer than this daemon's " +
                                      std::to_string(kSchemaVersion));
  }
  // Recovery keeps the logs it replayed (no flush at open), so each restart
  // adds one that the next start replays again until a flush: past a few,
  // flush them into a table now. In the background it would be cancelled by
  // a daemon stopped at once, and the logs would keep piling up.
  size_t logs = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".log") ++logs;
  }
  if (logs > kMaxLogsAtOpen) {
    // A flush of an empty memtable is skipped and retires no log (restarts
    // without writes leave empty ones): rewrite the schema record first.
    db->Update([](Txn& t) { t.Put(kSchemaKey, std::to_string(kSchemaVersion)); });
    Check(db->db_->Flush(rocksdb::FlushOptions()), "flush");
  }
  return db;
}

DB::DB() : collector_(std::make_unique<gc::Collector>(*this)) {}

DB::~DB() {
  CloseHandle();
}

namespace {
constexpr const char* kCleanStopKey = "state/clean-stop";
}  // namespace

void DB::TrackCleanStop() {
  track_clean_stop_ = true;
  stopped_cleanly_ = Get(kCleanStopKey).has_value();
  if (!stopped_cleanly_) return;
  // Unsynced: should the removal be lost, a later crash passes for a clean
  // stop, and what it left waits for the next collection that looks.
  Update([](Txn& t) {
    t.Delete(kCleanStopKey);
    t.NoGarbage();
    t.NoSync();
  });
}

void DB::Close() {
  if (track_clean_stop_ && db_) {
    try {
      Update([](Txn& t) { t.Put(kCleanStopKey, ""); });
    } catch (const std::exception& e) {
      log::Warn("cannot mark a clean stop", {{"error", e.what()}});
    }
  }
  CloseHandle();
}

void DB::CloseHandle() {
  // The content store holds this DB: owning it past the close would keep
  // both alive for good. Its users hold their own references.
  content.reset();
  if (compactor_.joinable()) {
    // A running compaction gives up at once rather than delay shutdown.
    if (db_) db_->DisableManualCompaction();
    compactor_.request_stop();
    compactor_.join();
  }
  std::lock_guard lk(write_mu_);
  if (db_) {
    db_->Close();
    db_.reset();
  }
}

void DB::Update(const std::function<void(Txn&)>& fn) {
  std::unique_lock lk(write_mu_);
  if (!db_) throw errdefs::Unavailable("metadata database closed");
  Txn t(db_.get());
  fn(t);
  if (t.batch_.GetWriteBatch()->Count() == 0) return;
  bool deletion = !t.no_garbage_ && t.batch_.GetWriteBatch()->HasDelete();
  rocksdb::WriteOptions wo;
  wo.sync = !t.no_sync_;
  Check(db_->Write(wo, t.batch_.GetWriteBatch()), "commit");
  mutations_.fetch_add(1);
  lk.unlock();
  if (t.deletes_ > 0) NoteDeletes(t.deletes_);
  std::vector<std::function<void(bool)>> hooks;
  {
    std::lock_guard hl(hooks_mu_);
    hooks = hooks_;
  }
  for (auto& h : hooks) h(deletion);
}

std::optional<std::string> DB::Get(std::string_view key) const {
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &v);
  if (s.IsNotFound()) return std::nullopt;
  Check(s, "get");
  return v;
}

void DB::Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) const {
  const PrefixReadOptions ro(prefix);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro.get()));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    auto k = it->key();
    std::string_view key(k.data(), k.size());
    if (!StartsWith(key, prefix)) break;
    auto v = it->value();
    if (!fn(key, std::string_view(v.data(), v.size()))) break;
  }
}

bool DB::HasPrefix(std::string_view prefix) const {
  bool found = false;
  Scan(prefix, [&](std::string_view, std::string_view) {
    found = true;
    return false;
  });
  return found;
}

std::vector<std::string> DB::Namespaces() const {
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  const std::string root = "v1/";
  it->Seek(root);
  while (it->Valid()) {
    std::string_view key(it->key().data(), it->key().size());
    if (!StartsWith(key, root)) break;
    std::string_view rest = key.substr(root.size());
    size_t slash = rest.find('/');
    std::string ns(rest.substr(0, slash));
    if (slash == std::string_view::npos) {
      // A namespace record; "v1/<ns>-x" may sort before "v1/<ns>/...": step.
      out.push_back(ns);
      it->Next();
    } else {
      // Inside a namespace's subtree: "v1/<ns>0" sorts right after it.
      it->Seek(root + ns + static_cast<char>('/' + 1));
    }
  }
  return out;
}

void DB::OnMutation(std::function<void(bool)> fn) {
  std::lock_guard lk(hooks_mu_);
  hooks_.push_back(std::move(fn));
}

void DB::NotifyDeletion() {
  std::vector<std::function<void(bool)>> hooks;
  {
    std::lock_guard hl(hooks_mu_);
    hooks = hooks_;
  }
  for (auto& h : hooks) h(true);
}

void DB::NoteDeletes(size_t n) {
  std::lock_guard lk(compact_mu_);
  deletes_since_compact_ += n;
  if (deletes_since_compact_ < kCompactAfterDeletes) return;
  deletes_since_compact_ = 0;
  if (compact_pending_) return;
  compact_pending_ = true;
  if (!compactor_.joinable()) {
    compactor_ = std::jthread([this](const std::stop_token& stop) { CompactLoop(stop); });
  }
  compact_cv_.notify_all();
}

void DB::CompactLoop(const std::stop_token& stop) {
  std::unique_lock lk(compact_mu_);
  while (compact_cv_.wait(lk, stop, [&] { return compact_pending_; })) {
    compact_pending_ = false;
    compacting_ = true;
    lk.unlock();
    // Flushes the memtable and rewrites every level down to the last, where
    // tombstones of keys with no older version are dropped. The database is
    // small (records, not blobs), so this takes milliseconds.
    rocksdb::CompactRangeOptions o;
    o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    o.exclusive_manual_compaction = false;
    auto s = db_->CompactRange(o, nullptr, nullptr);
    if (!s.ok() && !stop.stop_requested()) {
      log::Warn("metadata compaction failed", {{"error", s.ToString()}});
    }
    lk.lock();
    compacting_ = false;
    compact_cv_.notify_all();
  }
}

void DB::WaitForIdle() {
  std::unique_lock lk(compact_mu_);
  compact_cv_.wait(lk, [&] { return !compact_pending_ && !compacting_; });
}

}  // namespace mcd::metadata
