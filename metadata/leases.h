#pragma once
// Leases (containerd's metadata/leases.go): a lease holds resources (content
// blobs, ingests, snapshots, images) so the garbage collector keeps them
// while it lives. Records at v1/<ns>/leases/<id> (records.Lease; any
// non-empty id, "/" included, as containerd), resources at
// v1/<ns>/lease-resources/<escaped id>/<type>/<resource> (KEYS.md).
//
// Stores that create something under ctx.lease call AddResource inside their
// own transaction, after CheckExists (NotFound "lease does not exist" when the
// lease is unknown, as containerd answers).
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "metadata/db.h"

namespace mcd::metadata::leases {

using Labels = std::map<std::string, std::string>;

// containerd's resource types.
inline constexpr const char* kContent = "content";
inline constexpr const char* kIngests = "ingests";
inline std::string SnapshotsType(const std::string& snapshotter) {
  return "snapshots/" + snapshotter;
}
inline constexpr const char* kImages = "images";

// The label that gives a lease an expiry (RFC 3339 time).
inline constexpr const char* kExpireLabel = "containerd.io/gc.expire";

struct Lease {
  std::string id;
  std::chrono::system_clock::time_point created_at{};
  Labels labels;
};

struct Resource {
  std::string id;
  std::string type;
};

// Transaction helpers for other stores.
// NotFound "lease does not exist" unless the lease exists in ns.
void CheckExists(Txn& t, const std::string& ns, const std::string& lease);
// Records a resource under a lease (checks the lease exists). No-op when
// lease is empty.
void AddResource(Txn& t, const std::string& ns, const std::string& lease, const std::string& type,
                 const std::string& id);
// Removes a resource from a lease (no-op when lease is empty or unknown).
void RemoveResource(Txn& t, const std::string& ns, const std::string& lease,
                    const std::string& type, const std::string& id);

// Moves resource keys of the older layout (below the lease record) to the
// resource bucket. Idempotent; call once at open, before serving.
void UpgradeLayout(DB& db);

// Plugs leases into the database's garbage collector (metadata/gc.h):
// unexpired leases are roots and hold every resource under them (flat with
// containerd.io/gc.flat); unmarked (expired) leases are removed with their
// resource keys. Call once per database.
void RegisterGC(DB& db);

class Store {
 public:
  explicit Store(std::shared_ptr<DB> db) : db_(std::move(db)) {}

  // Empty id: generated. AlreadyExists "lease \"<id>\": already exists".
  Lease Create(const std::string& ns, const std::string& id, const Labels& labels);
  // NotFound "lease \"<id>\": not found".
  void Delete(const std::string& ns, const std::string& id);
  // Filters on id and labels.<k>.
  std::vector<Lease> List(const std::string& ns, const std::vector<std::string>& filters = {});
  void AddResource(const std::string& ns, const std::string& lease, const Resource& r);
  void DeleteResource(const std::string& ns, const std::string& lease, const Resource& r);
  std::vector<Resource> ListResources(const std::string& ns, const std::string& lease);

  // For the garbage collector: every lease of ns with its resources.
  void ForEach(const std::string& ns,
               const std::function<void(const Lease&, const std::vector<Resource>&)>& fn);

 private:
  std::shared_ptr<DB> db_;
};

}  // namespace mcd::metadata::leases
