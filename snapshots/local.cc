#include "snapshots/local.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "pkg/log.h"

namespace mcd::snapshots {
namespace {

constexpr std::string_view kRecordPrefix = "s/";
constexpr const char* kSeqKey = "seq";

std::string RecordKey(std::string_view key) {
  return std::string(kRecordPrefix) + std::string(key);
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

records::BackendSnapshot Parse(std::string_view bytes) {
  records::BackendSnapshot r;
  if (!r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw errdefs::Internal("corrupt snapshot record");
  }
  return r;
}

std::optional<records::BackendSnapshot> TxnGet(metadata::Txn& t, const std::string& key) {
  auto v = t.Get(RecordKey(key));
  if (!v) return std::nullopt;
  return Parse(*v);
}

void TxnPut(metadata::Txn& t, const std::string& key, const records::BackendSnapshot& r) {
  t.Put(RecordKey(key), r.SerializeAsString());
}

void RemoveChild(records::BackendSnapshot& parent, const std::string& child) {
  auto* c = parent.mutable_children();
  c->erase(std::remove(c->begin(), c->end(), child), c->end());
}

}  // namespace

std::string RootOf(const plugin::InitContext& ic) {
  auto rp = ic.config["root_path"].value<std::string>();
  return rp && !rp->empty() ? *rp : ic.root;
}

// An unused directory is just its empty fs/ and work/ (three rmdirs);
// anything else goes through a full tree removal.
void LocalSnapshotter::RemoveDir(const std::string& dir) {
  for (const char* sub : {"/fs", "/work"}) {
    if (::rmdir((dir + sub).c_str()) != 0 && errno != ENOENT) return fs::RemoveAll(dir);
  }
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) fs::RemoveAll(dir);
}

void LocalSnapshotter::RemoveOrphan(const std::string& dir) {
  try {
    RemoveDir(dir);
  } catch (const std::exception& e) {
    log::Warn("failed to remove directory", {{"path", dir}, {"error", e.what()}});
  }
}

void LocalSnapshotter::MakeDir(const std::string& dir, const Resolved& s) {
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno != EEXIST) throw errdefs::FromErrno(errno, "failed to create snapshot dir");
    RemoveDir(dir);
    if (::mkdir(dir.c_str(), 0700) != 0) {
      throw errdefs::FromErrno(errno, "failed to create snapshot dir");
    }
  }
  PrepareDir(dir, s);
}

LocalSnapshotter::LocalSnapshotter(std::string name, std::string root)
    : name_(std::move(name)), root_(std::move(root)) {
  fs::MkdirAll(root_, 0700);
  fs::MkdirAll(root_ + "/snapshots", 0700);
  db_ = std::async(std::launch::async, [dir = root_ + "/metadata.db"] {
          return metadata::DB::Open(dir);
        }).share();
  // Directories left by a crash between creating and recording a snapshot
  // are removed by Cleanup, which the start-up garbage collection runs.
}

LocalSnapshotter::~LocalSnapshotter() = default;

void LocalSnapshotter::Close() {
  reaper_.Drain();  // a clean stop leaves no removed snapshot's directory
  if (db_.valid()) {
    try {
      Db().Close();
    } catch (const std::exception&) {
      // It never opened: nothing to close.
    }
  }
}

std::optional<records::BackendSnapshot> LocalSnapshotter::Get(const std::string& key) const {
  auto v = Db().Get(RecordKey(key));
  if (!v) return std::nullopt;
  return Parse(*v);
}

Resolved LocalSnapshotter::Resolve(const std::string& key,
                                   const records::BackendSnapshot& r) const {
  Resolved s;
  s.id = std::to_string(r.id());
  s.kind = static_cast<Kind>(r.kind());
  std::string p = r.parent();
  while (!p.empty()) {
    auto pr = Get(p);
    if (!pr) throw errdefs::NotFound("missing parent");
    s.parent_ids.push_back(std::to_string(pr->id()));
    p = pr->parent();
  }
  return s;
}

Info LocalSnapshotter::ToInfo(const std::string& key, const records::BackendSnapshot& r) const {
  Info i;
  i.kind = static_cast<Kind>(r.kind());
  i.name = key;
  i.parent = r.parent();
  i.labels = Labels(r.labels().begin(), r.labels().end());
  i.created_ns = r.created_ns();
  i.updated_ns = r.updated_ns();
  return i;
}

Info LocalSnapshotter::Stat(const std::string& key) {
  auto r = Get(key);
  if (!r) throw errdefs::NotFound(fmt::format("snapshot {}", key));
  return ToInfo(key, *r);
}

