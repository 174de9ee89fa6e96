#include "metadata/namespaces.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "mcd/records.pb.h"
#include "pkg/errdefs.h"
#include "pkg/identifiers.h"

namespace mcd::metadata {
namespace {

std::mutex g_hooks_mu;
std::vector<NamespaceStore::ContentsHook>& Hooks() {
  static std::vector<NamespaceStore::ContentsHook> hooks;
  return hooks;
}

bool PrefixHasKeys(rocksdb::DB* db, const std::string& prefix) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  it->Seek(prefix);
  return it->Valid() && it->key().starts_with(prefix);
}

// Label errors of namespace calls carry containerd's "namespace.Labels" prefix.
void ValidateNamespaceLabel(const std::string& key, const std::string& value) {
  try {
    ValidateLabel(key, value);
  } catch (const errdefs::Error& e) {
    throw errdefs::Error(e.code(), std::string("namespace.Labels: ") + e.what());
  }
}

}  // namespace

void ValidateLabel(const std::string& key, const std::string& value) {
  if (key.size() + value.size() > 4096) {
    throw errdefs::InvalidArgument(fmt::format(
        "label key and value greater than maximum size (4096 bytes), key: {}", key.substr(0, 10)));
  }
}

void ThrowEmptyLabelKey(std::string_view prefix, const std::string& value) {
  throw errdefs::Unknown(
      fmt::format("{}failed to set label \"\"={:?}: key required", prefix, value));
}

void ValidateLabels(const Labels& labels) {
  for (const auto& [k, v] : labels) ValidateLabel(k, v);
}

void NamespaceStore::Create(const std::string& ns, const Labels& labels) {
  identifiers::Validate(ns);
  for (const auto& [k, v] : labels) ValidateNamespaceLabel(k, v);
  records::Namespace rec;
  for (const auto& [k, v] : labels) {
    if (!v.empty()) (*rec.mutable_labels())[k] = v;  // an empty value sets nothing
  }
  db_->Update([&](Txn& t) {
    if (t.Get(NamespaceKey(ns))) throw errdefs::AlreadyExists(fmt::format("namespace {:?}", ns));
    // containerd puts every label as it is: bolt refuses an empty key.
    if (labels.contains("")) throw errdefs::Unknown("key required");
    t.Put(NamespaceKey(ns), rec.SerializeAsString());
  });
}

void NamespaceStore::EnsureIn(Txn& t, const std::string& ns) {
  if (!t.Get(NamespaceKey(ns))) t.Put(NamespaceKey(ns), records::Namespace().SerializeAsString());
}

Labels NamespaceStore::GetLabels(const std::string& ns) const {
  // An invalid name cannot have been stored; it reads as missing.
  if (!identifiers::IsValid(ns)) return {};
  auto v = db_->Get(NamespaceKey(ns));
  if (!v) return {};
  records::Namespace rec;
  rec.ParseFromString(*v);
  return Labels(rec.labels().begin(), rec.labels().end());
}

bool NamespaceStore::Exists(const std::string& ns) const {
  return identifiers::IsValid(ns) && db_->Get(NamespaceKey(ns)).has_value();
}

std::vector<std::string> NamespaceStore::List() const {
  return db_->Namespaces();
}

void NamespaceStore::SetLabel(const std::string& ns, const std::string& key,
                              const std::string& value) {
  SetLabels(ns, {{key, value}});
}

void NamespaceStore::SetLabels(const std::string& ns,
                               const std::vector<std::pair<std::string, std::string>>& changes) {
  // containerd would store any name here; ours must be safe as a key.
  identifiers::Validate(ns);
  for (const auto& [k, v] : changes) ValidateNamespaceLabel(k, v);
  for (const auto& [k, v] : changes) {
    if (k.empty() && !v.empty()) throw errdefs::Unknown("key required");  // bolt's, as containerd
  }
  db_->Update([&](Txn& t) {
    records::Namespace rec;
    if (auto v = t.Get(NamespaceKey(ns))) rec.ParseFromString(*v);
    for (const auto& [k, v] : changes) {
      if (v.empty())
        rec.mutable_labels()->erase(k);
      else
        (*rec.mutable_labels())[k] = v;
    }
    t.Put(NamespaceKey(ns), rec.SerializeAsString());
  });
}

void NamespaceStore::ReplaceLabels(const std::string& ns, const Labels& labels) {
  identifiers::Validate(ns);
  for (const auto& [k, v] : labels) ValidateNamespaceLabel(k, v);
  db_->Update([&](Txn& t) {
    // containerd creates the namespace only when it sets at least one label.
    if (labels.empty() && !t.Get(NamespaceKey(ns))) return;
    records::Namespace rec;
    for (const auto& [k, v] : labels) {
      if (!v.empty()) (*rec.mutable_labels())[k] = v;
    }
    t.Put(NamespaceKey(ns), rec.SerializeAsString());
  });
}

std::vector<std::string> NamespaceStore::Contents(const std::string& ns) const {
  // containerd checks these, in this order; leases and ingests do not keep a
  // namespace alive (they go with it).
  std::vector<std::string> out;
  if (!identifiers::IsValid(ns)) return out;
  rocksdb::DB* raw = db_->raw();
  if (PrefixHasKeys(raw, BucketPrefix(ns, "images"))) out.push_back("images");
  if (PrefixHasKeys(raw, BucketPrefix(ns, "content") + "blob/")) out.push_back("blobs");
  if (PrefixHasKeys(raw, BucketPrefix(ns, "containers"))) out.push_back("containers");
  // One entry a snapshotter with snapshots: v1/<ns>/snapshots/<name>/<key>.
  const std::string snaps = BucketPrefix(ns, "snapshots");
  std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(rocksdb::ReadOptions()));
  it->Seek(snaps);
  while (it->Valid() && it->key().starts_with(snaps)) {
    std::string rest = it->key().ToString().substr(snaps.size());
    std::string name = rest.substr(0, rest.find('/'));
    out.push_back(fmt::format("snapshots on {:?} snapshotter", name));
    it->Seek(snaps + name + static_cast<char>('/' + 1));
  }
  // Hooks (the runtime's tasks) only speak when the stores are empty: a task
  // always has a container, and containerd's message names only its stores.
  if (!out.empty()) return out;
  std::lock_guard lk(g_hooks_mu);
  for (const auto& h : Hooks()) {
    for (auto& n : h(ns)) {
      // Both runtimes answer "tasks": name it once.
      if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(std::move(n));
    }
  }
  return out;
}

void NamespaceStore::AddContentsHook(ContentsHook hook) {
  std::lock_guard lk(g_hooks_mu);
  Hooks().push_back(std::move(hook));
}

void NamespaceStore::Delete(const std::string& ns) {
  // containerd does not validate here: a name that cannot exist is not found.
  if (!identifiers::IsValid(ns)) throw errdefs::NotFound(fmt::format("namespace {:?}", ns));
  auto left = Contents(ns);
  if (!left.empty()) {
    std::string what;
    for (size_t i = 0; i < left.size(); ++i) what += (i ? ", " : "") + left[i];
    throw errdefs::FailedPrecondition(
        fmt::format("namespace {:?} must be empty, but it still has {}", ns, what));
  }
  db_->Update([&](Txn& t) {
    if (!t.Get(NamespaceKey(ns))) throw errdefs::NotFound(fmt::format("namespace {:?}", ns));
    t.Delete(NamespaceKey(ns));
    // What does not block a delete (leases, ingests) goes with the namespace.
    t.DeletePrefix(NamespaceKey(ns) + "/");
  });
}

}  // namespace mcd::metadata
