#include "metadata/leases.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include "content/digest.h"
#include "mcd/content.pb.h"
#include "metadata/gc.h"
#include "metadata/namespaces.h"
#include "metadata/timestamps.h"
#include "pkg/errdefs.h"
#include "pkg/filters.h"

namespace mcd::metadata::leases {
namespace {

namespace chr = std::chrono;

// Lease records: v1/<ns>/leases/<id>, the id as given (containerd accepts
// any non-empty id, "/" included), so records list in containerd's order.
std::string LeaseKey(const std::string& ns, const std::string& id) {
  return ObjectKey(ns, "leases", id);
}

// Resources live in their own bucket, under the escaped id (no "/" in it):
// v1/<ns>/lease-resources/<escaped id>/<type>/<resource>.
constexpr const char* kResourceBucket = "lease-resources";

std::string EscapeId(const std::string& id) {
  std::string out;
  out.reserve(id.size());
  for (char c : id) {
    if (c == '%') {
      out += "%25";
    } else if (c == '/') {
      out += "%2F";
    } else {
      out += c;
    }
  }
  return out;
}

std::string UnescapeId(std::string_view esc) {
  std::string out;
  out.reserve(esc.size());
  for (size_t i = 0; i < esc.size(); ++i) {
    std::string_view rest = esc.substr(i);
    if (rest.starts_with("%25")) {
      out += '%';
      i += 2;
    } else if (rest.starts_with("%2F")) {
      out += '/';
      i += 2;
    } else {
      out += esc[i];
    }
  }
  return out;
}

std::string ResourcePrefix(const std::string& ns, const std::string& id) {
  return BucketPrefix(ns, kResourceBucket) + EscapeId(id) + "/";
}

std::string ResourceKey(const std::string& ns, const std::string& id, const std::string& type,
                        const std::string& res) {
  return ResourcePrefix(ns, id) + type + "/" + res;
}

// containerd's parseLeaseResource: the type must be content, ingests or
// snapshots/<snapshotter>; content ids must be digests.
std::string CheckResource(const Resource& r) {
  auto slash = r.type.find('/');
  std::string head = r.type.substr(0, slash);
  if (head == kContent || head == kIngests) {
    if (slash != std::string::npos) {
      throw errdefs::InvalidArgument("invalid resource type " + r.type);
    }
    if (head == kContent && !content::IsValid(r.id)) {
      throw errdefs::InvalidArgument(
          fmt::format("invalid content resource id {}: invalid checksum digest format", r.id));
    }
  } else if (head == "snapshots") {
    if (slash == std::string::npos || slash + 1 == r.type.size() ||
        r.type.find('/', slash + 1) != std::string::npos) {
      throw errdefs::InvalidArgument("invalid snapshot resource type " + r.type);
    }
  } else {
    throw errdefs::NotImplemented(fmt::format("resource type {} not supported yet", r.type));
  }
  return r.type;
}

Lease Decode(const std::string& id, std::string_view value) {
  records::Lease rec;
  if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    throw errdefs::Internal("corrupt lease record " + id);
  }
  Lease l;
  l.id = id;
  l.created_at = FromTimestamp(rec.created_at());
  l.labels = Labels(rec.labels().begin(), rec.labels().end());
  return l;
}

// containerd's WithRandomID: "<nanoseconds of now>-<4 base64url chars>".
std::string RandomId() {
  unsigned char b[3];
  if (RAND_bytes(b, sizeof b) != 1) throw errdefs::Internal("random lease id");
  static const char* enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint32_t v = (uint32_t(b[0]) << 16) | (uint32_t(b[1]) << 8) | b[2];
  std::string s;
  for (int i = 3; i >= 0; --i) s += enc[(v >> (6 * i)) & 63];
  auto now = chr::system_clock::now().time_since_epoch();
  auto nanos = chr::duration_cast<chr::nanoseconds>(now).count() % 1000000000;
  return fmt::format("{}-{}", nanos, s);
}

// Splits a key below a lease ("<type>/<resource>") into a resource.
std::optional<Resource> ParseResource(std::string_view rest) {
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string type(rest.substr(0, slash));
  rest.remove_prefix(slash + 1);
  if (type == "snapshots") {
    auto s2 = rest.find('/');
    if (s2 == std::string_view::npos) return std::nullopt;
    type += "/" + std::string(rest.substr(0, s2));
    rest.remove_prefix(s2 + 1);
  }
  return Resource{std::string(rest), type};
}

}  // namespace

void CheckExists(Txn& t, const std::string& ns, const std::string& lease) {
  if (!t.Get(LeaseKey(ns, lease))) {
    throw errdefs::NotFound("lease does not exist");
  }
}