Info LocalSnapshotter::Update(const Info& info, const std::vector<std::string>& fieldpaths) {
  std::lock_guard lk(mu_);
  return Db().UpdateR<Info>([&](metadata::Txn& t) {
    auto r = TxnGet(t, info.name);
    if (!r) throw errdefs::NotFound(fmt::format("snapshot {}", info.name));
    if (fieldpaths.empty()) {
      r->mutable_labels()->clear();
      for (const auto& [k, v] : info.labels) (*r->mutable_labels())[k] = v;
    }
    for (const auto& path : fieldpaths) {
      if (path == "labels") {
        r->mutable_labels()->clear();
        for (const auto& [k, v] : info.labels) (*r->mutable_labels())[k] = v;
      } else if (path.rfind("labels.", 0) == 0) {
        std::string k = path.substr(7);
        auto it = info.labels.find(k);
        if (it == info.labels.end()) {
          r->mutable_labels()->erase(k);
        } else {
          (*r->mutable_labels())[k] = it->second;
        }
      } else {
        throw errdefs::InvalidArgument(
            fmt::format("cannot update {:?} field on snapshot {:?}", path, info.name));
      }
    }
    r->set_updated_ns(NowNs());
    TxnPut(t, info.name, *r);
    return ToInfo(info.name, *r);
  });
}

Usage LocalSnapshotter::GetUsage(const std::string& key) {
  auto r = Get(key);
  if (!r) throw errdefs::NotFound(fmt::format("snapshot {}", key));
  if (static_cast<Kind>(r->kind()) == Kind::kActive) return ActiveUsage(Resolve(key, *r));
  return Usage{r->size(), r->inodes()};
}

std::vector<mount::Mount> LocalSnapshotter::Mounts(const std::string& key) {
  auto r = Get(key);
  if (!r) {
    throw errdefs::NotFound(fmt::format("{}: snapshot {}", MountsErrorContext(), key));
  }
  if (static_cast<Kind>(r->kind()) == Kind::kCommitted) {
    throw errdefs::FailedPrecondition(
        fmt::format("{}: requested snapshot {} not active or view", MountsErrorContext(), key));
  }
  return MountsOf(Resolve(key, *r));
}

std::vector<mount::Mount> LocalSnapshotter::Prepare(const std::string& key,
                                                    const std::string& parent,
                                                    const Labels& labels) {
  return Create(Kind::kActive, key, parent, labels);
}

std::vector<mount::Mount> LocalSnapshotter::View(const std::string& key, const std::string& parent,
                                                 const Labels& labels) {
  return Create(Kind::kView, key, parent, labels);
}

std::vector<mount::Mount> LocalSnapshotter::Create(Kind kind, const std::string& key,
                                                   const std::string& parent,
                                                   const Labels& labels) {
  std::lock_guard lk(mu_);
  // containerd's snapshotters prefix their store's refusals so.
  auto refuse = [](errdefs::Code code, const std::string& why) {
    return errdefs::Make(code, "failed to create snapshot: " + why);
  };
  if (key.empty()) throw refuse(errdefs::Code::kInvalidArgument, "snapshot key must not be empty");
  if (Get(key)) throw refuse(errdefs::Code::kAlreadyExists, fmt::format("snapshot {}", key));
  records::BackendSnapshot r;
  if (!parent.empty()) {
    auto p = Get(parent);
    if (!p) {
      throw refuse(errdefs::Code::kNotFound, fmt::format("missing parent {:?} bucket", parent));
    }
    if (static_cast<Kind>(p->kind()) != Kind::kCommitted) {
      throw refuse(errdefs::Code::kInvalidArgument,
                   fmt::format("parent {:?} is not committed snapshot", parent));
    }
  }
  uint64_t id = 1;
  if (auto v = Db().Get(kSeqKey)) id = std::stoull(*v) + 1;
  r.set_id(id);
  r.set_kind(static_cast<int>(kind));
  r.set_parent(parent);
  for (const auto& [k, v] : labels) (*r.mutable_labels())[k] = v;
  int64_t now = NowNs();
  r.set_created_ns(now);
  r.set_updated_ns(now);
  Resolved s = Resolve(key, r);

  // Made in place: a crash before the record leaves a directory whose id
  // no record owns (the sequence was never bumped), found here by MakeDir
  // itself or removed by Cleanup.
  std::string final_dir = HasDir(s) ? DirOf(s.id, kind) : std::string();
  auto drop_dir = [&] {
    if (!final_dir.empty()) RemoveOrphan(final_dir);
  };
  if (!final_dir.empty()) {
    try {
      MakeDir(final_dir, s);
    } catch (...) {
      drop_dir();
      throw;
    }
  }
  try {
    Db().Update([&](metadata::Txn& t) {
      t.Put(kSeqKey, std::to_string(id));
      TxnPut(t, key, r);
      if (!parent.empty()) {
        auto p = TxnGet(t, parent);
        if (!p) throw errdefs::NotFound(fmt::format("missing parent {:?} bucket", parent));
        p->add_children(key);
        TxnPut(t, parent, *p);
      }
    });
  } catch (...) {
    drop_dir();
    throw;
  }
  return MountsOf(s);
}

