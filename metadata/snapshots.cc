#include "metadata/snapshots.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "metadata/leases.h"
#include "metadata/namespaces.h"
#include "pkg/errdefs.h"
#include "pkg/log.h"

namespace mcd::metadata {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

records::Snapshot ParseRecord(std::string_view v) {
  records::Snapshot r;
  if (!r.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
    throw errdefs::Internal("corrupt snapshot record");
  }
  return r;
}

std::optional<records::Snapshot> TxnGet(Txn& t, const std::string& k) {
  auto v = t.Get(k);
  if (!v) return std::nullopt;
  return ParseRecord(*v);
}

// Labels passed down to the backend (containerd's FilterInheritedLabels).
snapshots::Labels Inherited(const snapshots::Labels& labels) {
  snapshots::Labels out;
  for (const auto& [k, v] : labels) {
    if (k.rfind(snapshots::kInheritedLabelPrefix, 0) == 0) out.emplace(k, v);
  }
  return out;
}

void RemoveChild(records::Snapshot& p, const std::string& child) {
  auto* c = p.mutable_children();
  c->erase(std::remove(c->begin(), c->end(), child), c->end());
}

std::string NotExist(const std::string& key) {
  return fmt::format("snapshot {} does not exist", key);
}

}  // namespace

SnapshotStore::SnapshotStore(std::shared_ptr<DB> db,
                             std::shared_ptr<snapshots::Snapshotter> backend)
    : db_(std::move(db)), backend_(std::move(backend)) {}

std::string SnapshotStore::Key(const std::string& ns, const std::string& key) const {
  return ObjectKey(ns, "snapshots", name() + "/" + key);
}

std::optional<records::Snapshot> SnapshotStore::Get(const std::string& ns,
                                                    const std::string& key) const {
  auto v = db_->Get(Key(ns, key));
  if (!v) return std::nullopt;
  return ParseRecord(*v);
}

snapshots::Info SnapshotStore::ToInfo(const std::string& key, const records::Snapshot& r) {
  snapshots::Info i = backend_->Stat(r.backend_key());
  i.name = key;
  i.parent = r.parent();
  i.labels = snapshots::Labels(r.labels().begin(), r.labels().end());
  i.created_ns = r.created_ns();
  i.updated_ns = r.updated_ns();
  return i;
}

snapshots::Info SnapshotStore::Stat(const Context& ctx, const std::string& key) {
  std::shared_lock lk(gc_mu_);
  auto r = Get(ctx.Namespace(), key);
  if (!r) throw errdefs::NotFound(NotExist(key));
  return ToInfo(key, *r);
}

namespace {

// containerd's validateSnapshot: the size rule, with its "info.Labels" prefix.
template <class Map>
void ValidateSnapshotLabels(const Map& labels) {
  try {
    for (const auto& [k, v] : labels) ValidateLabel(k, v);
  } catch (const errdefs::Error& e) {
    throw errdefs::Error(e.code(), std::string("info.Labels: ") + e.what());
  }
}

// Labels as containerd's WriteLabels stores them: an empty value is no label.
void DropEmptyValues(google::protobuf::Map<std::string, std::string>& labels) {
  for (auto it = labels.begin(); it != labels.end();) {
    it = it->second.empty() ? labels.erase(it) : std::next(it);
  }
}

}  // namespace