void AddResource(Txn& t, const std::string& ns, const std::string& lease, const std::string& type,
                 const std::string& id) {
  if (lease.empty()) return;
  CheckExists(t, ns, lease);
  t.Put(ResourceKey(ns, lease, type, id), "");
}

void RemoveResource(Txn& t, const std::string& ns, const std::string& lease,
                    const std::string& type, const std::string& id) {
  if (lease.empty()) return;
  t.Delete(ResourceKey(ns, lease, type, id));
}

Lease Store::Create(const std::string& ns, const std::string& id_in, const Labels& labels) {
  std::string id = id_in.empty() ? RandomId() : id_in;
  // containerd checks no label size here; bolt refuses an empty key.
  CheckLabelKeys(labels);
  Lease l{id, chr::system_clock::now(), {}};
  for (const auto& [k, v] : labels) {
    if (!v.empty()) l.labels[k] = v;  // an empty value is no label, as containerd's WriteLabels
  }
  records::Lease rec;
  *rec.mutable_created_at() = ToTimestamp(l.created_at);
  for (const auto& [k, v] : l.labels) (*rec.mutable_labels())[k] = v;
  db_->Update([&](Txn& t) {
    if (t.Get(LeaseKey(ns, id))) throw errdefs::AlreadyExists(fmt::format("lease {:?}", id));
    NamespaceStore::EnsureIn(t, ns);
    t.Put(LeaseKey(ns, id), rec.SerializeAsString());
  });
  return l;
}

void Store::Delete(const std::string& ns, const std::string& id) {
  db_->Update([&](Txn& t) {
    if (!t.Get(LeaseKey(ns, id))) throw errdefs::NotFound(fmt::format("lease {:?}", id));
    t.Delete(LeaseKey(ns, id));
    t.DeletePrefix(ResourcePrefix(ns, id));
  });
}

std::vector<Lease> Store::List(const std::string& ns, const std::vector<std::string>& texts) {
  auto filter = filters::ParseAllWrapped(texts);
  std::vector<Lease> out;
  std::string prefix = BucketPrefix(ns, "leases");
  db_->Scan(prefix, [&](std::string_view key, std::string_view value) {
    std::string_view id = key.substr(prefix.size());
    Lease l = Decode(std::string(id), value);
    auto adaptor = [&l](const std::vector<std::string>& path) -> std::optional<std::string> {
      if (path.empty()) return std::nullopt;
      if (path[0] == "id") {
        if (l.id.empty()) return std::nullopt;
        return l.id;
      }
      if (path[0] == "labels") {
        if (l.labels.empty()) return std::nullopt;
        std::string k;
        for (size_t i = 1; i < path.size(); ++i) k += (i > 1 ? "." : "") + path[i];
        auto it = l.labels.find(k);
        if (it == l.labels.end()) return std::nullopt;
        return it->second;
      }
      return std::nullopt;
    };
    if (filter.Match(adaptor)) out.push_back(std::move(l));
    return true;
  });
  return out;
}

void Store::AddResource(const std::string& ns, const std::string& lease, const Resource& r) {
  db_->Update([&](Txn& t) {
    if (!t.Get(LeaseKey(ns, lease))) {
      throw errdefs::NotFound(fmt::format("lease {:?}", lease));
    }
    CheckResource(r);
    t.Put(ResourceKey(ns, lease, r.type, r.id), "");
  });
}

void Store::DeleteResource(const std::string& ns, const std::string& lease, const Resource& r) {
  db_->Update([&](Txn& t) {
    if (!t.Get(LeaseKey(ns, lease))) {
      throw errdefs::NotFound(fmt::format("lease {:?}", lease));
    }
    CheckResource(r);
    t.Delete(ResourceKey(ns, lease, r.type, r.id));
  });
}

std::vector<Resource> Store::ListResources(const std::string& ns, const std::string& lease) {
  if (!db_->Get(LeaseKey(ns, lease))) {
    throw errdefs::NotFound(fmt::format("lease {:?}", lease));
  }
  std::vector<Resource> content, ingests, snapshots;
  std::string prefix = ResourcePrefix(ns, lease);
  db_->Scan(prefix, [&](std::string_view key, std::string_view) {
    if (auto r = ParseResource(key.substr(prefix.size()))) {
      if (r->type == kContent)
        content.push_back(*r);
      else if (r->type == kIngests)
        ingests.push_back(*r);
      else if (r->type.rfind("snapshots/", 0) == 0)
        snapshots.push_back(*r);
    }
    return true;
  });
  // containerd's order: content, ingests, snapshots.
  std::vector<Resource> out = std::move(content);
  out.insert(out.end(), ingests.begin(), ingests.end());
  out.insert(out.end(), snapshots.begin(), snapshots.end());
  return out;
}

