#pragma once
// Namespaced snapshots over a snapshotter backend (containerd's
// metadata/snapshot.go): records at v1/<ns>/snapshots/<snapshotter>/<key>
// name the backend snapshot "<ns>/<n>/<key>", so two namespaces can use the
// same key. Leases of the request hold what it creates; garbage collection
// removes what nothing references, children first.
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "mcd/snapshots.pb.h"
#include "metadata/db.h"
#include "pkg/context.h"
#include "snapshots/snapshotter.h"

namespace mcd::metadata {

// containerd's label naming the committed snapshot an unpack targets.
inline constexpr const char* kSnapshotRefLabel = "containerd.io/snapshot.ref";

class SnapshotStore {
 public:
  SnapshotStore(std::shared_ptr<DB> db, std::shared_ptr<snapshots::Snapshotter> backend);

  const std::string& name() const { return backend_->name(); }
  snapshots::Snapshotter& backend() { return *backend_; }

  snapshots::Info Stat(const Context& ctx, const std::string& key);
  snapshots::Info Update(const Context& ctx, const snapshots::Info& info,
                         const std::vector<std::string>& fieldpaths);
  snapshots::Usage GetUsage(const Context& ctx, const std::string& key);
  std::vector<mount::Mount> Mounts(const Context& ctx, const std::string& key);
  std::vector<mount::Mount> Prepare(const Context& ctx, const std::string& key,
                                    const std::string& parent, const snapshots::Labels& labels);
  std::vector<mount::Mount> View(const Context& ctx, const std::string& key,
                                 const std::string& parent, const snapshots::Labels& labels);
  void Commit(const Context& ctx, const std::string& name, const std::string& key,
              const snapshots::Labels& labels);
  void Remove(const Context& ctx, const std::string& key);
  // Infos in key order; fn returns false to stop.
  void Walk(const Context& ctx, const std::function<bool(const snapshots::Info&)>& fn,
            const filters::Filter& filter);

  // --- garbage collection ---
  // Every snapshot of a namespace with its parent and labels (for marking).
  void ForEach(const std::string& ns,
               const std::function<void(const std::string& key, const records::Snapshot&)>& fn);
  // Removes the records of these keys (unreferenced ones) in one transaction
  // children first, then every backend snapshot no record names.
  void Collect(const std::string& ns, const std::vector<std::string>& keys);
  // Removes backend snapshots no record names (left by a crash or a Remove
  // whose backend step failed), children before parents, then Cleanup.
  void CollectBackend();

 private:
  void CollectBackendSnapshots();
  std::vector<mount::Mount> Create(const Context& ctx, bool view, const std::string& key,
                                   const std::string& parent, const snapshots::Labels& labels);
  std::string Key(const std::string& ns, const std::string& key) const;
  std::optional<records::Snapshot> Get(const std::string& ns, const std::string& key) const;
  snapshots::Info ToInfo(const std::string& key, const records::Snapshot& r);
  void AddLease(Txn& t, const Context& ctx, const std::string& key);
  void RemoveLease(Txn& t, const Context& ctx, const std::string& key);
  struct BackendKey {
    uint64_t n = 0;
    std::string key;  // "<ns>/<n>/<key>"
  };
  std::string SeqKey(const std::string& ns) const;
  BackendKey NextBackendKey(const std::string& ns, const std::string& key);
  void RecordSeq(Txn& t, const std::string& ns, uint64_t n);
  // Runs fn(backend key) with fresh numbers until the backend does not
  // answer AlreadyExists (an orphan left by a crash holds the key).
  template <class Fn>
  auto WithBackendKey(const std::string& ns, const std::string& key, BackendKey& bk, const Fn& fn);

  std::shared_ptr<DB> db_;
  std::shared_ptr<snapshots::Snapshotter> backend_;
  // Calls share it; backend collection takes it alone so it never sees a
  // backend snapshot whose record is not written yet.
  std::shared_mutex gc_mu_;
  std::mutex seq_mu_;
  std::map<std::string, uint64_t> seq_;  // namespace -> last number handed out
};

// Plugs every snapshotter's records into the database's garbage collector
// (metadata/gc.h): gc.root snapshots are roots, a snapshot references its
// parent and gc.ref labels, removed records' backend snapshots go after the
// sweep, children first.
void RegisterSnapshotsGC(DB& db, std::map<std::string, std::shared_ptr<SnapshotStore>> stores);

}  // namespace mcd::metadata
