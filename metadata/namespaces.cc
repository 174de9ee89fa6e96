#include "metadata/namespaces.h"

#include <fmt/format.h>

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

}  // namespace

void ValidateLabel(const std::string& key, const std::string& value) {
  if (key.size() + value.size() > 4096) {
    throw errdefs::InvalidArgument(fmt::format(
        "label key and value greater than maximum size (4096 bytes), key: {}", key.substr(0, 10)));
  }
}

void ValidateLabels(const Labels& labels) {
  for (const auto& [k, v] : labels) ValidateLabel(k, v);
}

void NamespaceStore::Create(const std::string& ns, const Labels& labels) {
  identifiers::Validate(ns);
  ValidateLabels(labels);
  records::Namespace rec;
  for (const auto& [k, v] : labels) (*rec.mutable_labels())[k] = v;
  db_->Update([&](Txn& t) {
    if (t.Get(NamespaceKey(ns))) throw errdefs::AlreadyExists(fmt::format("namespace {:?}", ns));
    t.Put(NamespaceKey(ns), rec.SerializeAsString());
  });
}

void NamespaceStore::EnsureIn(Txn& t, const std::string& ns) {
  if (!t.Get(NamespaceKey(ns))) t.Put(NamespaceKey(ns), records::Namespace().SerializeAsString());
}

Labels NamespaceStore::GetLabels(const std::string& ns) const {
  auto v = db_->Get(NamespaceKey(ns));
  if (!v) throw errdefs::NotFound(fmt::format("namespace {:?}", ns));
  records::Namespace rec;
  rec.ParseFromString(*v);
  return Labels(rec.labels().begin(), rec.labels().end());
}

bool NamespaceStore::Exists(const std::string& ns) const {
  return db_->Get(NamespaceKey(ns)).has_value();
}

std::vector<std::string> NamespaceStore::List() const {
  return db_->Namespaces();
}

void NamespaceStore::SetLabel(const std::string& ns, const std::string& key,
                              const std::string& value) {
  identifiers::Validate(ns);
  ValidateLabel(key, value);
  db_->Update([&](Txn& t) {
    records::Namespace rec;
    if (auto v = t.Get(NamespaceKey(ns))) rec.ParseFromString(*v);
    if (value.empty())
      rec.mutable_labels()->erase(key);
    else
      (*rec.mutable_labels())[key] = value;
    t.Put(NamespaceKey(ns), rec.SerializeAsString());
  });
}

void NamespaceStore::ReplaceLabels(const std::string& ns, const Labels& labels) {
  identifiers::Validate(ns);
  ValidateLabels(labels);
  db_->Update([&](Txn& t) {
    records::Namespace rec;
    for (const auto& [k, v] : labels) {
      if (!v.empty()) (*rec.mutable_labels())[k] = v;
    }
    t.Put(NamespaceKey(ns), rec.SerializeAsString());
  });
}

std::vector<std::string> NamespaceStore::Contents(const std::string& ns) const {
  // containerd's order and words: images, blobs, containers, then each
  // snapshotter with snapshots. Leases and ingests do not keep a namespace
  // alive (they go with it).
  std::vector<std::string> out;
  if (db_->HasPrefix(BucketPrefix(ns, "images"))) out.push_back("images");
  if (db_->HasPrefix(BucketPrefix(ns, "content") + "blob/")) out.push_back("blobs");
  if (db_->HasPrefix(BucketPrefix(ns, "containers"))) out.push_back("containers");
  const std::string snaps = BucketPrefix(ns, "snapshots");
  std::unique_ptr<rocksdb::Iterator> it(db_->raw()->NewIterator(rocksdb::ReadOptions()));
  it->Seek(snaps);
  while (it->Valid()) {
    std::string key = it->key().ToString();
    if (key.compare(0, snaps.size(), snaps) != 0) break;
    std::string rest = key.substr(snaps.size());
    std::string name = rest.substr(0, rest.find('/'));
    out.push_back(fmt::format("snapshots on {:?} snapshotter", name));
    // Skip the rest of this snapshotter at once.
    it->Seek(snaps + name + static_cast<char>('/' + 1));
  }
  std::lock_guard lk(g_hooks_mu);
  for (const auto& h : Hooks()) {
    for (auto& n : h(ns)) out.push_back(std::move(n));
  }
  return out;
}

void NamespaceStore::AddContentsHook(ContentsHook hook) {
  std::lock_guard lk(g_hooks_mu);
  Hooks().push_back(std::move(hook));
}

void NamespaceStore::Delete(const std::string& ns) {
  identifiers::Validate(ns);
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
    // What is left (leases, ingests) goes with the namespace, as containerd
    // deletes the whole bucket.
    t.DeletePrefix(NamespaceKey(ns) + "/");
  });
}

}  // namespace mcd::metadata