snapshots::Info SnapshotStore::Update(const Context& ctx, const snapshots::Info& info,
                                      const std::vector<std::string>& fieldpaths) {
  std::shared_lock lk(gc_mu_);
  const std::string& ns = ctx.Namespace();
  if (info.name.empty()) throw errdefs::InvalidArgument("");
  std::string bkey;
  snapshots::Labels inherited;
  db_->Update([&](Txn& t) {
    auto r = TxnGet(t, Key(ns, info.name));
    if (!r) throw errdefs::NotFound(NotExist(info.name));
    auto& labels = *r->mutable_labels();
    if (fieldpaths.empty()) {
      labels.clear();
      for (const auto& [k, v] : info.labels) labels[k] = v;
    }
    for (const auto& path : fieldpaths) {
      if (path == "labels") {
        labels.clear();
        for (const auto& [k, v] : info.labels) labels[k] = v;
      } else if (path.rfind("labels.", 0) == 0) {
        std::string k = path.substr(7);
        auto it = info.labels.find(k);
        if (it == info.labels.end()) {
          labels.erase(k);
        } else {
          labels[k] = it->second;
        }
      } else {
        throw errdefs::InvalidArgument(
            fmt::format("cannot update {:?} field on snapshot {:?}", path, info.name));
      }
    }
    ValidateSnapshotLabels(labels);
    CheckLabelKeys(labels, "failed to read labels: ");  // containerd's words for its write
    DropEmptyValues(labels);
    r->set_updated_ns(NowNs());
    t.Put(Key(ns, info.name), r->SerializeAsString());
    bkey = r->backend_key();
    inherited = Inherited(snapshots::Labels(labels.begin(), labels.end()));
  });
  // Backends see only the inherited labels, kept in step.
  snapshots::Info binfo = backend_->Stat(bkey);
  if (Inherited(binfo.labels) != inherited) {
    binfo.labels = inherited;
    backend_->Update(binfo, {"labels"});
  }
  return Stat(ctx, info.name);
}

snapshots::Usage SnapshotStore::GetUsage(const Context& ctx, const std::string& key) {
  std::shared_lock lk(gc_mu_);
  auto r = Get(ctx.Namespace(), key);
  if (!r) throw errdefs::NotFound(NotExist(key));
  return backend_->GetUsage(r->backend_key());
}

std::vector<mount::Mount> SnapshotStore::Mounts(const Context& ctx, const std::string& key) {
  std::shared_lock lk(gc_mu_);
  auto r = Get(ctx.Namespace(), key);
  if (!r) throw errdefs::NotFound(NotExist(key));
  return backend_->Mounts(r->backend_key());
}

std::vector<mount::Mount> SnapshotStore::Prepare(const Context& ctx, const std::string& key,
                                                 const std::string& parent,
                                                 const snapshots::Labels& labels) {
  return Create(ctx, false, key, parent, labels);
}

std::vector<mount::Mount> SnapshotStore::View(const Context& ctx, const std::string& key,
                                              const std::string& parent,
                                              const snapshots::Labels& labels) {
  return Create(ctx, true, key, parent, labels);
}

// Backend keys are "<ns>/<n>/<key>" with one sequence per namespace and
// snapshotter, as containerd's bucket sequence (they show in errors:
// "default/4/v1"). Numbers are handed out from memory and the sequence is
// persisted with the record that uses one (RecordSeq), so a new snapshot
// costs no extra synced write. Invariant: the persisted sequence is at least
// every recorded number. After a crash a number may be handed out again
// whose backend snapshot survived without a record (an orphan): the backend
// answers AlreadyExists and the next number is taken (WithBackendKey).
// The sequence lives outside the namespace's keys so a deleted and recreated
// namespace never reuses a key whose backend snapshot is not collected yet.
std::string SnapshotStore::SeqKey(const std::string& ns) const {
  return "seq/snapshots/" + ns + "/" + name();
}

SnapshotStore::BackendKey SnapshotStore::NextBackendKey(const std::string& ns,
                                                        const std::string& key) {
  std::lock_guard lk(seq_mu_);
  auto it = seq_.find(ns);
  if (it == seq_.end()) {
    uint64_t n = 0;
    if (auto v = db_->Get(SeqKey(ns))) {
      n = std::stoull(*v);
    } else if (auto legacy = db_->Get("seq/snapshots/" + name())) {
      n = std::stoull(*legacy);  // databases from when the sequence was global
    }
    it = seq_.emplace(ns, n).first;
  }
  uint64_t n = ++it->second;
  return {n, fmt::format("{}/{}/{}", ns, n, key)};
}