namespace {
// Every (lease id, resource) of ns from the resource bucket; scan is a
// DB's or a Txn's Scan.
template <class ScanFn>
void ScanResources(const ScanFn& scan, const std::string& ns,
                   const std::function<void(const std::string& id, Resource r)>& fn) {
  std::string prefix = BucketPrefix(ns, kResourceBucket);
  scan(prefix, [&](std::string_view key, std::string_view) {
    std::string_view rest = key.substr(prefix.size());
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) return true;
    if (auto r = ParseResource(rest.substr(slash + 1))) {
      fn(UnescapeId(rest.substr(0, slash)), std::move(*r));
    }
    return true;
  });
}
}  // namespace

void Store::ForEach(const std::string& ns,
                    const std::function<void(const Lease&, const std::vector<Resource>&)>& fn) {
  std::map<std::string, std::pair<std::optional<Lease>, std::vector<Resource>>> all;
  std::string prefix = BucketPrefix(ns, "leases");
  db_->Scan(prefix, [&](std::string_view key, std::string_view value) {
    std::string id(key.substr(prefix.size()));
    all[id].first = Decode(id, value);
    return true;
  });
  ScanResources([&](std::string_view p, const auto& f) { db_->Scan(p, f); }, ns,
                [&](const std::string& id, Resource r) { all[id].second.push_back(std::move(r)); });
  for (const auto& [id, entry] : all) {
    if (entry.first) fn(*entry.first, entry.second);
  }
}

void UpgradeLayout(DB& db) {
  // Schema 1 kept resources below the record, at
  // v1/<ns>/leases/<id>/<type>/<resource> with an empty value. A record's
  // value is never empty (it always holds created_at), so such keys are
  // unambiguous: move them to the resource bucket, once (schema 2).
  constexpr int kResourceBucketSchema = 2;
  if (auto v = db.Get(kSchemaKey); v && std::stoi(*v) >= kResourceBucketSchema) return;
  db.Update([&](Txn& t) {
    for (const auto& ns : db.Namespaces()) {
      std::string prefix = BucketPrefix(ns, "leases");
      std::vector<std::string> old;
      t.Scan(prefix, [&](std::string_view key, std::string_view value) {
        if (value.empty() && key.substr(prefix.size()).find('/') != std::string_view::npos) {
          old.emplace_back(key);
        }
        return true;
      });
      for (const auto& key : old) {
        std::string rest = key.substr(prefix.size());
        auto slash = rest.find('/');
        t.Put(ResourcePrefix(ns, rest.substr(0, slash)) + rest.substr(slash + 1), "");
        t.Delete(key);
      }
    }
    t.Put(kSchemaKey, std::to_string(kResourceBucketSchema));
  });
}

void RegisterGC(DB& db) {
  gc::Resource r;
  r.name = "leases";
  r.kinds = {gc::Kind::kLease};
  r.roots = [](Txn& t, const std::string& ns, const gc::Emit& emit) {
    auto now = chr::system_clock::now();
    std::string prefix = BucketPrefix(ns, "leases");
    std::map<std::string, bool> live;  // id -> flat
    t.Scan(prefix, [&](std::string_view key, std::string_view value) {
      records::Lease rec;
      if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) return true;
      if (gc::Expired(rec.labels(), now)) return true;
      live[std::string(key.substr(prefix.size()))] =
          rec.labels().count(std::string(gc::kLabelFlat)) > 0;
      return true;
    });
    for (const auto& [id, flat] : live) emit(gc::Node{gc::Kind::kLease, ns, id});
    ScanResources(
        [&](std::string_view p, const auto& f) { t.Scan(p, f); }, ns,
        [&](const std::string& id, const Resource& res) {
          auto it = live.find(id);
          if (it == live.end()) return;
          bool flat = it->second;
          if (res.type == kContent) {
            emit(gc::Node{gc::Kind::kContent, ns, res.id, flat});
          } else if (res.type == kIngests) {
            emit(gc::Node{gc::Kind::kIngest, ns, res.id, flat});
          } else if (res.type.rfind("snapshots/", 0) == 0) {
            emit(gc::Node{gc::Kind::kSnapshot, ns, res.type.substr(10) + "/" + res.id, flat});
          }
        });
  };
  r.all = [](Txn& t, const std::string& ns, const gc::Emit& emit) {
    std::string prefix = BucketPrefix(ns, "leases");
    t.Scan(prefix, [&](std::string_view key, std::string_view) {
      emit(gc::Node{gc::Kind::kLease, ns, std::string(key.substr(prefix.size()))});
      return true;
    });
  };
  r.remove = [](Txn& t, const gc::Node& n) {
    t.Delete(LeaseKey(n.ns, n.key));
    t.DeletePrefix(ResourcePrefix(n.ns, n.key));
  };
  db.collector().Register(std::move(r));
}

}  // namespace mcd::metadata::leases
