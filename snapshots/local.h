#pragma once
// The common part of the directory-based snapshotters (overlayfs, native):
// records in the snapshotter's own RocksDB at <root>/metadata.db (as
// containerd's per-snapshotter metadata.db), one directory per snapshot at
// <root>/snapshots/<id>. Subclasses say how a directory is prepared and
// mounted.
#include <future>
#include <memory>
#include <mutex>

#include "mcd/snapshots.pb.h"
#include "metadata/db.h"
#include "pkg/serial_queue.h"
#include "snapshots/snapshotter.h"

namespace mcd::snapshots {

// What a subclass sees of a snapshot: its id, kind and its ancestors' ids,
// nearest first.
struct Resolved {
  std::string id;
  Kind kind = Kind::kUnknown;
  std::vector<std::string> parent_ids;
};

class LocalSnapshotter : public Snapshotter {
 public:
  LocalSnapshotter(std::string name, std::string root);
  ~LocalSnapshotter() override;

  Info Stat(const std::string& key) override;
  Info Update(const Info& info, const std::vector<std::string>& fieldpaths) override;
  Usage GetUsage(const std::string& key) override;
  std::vector<mount::Mount> Mounts(const std::string& key) override;
  std::vector<mount::Mount> Prepare(const std::string& key, const std::string& parent,
                                    const Labels& labels) override;
  std::vector<mount::Mount> View(const std::string& key, const std::string& parent,
                                 const Labels& labels) override;
  void Commit(const std::string& name, const std::string& key, const Labels& labels) override;
  void Remove(const std::string& key) override;
  void Walk(const std::function<bool(const Info&)>& fn, const filters::Filter& filter) override;
  void Cleanup() override;
  void Close() override;
  const std::string& name() const override { return name_; }
  const std::string& root() const { return root_; }

 protected:
  std::string SnapshotDir(const std::string& id) const { return root_ + "/snapshots/" + id; }
  // Whether a new snapshot gets a directory of its own (containerd's native
  // snapshotter gives none to a view of a parent: it mounts the parent's).
  virtual bool HasDir(const Resolved&) const { return true; }
  // Fills the fresh directory `dir` of a new snapshot.
  virtual void PrepareDir(const std::string& dir, const Resolved& s) = 0;
  // The tree whose usage is the snapshot's.
  virtual std::string UsageDir(const std::string& id) const = 0;
  virtual std::vector<mount::Mount> MountsOf(const Resolved& s) const = 0;
  // How Mounts of a committed snapshot is refused (containerd's wording
  // differs per snapshotter).
  virtual const char* MountsErrorContext() const = 0;

 private:
  std::vector<mount::Mount> Create(Kind kind, const std::string& key, const std::string& parent,
                                   const Labels& labels);
  std::optional<records::BackendSnapshot> Get(const std::string& key) const;
  Resolved Resolve(const std::string& key, const records::BackendSnapshot& r) const;
  Info ToInfo(const std::string& key, const records::BackendSnapshot& r) const;

  std::string name_;
  std::string root_;
  // The records database, opened in the background: opening is mostly
  // fsyncs, so it overlaps with the other plugins' start-up. Db() waits for
  // it and rethrows an open failure.
  metadata::DB& Db() const { return *db_.get(); }
  std::shared_future<std::shared_ptr<metadata::DB>> db_;
  std::mutex mu_;  // serialises changes: directory work and record writes go together
  // Removes the directories of removed snapshots once changes pause: their
  // rmdirs (each a block freed, a discard on most disks) would otherwise
  // queue behind or ahead of the next request's own I/O. Declared after
  // what its jobs use, so it finishes them first.
  SerialQueue reaper_{std::chrono::milliseconds(50), std::chrono::seconds(1)};
};

}  // namespace mcd::snapshots
