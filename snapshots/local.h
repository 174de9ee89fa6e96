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

// A snapshotter plugin's root: its `root_path` setting, else the plugin's
// directory under the daemon root.
std::string RootOf(const plugin::InitContext& ic);

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
  // Where snapshot `id` of `kind` keeps its directory: <root>/snapshots/<id>
  // whatever its kind, unless a subclass says otherwise.
  virtual std::string DirOf(const std::string& id, Kind) const { return SnapshotDir(id); }
  // The directories Cleanup looks through for ones no snapshot owns.
  virtual std::vector<std::string> DirParents() const { return {root_ + "/snapshots"}; }
  // Whether a new snapshot gets a directory of its own (containerd's native
  // snapshotter gives none to a view of a parent: it mounts the parent's).
  virtual bool HasDir(const Resolved&) const { return true; }
  // Makes a new snapshot's directory at `dir`: a mkdir (after removing
  // what a crash left there), then PrepareDir.
  virtual void MakeDir(const std::string& dir, const Resolved& s);
  // Fills the fresh directory `dir` of a new snapshot.
  virtual void PrepareDir(const std::string&, const Resolved&) {}
  // Makes the committed directory `to` from the active one `from`, for a
  // subclass whose DirOf differs by kind; `from` is removed after the record
  // changed.
  virtual void CommitDir(const std::string&, const std::string&) {}
  // Removes a snapshot's directory, whatever a crash left of it; nothing
  // when there is none.
  virtual void RemoveDir(const std::string& dir);
  // The tree whose usage is an active snapshot's.
  virtual std::string UsageDir(const std::string& id) const = 0;
  // An active snapshot's usage (recorded as the committed one's at Commit).
  virtual Usage ActiveUsage(const Resolved& s) const { return DiskUsage(UsageDir(s.id)); }
  virtual std::vector<mount::Mount> MountsOf(const Resolved& s) const = 0;
  // How Mounts of a committed snapshot is refused (containerd's wording
  // differs per snapshotter).
  virtual const char* MountsErrorContext() const = 0;
  // The same for Commit's refusals.
  virtual const char* CommitErrorContext() const { return "failed to commit snapshot"; }
  // Finishes the queued directory removals. A subclass overriding RemoveDir
  // calls it from its destructor: the queue's jobs call RemoveDir.
  void DrainRemovals() { reaper_.Drain(); }

 private:
  std::vector<mount::Mount> Create(Kind kind, const std::string& key, const std::string& parent,
                                   const Labels& labels);
  std::optional<records::BackendSnapshot> Get(const std::string& key) const;
  Resolved Resolve(const std::string& key, const records::BackendSnapshot& r) const;
  Info ToInfo(const std::string& key, const records::BackendSnapshot& r) const;
  // RemoveDir, logging instead of throwing.
  void RemoveOrphan(const std::string& dir);

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
