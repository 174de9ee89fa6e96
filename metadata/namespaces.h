#pragma once
// The namespace store: a record per namespace with its labels. A namespace
// can be deleted only when nothing lives under it.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "metadata/db.h"

namespace mcd::metadata {

using Labels = std::map<std::string, std::string>;

// containerd's label limit: key and value together at most 4096 bytes.
void ValidateLabels(const Labels& labels);
void ValidateLabel(const std::string& key, const std::string& value);

// containerd stores labels as bolt keys, and bolt refuses an empty key: a
// write of a label with an empty key and a value fails with "<prefix>failed
// to set label ""="<value>": key required", class Unknown (an empty value is
// skipped before it reaches bolt).
[[noreturn]] void ThrowEmptyLabelKey(std::string_view prefix, const std::string& value);
template <class Map>
void CheckLabelKeys(const Map& labels, std::string_view prefix = {}) {
  for (const auto& [k, v] : labels) {
    if (k.empty() && !v.empty()) ThrowEmptyLabelKey(prefix, v);
  }
}

class NamespaceStore {
 public:
  explicit NamespaceStore(std::shared_ptr<DB> db) : db_(std::move(db)) {}

  void Create(const std::string& ns, const Labels& labels);
  // Creates the namespace when missing, as containerd does for any write.
  static void EnsureIn(Txn& t, const std::string& ns);
  // A missing namespace has no labels (containerd's Labels never fails).
  Labels GetLabels(const std::string& ns) const;
  bool Exists(const std::string& ns) const;
  std::vector<std::string> List() const;
  // An empty value removes the label. Creates the namespace when missing,
  // as containerd's SetLabel does.
  void SetLabel(const std::string& ns, const std::string& key, const std::string& value);
  // Several label changes at once (an empty value removes), atomically.
  void SetLabels(const std::string& ns,
                 const std::vector<std::pair<std::string, std::string>>& changes);
  void ReplaceLabels(const std::string& ns, const Labels& labels);
  // FailedPrecondition naming what is left when not empty.
  void Delete(const std::string& ns);

  // What still lives in a namespace, with containerd's names and order
  // ("images", "blobs", "containers", "snapshots on \"overlayfs\" snapshotter",
  // then what hooks add).
  std::vector<std::string> Contents(const std::string& ns) const;

  // Stores outside RocksDB (tasks on disk) add their own check.
  using ContentsHook = std::function<std::vector<std::string>(const std::string& ns)>;
  static void AddContentsHook(ContentsHook hook);

 private:
  std::shared_ptr<DB> db_;
};

}  // namespace mcd::metadata
