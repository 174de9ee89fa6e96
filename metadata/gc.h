#pragma once
// Garbage collection of the metadata database, with containerd 1.6's rules
// (containerd/metadata/gc.go):
//
//  roots   images            -> their target digest, their label references
//          containers        -> <snapshotter>/<snapshot key>, label references
//          leases (unexpired: containerd.io/gc.expire is RFC 3339, an
//                  unparsable value is ignored) -> every resource they hold
//          blobs and snapshots labelled containerd.io/gc.root
//          ingests with an expiry still in the future
//  refs    a blob      -> its label references (none under a
//                         containerd.io/gc.flat lease)
//          a snapshot  -> its parent, its label references (not under a
//                         containerd.io/gc.flat lease: parent only)
//          an ingest   -> its expected digest
//  label references
//          containerd.io/gc.ref.content, containerd.io/gc.ref.content.<x>,
//          containerd.io/gc.ref.content/<x>      -> blob <value>
//          containerd.io/gc.ref.snapshot.<sn>[/<x>] -> snapshot <sn>/<value>
//  sweep   blobs, snapshots, ingests and leases not marked are removed;
//          images and containers are never collected.
//
// The collector walks KEYS.md's key space. Images and containers are built
// in (metadata/images.cc, containers.cc). Every other kind is plugged in by
// its owner with Collector::Register:
//  - content (metadata/content.cc): kinds kContent and kIngest: roots
//    (gc.root blobs, unexpired ingests), all (every blob and ingest record),
//    refs (blob labels via LabelRefs, ingest expected digest), remove (the
//    record), cleanup (delete on disk the removed blobs that no namespace
//    still has; it runs after the sweep committed, so recheck under the
//    content store's own lock).
//  - leases (metadata/leases.cc): kind kLease: roots (the unexpired leases
//    themselves and every resource under v1/<ns>/leases/<id>/..., flat when
//    the lease has containerd.io/gc.flat), all (every lease), remove (the
//    lease record and its resource keys).
//  - snapshots (metadata/snapshots.cc): kind kSnapshot: roots (gc.root
//    snapshots), all, refs (parent + LabelRefs unless node.flat), remove (the
//    record), cleanup (remove the snapshotter's snapshots whose record is
//    gone, children before parents).
// The scheduler (metadata/gc_scheduler.h) decides when Collect() runs.
#include <chrono>
#include <compare>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metadata/db.h"

namespace mcd::metadata::gc {

// containerd's labels.
inline constexpr std::string_view kLabelRoot = "containerd.io/gc.root";
inline constexpr std::string_view kLabelContentRef = "containerd.io/gc.ref.content";
inline constexpr std::string_view kLabelSnapshotRef = "containerd.io/gc.ref.snapshot.";
inline constexpr std::string_view kLabelExpire = "containerd.io/gc.expire";
inline constexpr std::string_view kLabelFlat = "containerd.io/gc.flat";

enum class Kind { kContent, kSnapshot, kLease, kIngest };

// A resource. key: content = digest, snapshot = "<snapshotter>/<key>",
// lease = id, ingest = ref. flat: reached through a gc.flat lease (a flat
// snapshot follows only its parent).
struct Node {
  Kind kind = Kind::kContent;
  std::string ns;
  std::string key;
  bool flat = false;
  auto operator<=>(const Node&) const = default;
};

using Emit = std::function<void(Node)>;
using Labels = std::map<std::string, std::string>;

// The content and snapshot references named by gc.ref.* labels.
void LabelRefs(const std::string& ns, const Labels& labels, const Emit& emit);
template <class Map>  // a protobuf map<string,string> or std::map
void LabelRefsOf(const std::string& ns, const Map& labels, const Emit& emit) {
  LabelRefs(ns, Labels(labels.begin(), labels.end()), emit);
}
// Whether the labels make the object a root (containerd.io/gc.root present).
template <class Map>
bool IsRoot(const Map& labels) {
  return labels.find(std::string(kLabelRoot)) != labels.end();
}
// RFC 3339 ("2006-01-02T15:04:05Z07:00", fractions allowed); nullopt when
// the text does not parse.
std::optional<std::chrono::system_clock::time_point> ParseTime(std::string_view text);
// A lease or object with a gc.expire label in the past (an unparsable
// value never expires, as containerd).
template <class Map>
bool Expired(const Map& labels, std::chrono::system_clock::time_point now) {
  auto it = labels.find(std::string(kLabelExpire));
  if (it == labels.end()) return false;
  auto t = ParseTime(it->second);
  return t && now > *t;
}

// What one owner plugs in. Callbacks other than cleanup run inside the
// collection's single transaction (DB::Update): read with the Txn, write only
// in remove. Any may be empty.
struct Resource {
  std::string name;         // for logs
  std::vector<Kind> kinds;  // the kinds whose refs/remove/cleanup it answers
  // Taken before the mark and released after this resource's cleanup: an
  // owner's lock that keeps new objects from being swept while they are
  // being recorded (containerd's content store lock). Returns the holder.
  std::function<std::shared_ptr<void>()> hold;
  // Roots in ns (any kind).
  std::function<void(Txn&, const std::string& ns, const Emit&)> roots;
  // Every node of its kinds in ns: the sweep candidates.
  std::function<void(Txn&, const std::string& ns, const Emit&)> all;
  // What a marked node of its kinds references.
  std::function<void(Txn&, const Node&, const Emit&)> refs;
  // Removes an unmarked node's records.
  std::function<void(Txn&, const Node&)> remove;
  // After the sweep committed: the nodes of its kinds that were removed
  // (called even when empty, so an owner can also reconcile leftovers).
  std::function<void(const std::vector<Node>& removed)> cleanup;
};

struct Stats {
  size_t marked = 0;
  size_t removed = 0;
  std::chrono::nanoseconds elapsed{0};
};

// One collector per DB (DB::collector()). Thread-safe; Collect runs one at a
// time.
class Collector {
 public:
  explicit Collector(DB& db);

  void Register(Resource r);

  // Mark and sweep now, then the cleanups. The sweep's commit does not
  // re-trigger the scheduler (see InCollection()).
  Stats Collect();

  // True on the thread running Collect: the scheduler ignores the mutation
  // notifications of the collector's own commit.
  static bool InCollection();

 private:
  DB& db_;
  std::mutex run_mu_;  // one collection at a time
  mutable std::mutex mu_;
  std::vector<Resource> resources_;
};

}  // namespace mcd::metadata::gc
