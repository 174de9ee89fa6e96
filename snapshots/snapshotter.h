#pragma once
// The snapshotter interface (containerd's snapshots.Snapshotter). Backends
// (overlayfs, native) implement it over their own store; the metadata layer
// namespaces them. Keys here are backend keys.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "pkg/filters.h"
#include "pkg/mount.h"
#include "plugins/plugin.h"

namespace mcd::snapshots {

using Labels = std::map<std::string, std::string>;

// Values of containerd.services.snapshots.v1.Kind.
enum class Kind : int { kUnknown = 0, kView = 1, kActive = 2, kCommitted = 3 };
// "view", "active", "committed": the names filters match on.
inline const char* KindName(Kind k) {
  switch (k) {
    case Kind::kView:
      return "view";
    case Kind::kActive:
      return "active";
    case Kind::kCommitted:
      return "committed";
    case Kind::kUnknown:
      break;
  }
  return "unknown";
}

struct Info {
  Kind kind = Kind::kUnknown;
  std::string name;
  std::string parent;
  Labels labels;
  int64_t created_ns = 0;
  int64_t updated_ns = 0;
};

struct Usage {
  int64_t size = 0;
  int64_t inodes = 0;
};

// Labels beginning with this prefix pass from the metadata layer to backends.
inline constexpr const char* kInheritedLabelPrefix = "containerd.io/snapshot/";

class Snapshotter : public plugin::Instance {
 public:
  virtual Info Stat(const std::string& key) = 0;
  // fieldpaths: "labels" or "labels.<k>"; none = replace labels.
  virtual Info Update(const Info& info, const std::vector<std::string>& fieldpaths) = 0;
  // Computed for active snapshots, recorded at commit for committed ones.
  virtual Usage GetUsage(const std::string& key) = 0;
  virtual std::vector<mount::Mount> Mounts(const std::string& key) = 0;
  virtual std::vector<mount::Mount> Prepare(const std::string& key, const std::string& parent,
                                            const Labels& labels) = 0;
  virtual std::vector<mount::Mount> View(const std::string& key, const std::string& parent,
                                         const Labels& labels) = 0;
  virtual void Commit(const std::string& name, const std::string& key, const Labels& labels) = 0;
  virtual void Remove(const std::string& key) = 0;
  // fn returns false to stop.
  virtual void Walk(const std::function<bool(const Info&)>& fn, const filters::Filter& filter) = 0;
  // Removes directories no snapshot owns (left by crashes or removals).
  virtual void Cleanup() = 0;
  // The name the snapshotter registered with ("overlayfs", "native").
  virtual const std::string& name() const = 0;
};

// Field-path adaptor for filters: kind, name, parent, labels.<k>. Inline so
// the metadata layer can use it without linking a backend.
inline filters::Adaptor Adapt(const Info& info) {
  return [&info](const std::vector<std::string>& path) -> std::optional<std::string> {
    if (path.empty()) return std::nullopt;
    if (path[0] == "kind") return std::string(KindName(info.kind));
    if (path[0] == "name") return info.name;
    if (path[0] == "parent") return info.parent;
    if (path[0] == "labels" && path.size() >= 2) {
      std::string k = path[1];
      for (size_t i = 2; i < path.size(); ++i) k += "." + path[i];
      auto it = info.labels.find(k);
      if (it != info.labels.end()) return it->second;
    }
    return std::nullopt;
  };
}

// Disk usage of a tree: blocks*512 of each distinct inode, and the inode count.
Usage DiskUsage(const std::string& root);
// The same over what `upper` adds or changes relative to `lower` (removals
// count nothing), with containerd's notion of an unchanged file.
Usage DiffUsage(const std::string& lower, const std::string& upper);

}  // namespace mcd::snapshots