void LocalSnapshotter::Commit(const std::string& name, const std::string& key,
                              const Labels& labels) {
  std::lock_guard lk(mu_);
  auto r = Get(key);
  if (!r) throw errdefs::NotFound(fmt::format("snapshot {}", key));
  if (Get(name)) {
    throw errdefs::AlreadyExists(
        fmt::format("{}: committed snapshot {}", CommitErrorContext(), name));
  }
  if (static_cast<Kind>(r->kind()) != Kind::kActive) {
    throw errdefs::FailedPrecondition(
        fmt::format("{}: snapshot {:?} is not active", CommitErrorContext(), key));
  }
  Usage u = ActiveUsage(Resolve(key, *r));
  std::string id = std::to_string(r->id());
  std::string from = DirOf(id, Kind::kActive), to = DirOf(id, Kind::kCommitted);
  if (from != to) CommitDir(from, to);
  try {
    Db().Update([&](metadata::Txn& t) {
      records::BackendSnapshot c = *r;
      c.set_kind(static_cast<int>(Kind::kCommitted));
      c.mutable_labels()->clear();
      for (const auto& [k, v] : labels) (*c.mutable_labels())[k] = v;
      int64_t now = NowNs();
      c.set_created_ns(now);
      c.set_updated_ns(now);
      c.set_size(u.size);
      c.set_inodes(u.inodes);
      c.clear_children();
      t.Delete(RecordKey(key));
      TxnPut(t, name, c);
      if (!c.parent().empty()) {
        auto p = TxnGet(t, c.parent());
        if (!p) {
          throw errdefs::NotFound(
              fmt::format("missing parent {:?} of snapshot {:?}", c.parent(), key));
        }
        RemoveChild(*p, key);
        p->add_children(name);
        TxnPut(t, c.parent(), *p);
      }
    });
  } catch (...) {
    if (from != to) RemoveOrphan(to);
    throw;
  }
  if (from != to) reaper_.Post([this, from] { RemoveOrphan(from); });
}

void LocalSnapshotter::Remove(const std::string& key) {
  std::lock_guard lk(mu_);
  std::string id;
  Kind kind = Kind::kUnknown;
  Db().Update([&](metadata::Txn& t) {
    auto r = TxnGet(t, key);
    if (!r) throw errdefs::NotFound(fmt::format("failed to remove: snapshot {}", key));
    if (r->children_size() > 0) {
      throw errdefs::FailedPrecondition("failed to remove: cannot remove snapshot with child");
    }
    if (!r->parent().empty()) {
      if (auto p = TxnGet(t, r->parent())) {
        RemoveChild(*p, key);
        TxnPut(t, r->parent(), *p);
      }
    }
    t.Delete(RecordKey(key));
    id = std::to_string(r->id());
    kind = static_cast<Kind>(r->kind());
    // The metadata layer's record is gone already (synced): should this
    // removal be lost to a power cut, the record comes back as an orphan
    // that collection removes. One fsync less per Remove.
    t.NoSync();
  });
  // The record is gone, so nothing reaches the directory any more: it goes
  // off the request path (as containerd leaves it to collection). One left
  // by a failure or a crash is removed by Cleanup.
  reaper_.Post([this, dir = DirOf(id, kind)] { RemoveOrphan(dir); });
}

void LocalSnapshotter::Walk(const std::function<bool(const Info&)>& fn,
                            const filters::Filter& filter) {
  std::vector<Info> infos;
  Db().Scan(kRecordPrefix, [&](std::string_view k, std::string_view v) {
    infos.push_back(ToInfo(std::string(k.substr(kRecordPrefix.size())), Parse(v)));
    return true;
  });
  for (const auto& i : infos) {
    if (!filter.Match(Adapt(i))) continue;
    if (!fn(i)) return;
  }
}

void LocalSnapshotter::Cleanup() {
  {
    std::lock_guard lk(mu_);
    std::set<std::string> owned;
    Db().Scan(kRecordPrefix, [&](std::string_view, std::string_view v) {
      auto r = Parse(v);
      owned.insert(DirOf(std::to_string(r.id()), static_cast<Kind>(r.kind())));
      return true;
    });
    uint64_t seq = 0;
    if (auto v = Db().Get(kSeqKey)) seq = std::stoull(*v);
    for (const auto& dir : DirParents()) {
      DIR* d = ::opendir(dir.c_str());
      if (!d) continue;
      while (auto* e = ::readdir(d)) {
        std::string n = e->d_name;
        std::string path = dir + "/" + n;
        if (n == "." || n == ".." || owned.count(path)) continue;
        // An id not handed out yet is one Create may make next: removed
        // here, under the lock. Any other (removed records' directories,
        // queued or not) goes through the reaper, which alone removes those.
        char* end = nullptr;
        uint64_t id = std::strtoull(n.c_str(), &end, 10);
        if (!n.empty() && *end == '\0' && id > seq) {
          RemoveOrphan(path);
        } else {
          reaper_.Post([this, path] { RemoveOrphan(path); });
        }
      }
      ::closedir(d);
    }
  }
  reaper_.Drain();
}

}  // namespace mcd::snapshots
