// Snapshots in garbage collection (metadata/gc.h): gc.root snapshots are
// roots, a snapshot references its parent and (unless reached through a
// flat lease) its gc.ref labels; unmarked records are removed in the sweep
// and their backend snapshots after it, children before parents.
#include <algorithm>
#include "metadata/gc.h"

#include "metadata/snapshots.h"

namespace mcd::metadata {

void RegisterSnapshotsGC(DB& db, std::map<std::string, std::shared_ptr<SnapshotStore>> stores) {
  gc::Resource r;
  r.name = "snapshots";
  r.kinds = {gc::Kind::kSnapshot};
  // The collector lives in the DB and every store holds the DB: the
  // resource must not own the stores, or neither is ever freed.
  std::vector<std::string> names;
  std::vector<std::weak_ptr<SnapshotStore>> weak;
  for (const auto& [name, s] : stores) {
    names.push_back(name);
    weak.push_back(s);
  }
  auto each = [names](Txn& t, const std::string& ns,
                      const std::function<void(const std::string& sn, const std::string& key,
                                               const records::Snapshot&)>& fn) {
    for (const auto& name : names) {
      std::string prefix = ObjectKey(ns, "snapshots", name + "/");
      t.Scan(prefix, [&](std::string_view k, std::string_view v) {
        records::Snapshot rec;
        if (rec.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
          fn(name, std::string(k.substr(prefix.size())), rec);
        }
        return true;
      });
    }
  };
  r.roots = [each](Txn& t, const std::string& ns, const gc::Emit& emit) {
    each(t, ns, [&](const std::string& sn, const std::string& key, const records::Snapshot& rec) {
      if (gc::IsRoot(rec.labels())) emit({gc::Kind::kSnapshot, ns, sn + "/" + key});
    });
  };
  r.all = [each](Txn& t, const std::string& ns, const gc::Emit& emit) {
    each(t, ns, [&](const std::string& sn, const std::string& key, const records::Snapshot&) {
      emit({gc::Kind::kSnapshot, ns, sn + "/" + key});
    });
  };
  r.refs = [](Txn& t, const gc::Node& n, const gc::Emit& emit) {
    auto v = t.Get(ObjectKey(n.ns, "snapshots", n.key));
    if (!v) return;
    records::Snapshot rec;
    if (!rec.ParseFromArray(v->data(), static_cast<int>(v->size()))) return;
    std::string sn = n.key.substr(0, n.key.find('/'));
    if (!rec.parent().empty()) {
      emit({gc::Kind::kSnapshot, n.ns, sn + "/" + rec.parent(), n.flat});
    }
    if (!n.flat) gc::LabelRefsOf(n.ns, rec.labels(), emit);
  };
  r.remove = [](Txn& t, const gc::Node& n) {
    std::string key = ObjectKey(n.ns, "snapshots", n.key);
    auto v = t.Get(key);
    if (!v) return;
    records::Snapshot rec;
    if (rec.ParseFromArray(v->data(), static_cast<int>(v->size())) && !rec.parent().empty()) {
      std::string sn = n.key.substr(0, n.key.find('/'));
      std::string pkey = ObjectKey(n.ns, "snapshots", sn + "/" + rec.parent());
      if (auto pv = t.Get(pkey)) {
        records::Snapshot p;
        if (p.ParseFromArray(pv->data(), static_cast<int>(pv->size()))) {
          std::string child = n.key.substr(sn.size() + 1);
          auto* c = p.mutable_children();
          c->erase(std::remove(c->begin(), c->end(), child), c->end());
          t.Put(pkey, p.SerializeAsString());
        }
      }
    }
    t.Delete(key);
  };
  r.cleanup = [weak](const std::vector<gc::Node>& removed) {
    // Only when this collection removed snapshots (a direct Remove frees its
    // backend part itself): collection then waits for the directories to go.
    // Also reconciles leftovers of crashes (as at start-up) and of failed
    // removals.
    if (removed.empty()) return;
    for (const auto& w : weak)
      if (auto s = w.lock()) s->CollectBackend();
  };
  db.collector().Register(std::move(r));
}

}  // namespace mcd::metadata
