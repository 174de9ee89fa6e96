#pragma once
// The local content store (io.containerd.content.v1 / content), as
// containerd's content/local:
//   <root>/blobs/sha256/<hex>             committed blobs (read-only, 0444)
//   <root>/ingest/<sha256(ref) hex>/      one dir an ingest:
//       data, ref, startedat, updatedat, total
// A blob appears only after its digest was verified over the whole data,
// the data synced and renamed into blobs/. Ingests survive restarts; a
// resumed writer re-hashes what is already there. One writer a ref at a
// time (in-process lock; containerd has the same single-daemon model).
// Labels are not kept here: the namespaced metadata store owns them.
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "content/store.h"
#include "plugins/plugin.h"

namespace mcd::content {

class LocalStore : public Store, public plugin::Instance {
 public:
  explicit LocalStore(std::string root);

  Info GetInfo(const Context& ctx, const std::string& digest) override;
  // Labels are not supported locally: NotImplemented, as containerd's local
  // store without a label store... except an empty update, which is a no-op.
  Info Update(const Context& ctx, const Info& info,
              const std::vector<std::string>& fieldpaths) override;
  void Walk(const Context& ctx, const std::function<void(const Info&)>& fn,
            const std::vector<std::string>& filters = {}) override;
  void Delete(const Context& ctx, const std::string& digest) override;
  std::unique_ptr<ReaderAt> OpenReader(const Context& ctx, const std::string& digest) override;
  Status GetStatus(const Context& ctx, const std::string& ref) override;
  std::vector<Status> ListStatuses(const Context& ctx,
                                   const std::vector<std::string>& filters = {}) override;
  void Abort(const Context& ctx, const std::string& ref) override;
  std::unique_ptr<Writer> OpenWriter(const Context& ctx, const WriterOptions& opts) override;

  // Context-free conveniences for the garbage collector and tests.
  void Delete(const std::string& digest) { Delete(Context{}, digest); }
  void Walk(const std::function<void(const Info&)>& fn) { Walk(Context{}, fn); }
  bool Exists(const std::string& digest);

  const std::string& root() const { return root_; }
  std::string BlobPath(const std::string& digest) const;
  std::string IngestDir(const std::string& ref) const;

 private:
  friend class LocalWriter;
  void Unlock(const std::string& ref);
  std::string root_;
  std::mutex mu_;
  std::condition_variable cv_;         // a ref lock was released
  std::map<std::string, Time> locks_;  // ref -> since
};

}  // namespace mcd::content