void SnapshotStore::RecordSeq(Txn& t, const std::string& ns, uint64_t n) {
  std::string k = SeqKey(ns);
  auto v = t.Get(k);
  if (!v || std::stoull(*v) < n) t.Put(k, std::to_string(n));
}

template <class Fn>
auto SnapshotStore::WithBackendKey(const std::string& ns, const std::string& key, BackendKey& bk,
                                   const Fn& fn) {
  for (int attempt = 0;; ++attempt) {
    bk = NextBackendKey(ns, key);
    try {
      return fn(bk.key);
    } catch (const errdefs::Error& e) {
      if (e.code() != errdefs::Code::kAlreadyExists || attempt >= 64) throw;
      log::Warn("backend snapshot key taken by an orphan, using the next", {{"key", bk.key}});
    }
  }
}

void SnapshotStore::AddLease(Txn& t, const Context& ctx, const std::string& key) {
  leases::AddResource(t, ctx.Namespace(), ctx.lease, leases::SnapshotsType(name()), key);
}

void SnapshotStore::RemoveLease(Txn& t, const Context& ctx, const std::string& key) {
  leases::RemoveResource(t, ctx.Namespace(), ctx.lease, leases::SnapshotsType(name()), key);
}

std::vector<mount::Mount> SnapshotStore::Create(const Context& ctx, bool view,
                                                const std::string& key, const std::string& parent,
                                                const snapshots::Labels& labels) {
  std::shared_lock lk(gc_mu_);
  const std::string& ns = ctx.Namespace();
  ValidateSnapshotLabels(labels);
  std::string target;
  if (auto it = labels.find(kSnapshotRefLabel); it != labels.end()) target = it->second;

  std::string bkey, bparent;
  bool target_exists = false;
  db_->Update([&](Txn& t) {
    if (!target.empty() && t.Get(Key(ns, target))) {
      // Already unpacked: the client skips this layer. The lease keeps it.
      AddLease(t, ctx, target);
      target_exists = true;
      return;
    }
    if (t.Get(Key(ns, key))) throw errdefs::AlreadyExists(fmt::format("snapshot {:?}", key));
    if (!parent.empty()) {
      auto p = TxnGet(t, Key(ns, parent));
      if (!p) throw errdefs::NotFound(fmt::format("parent snapshot {} does not exist", parent));
      bparent = p->backend_key();
    }
  });
  if (target_exists) {
    throw errdefs::AlreadyExists(fmt::format("target snapshot {:?}", target));
  }

  auto inherited = Inherited(labels);
  BackendKey bk;
  std::vector<mount::Mount> mounts = WithBackendKey(ns, key, bk, [&](const std::string& k) {
    return view ? backend_->View(k, bparent, inherited) : backend_->Prepare(k, bparent, inherited);
  });
  bkey = bk.key;
  try {
    db_->Update([&](Txn& t) {
      // Where containerd fails an empty key: creating its record, after the
      // backend call (bolt's words, leaked as unknown): recording it in the
      // lease first when there is one.
      if (key.empty())
        throw errdefs::Unknown(ctx.lease.empty() ? "bucket name required" : "key required");
      CheckLabelKeys(labels);
      NamespaceStore::EnsureIn(t, ns);
      RecordSeq(t, ns, bk.n);
      if (t.Get(Key(ns, key))) throw errdefs::AlreadyExists(fmt::format("snapshot {:?}", key));
      records::Snapshot r;
      r.set_backend_key(bkey);
      r.set_parent(parent);
      for (const auto& [k, v] : labels) {
        if (!v.empty()) (*r.mutable_labels())[k] = v;
      }
      int64_t now = NowNs();
      r.set_created_ns(now);
      r.set_updated_ns(now);
      if (!parent.empty()) {
        auto p = TxnGet(t, Key(ns, parent));
        if (!p) throw errdefs::NotFound(fmt::format("parent snapshot {} does not exist", parent));
        if (p->backend_key() != bparent) {
          throw errdefs::NotFound(fmt::format("parent snapshot {} does not exist", parent));
        }
        p->add_children(key);
        t.Put(Key(ns, parent), p->SerializeAsString());
      }
      t.Put(Key(ns, key), r.SerializeAsString());
      AddLease(t, ctx, key);
    });
  } catch (...) {
    try {
      backend_->Remove(bkey);
    } catch (const std::exception& e) {
      log::Warn("failed to remove backend snapshot", {{"key", bkey}, {"error", e.what()}});
    }
    throw;
  }
  return mounts;
}

