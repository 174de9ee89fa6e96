#pragma once
// The namespaced content store (containerd's metadata/content.go): blobs live
// once on disk in the content plugin's LocalStore, and each namespace keeps
// its own record of the blobs it has committed, with labels and times, under
// v1/<ns>/content/blob/<digest> (records.Blob) and its ingests under
// v1/<ns>/content/ingest/<ref> (records.Ingest). A blob is visible in a
// namespace only once that namespace committed it.
//
// What a request creates goes under ctx.lease (see metadata/leases.h).
// Services, the differ and the image importer use this store; the garbage
// collector (metadata/gc.*) reads the records and sweeps the LocalStore
// through local().
#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "content/store.h"
#include "metadata/db.h"

namespace mcd::content {
class LocalStore;
}

namespace mcd::metadata {

class ContentStore : public content::Store {
 public:
  ContentStore(std::shared_ptr<DB> db, std::shared_ptr<content::LocalStore> local,
               bool shared = true);

  content::Info GetInfo(const Context& ctx, const std::string& digest) override;
  content::Info Update(const Context& ctx, const content::Info& info,
                       const std::vector<std::string>& fieldpaths) override;
  void Walk(const Context& ctx, const std::function<void(const content::Info&)>& fn,
            const std::vector<std::string>& filters = {}) override;
  void Delete(const Context& ctx, const std::string& digest) override;
  std::unique_ptr<content::ReaderAt> OpenReader(const Context& ctx,
                                                const std::string& digest) override;
  content::Status GetStatus(const Context& ctx, const std::string& ref) override;
  std::vector<content::Status> ListStatuses(const Context& ctx,
                                            const std::vector<std::string>& filters = {}) override;
  void Abort(const Context& ctx, const std::string& ref) override;
  std::unique_ptr<content::Writer> OpenWriter(const Context& ctx,
                                              const content::WriterOptions& opts) override;

  // The shared blob store under every namespace (for the garbage collector).
  content::LocalStore& local() { return *local_; }
  const std::shared_ptr<DB>& db() { return db_; }

  // Key helpers (KEYS.md).
  static std::string BlobKey(const std::string& ns, const std::string& digest);
  static std::string IngestKey(const std::string& ns, const std::string& ref);
  static std::string BlobPrefix(const std::string& ns);
  static std::string IngestPrefix(const std::string& ns);

  // Writers, commits and deletes hold this shared; the garbage collector
  // holds it exclusively from its metadata sweep through SweepUnreferenced,
  // so a blob being committed is never swept (containerd's cs.l).
  std::shared_mutex& gc_lock() { return gc_mu_; }
  // Removes blobs on disk that no namespace records (nor expects through a
  // shared ingest) and local ingests no namespace owns. Returns how many
  // blobs went. Call with gc_lock() held exclusively.
  size_t SweepUnreferenced();

  // Plugs blobs and ingests into the database's garbage collector
  // (metadata/gc.h): gc.root blobs and unexpired ingests are roots, blob
  // labels and shared ingests reference blobs, unmarked records are removed
  // and then SweepUnreferenced runs under gc_lock(). Call once.
  void RegisterGC();

  // The local-store ref of a namespace's ingest ("<ns>/1/<ref>").
  static std::string BackendRef(const std::string& ns, const std::string& ref);

 private:
  friend class NamespacedWriter;
  std::shared_ptr<DB> db_;
  std::shared_ptr<content::LocalStore> local_;
  bool shared_;
  std::shared_mutex gc_mu_;
  // Whether blobs or ingests on disk may have lost their last record other
  // than through a collection (a Delete, a failed commit, a crash before
  // start, DB::StoppedCleanly): the collection then sweeps the disk even if
  // it removed nothing itself. Only then, as containerd's dirty flag: the
  // sweep reads every blob's directory entry and record, too much after
  // every container delete or restart.
  std::atomic<bool> sweep_due_;
};

}  // namespace mcd::metadata