void SnapshotStore::Commit(const Context& ctx, const std::string& name, const std::string& key,
                           const snapshots::Labels& labels) {
  std::shared_lock lk(gc_mu_);
  const std::string& ns = ctx.Namespace();
  ValidateSnapshotLabels(labels);
  if (name.empty()) throw errdefs::Unknown("bucket name required");  // as containerd
  if (Get(ns, name)) throw errdefs::AlreadyExists(fmt::format("snapshot {:?}", name));
  auto r = Get(ns, key);
  if (!r) throw errdefs::NotFound(NotExist(key));
  // The backend commit is durable before the record moves: a crash in
  // between leaves a backend snapshot no record names, which collection
  // removes, and the active record, which its lease still holds.
  BackendKey bk;
  WithBackendKey(ns, name, bk, [&](const std::string& k) {
    backend_->Commit(k, r->backend_key(), Inherited(labels));
  });
  const std::string& nbkey = bk.key;
  db_->Update([&](Txn& t) {
    RecordSeq(t, ns, bk.n);
    if (t.Get(Key(ns, name))) throw errdefs::AlreadyExists(fmt::format("snapshot {:?}", name));
    auto a = TxnGet(t, Key(ns, key));
    if (!a) throw errdefs::NotFound(NotExist(key));
    records::Snapshot c;
    c.set_backend_key(nbkey);
    c.set_parent(a->parent());
    CheckLabelKeys(labels);
    for (const auto& [k, v] : labels) {
      if (!v.empty()) (*c.mutable_labels())[k] = v;
    }
    int64_t now = NowNs();
    c.set_created_ns(now);
    c.set_updated_ns(now);
    if (!a->parent().empty()) {
      auto p = TxnGet(t, Key(ns, a->parent()));
      if (!p) {
        throw errdefs::NotFound(fmt::format("parent snapshot {} does not exist", a->parent()));
      }
      RemoveChild(*p, key);
      p->add_children(name);
      t.Put(Key(ns, a->parent()), p->SerializeAsString());
    }
    t.Delete(Key(ns, key));
    t.Put(Key(ns, name), c.SerializeAsString());
    RemoveLease(t, ctx, key);
    AddLease(t, ctx, name);
    // The active record becomes the committed one: nothing is let go, so
    // no collection is due (containerd's Commit does not mark the store
    // dirty either; an unreferenced view must not go sooner than there).
    t.NoGarbage();
  });
}

void SnapshotStore::Remove(const Context& ctx, const std::string& key) {
  std::shared_lock lk(gc_mu_);
  const std::string& ns = ctx.Namespace();
  std::string bkey;
  db_->Update([&](Txn& t) {
    auto r = TxnGet(t, Key(ns, key));
    if (!r) throw errdefs::NotFound(NotExist(key));
    if (r->children_size() > 0) {
      throw errdefs::FailedPrecondition("cannot remove snapshot with child");
    }
    if (!r->parent().empty()) {
      auto p = TxnGet(t, Key(ns, r->parent()));
      if (!p) {
        throw errdefs::NotFound(fmt::format("parent snapshot {} does not exist", r->parent()));
      }
      RemoveChild(*p, key);
      t.Put(Key(ns, r->parent()), p->SerializeAsString());
    }
    t.Delete(Key(ns, key));
    RemoveLease(t, ctx, key);
    bkey = r->backend_key();
  });
  // No record names it any more: nothing can reach it, free it now (a
  // failure is left to the next collection).
  try {
    backend_->Remove(bkey);
  } catch (const std::exception& e) {
    log::Warn("failed to remove backend snapshot", {{"key", bkey}, {"error", e.what()}});
  }
}

void SnapshotStore::Walk(const Context& ctx, const std::function<bool(const snapshots::Info&)>& fn,
                         const filters::Filter& filter) {
  std::shared_lock lk(gc_mu_);
  const std::string& ns = ctx.Namespace();
  std::vector<std::pair<std::string, records::Snapshot>> all;
  std::string prefix = Key(ns, "");
  db_->Scan(prefix, [&](std::string_view k, std::string_view v) {
    all.emplace_back(std::string(k.substr(prefix.size())), ParseRecord(v));
    return true;
  });
  for (const auto& [key, r] : all) {
    snapshots::Info info;
    try {
      info = ToInfo(key, r);
    } catch (const errdefs::Error& e) {
      if (e.code() == errdefs::Code::kNotFound) continue;  // raced with a removal
      throw;
    }
    if (!filter.Match(snapshots::Adapt(info))) continue;
    if (!fn(info)) return;
  }
}

void SnapshotStore::ForEach(
    const std::string& ns,
    const std::function<void(const std::string& key, const records::Snapshot&)>& fn) {
  std::string prefix = Key(ns, "");
  db_->Scan(prefix, [&](std::string_view k, std::string_view v) {
    fn(std::string(k.substr(prefix.size())), ParseRecord(v));
    return true;
  });
}

void SnapshotStore::Collect(const std::string& ns, const std::vector<std::string>& keys) {
  {
    std::unique_lock lk(gc_mu_);
    std::set<std::string> gone(keys.begin(), keys.end());
    db_->Update([&](Txn& t) {
      for (const auto& key : keys) {
        auto r = TxnGet(t, Key(ns, key));
        if (!r) continue;
        if (!r->parent().empty() && !gone.count(r->parent())) {
          if (auto p = TxnGet(t, Key(ns, r->parent()))) {
            RemoveChild(*p, key);
            t.Put(Key(ns, r->parent()), p->SerializeAsString());
          }
        }
        t.Delete(Key(ns, key));
      }
    });
  }
  CollectBackend();
}

void SnapshotStore::CollectBackend() {
  CollectBackendSnapshots();
  // Directories no backend record owns: no request can be making one of
  // those, so this runs without holding requests up.
  backend_->Cleanup();
}

void SnapshotStore::CollectBackendSnapshots() {
  // Exclusive: a snapshot being made has its backend part before its record.
  std::unique_lock lk(gc_mu_);
  std::set<std::string> named;
  for (const auto& ns : db_->Namespaces()) {
    ForEach(ns,
            [&](const std::string&, const records::Snapshot& r) { named.insert(r.backend_key()); });
  }
  // Repeat so a parent goes once its children are gone.
  for (bool progress = true; progress;) {
    progress = false;
    std::vector<std::string> orphans;
    std::set<std::string> parents;
    backend_->Walk(
        [&](const snapshots::Info& i) {
          if (!named.count(i.name)) orphans.push_back(i.name);
          if (!i.parent.empty()) parents.insert(i.parent);
          return true;
        },
        filters::Filter());
    for (const auto& k : orphans) {
      if (parents.count(k)) continue;
      try {
        backend_->Remove(k);
        progress = true;
      } catch (const std::exception& e) {
        log::Warn("failed to remove backend snapshot", {{"key", k}, {"error", e.what()}});
      }
    }
  }
}

}  // namespace mcd::metadata
