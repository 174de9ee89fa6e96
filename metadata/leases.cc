#include "metadata/leases.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include "content/digest.h"
#include "mcd/content.pb.h"
#include "metadata/gc.h"
#include "metadata/namespaces.h"
#include "pkg/errdefs.h"
#include "pkg/filters.h"

namespace mcd::metadata::leases {
namespace {

namespace chr = std::chrono;

std::string LeaseKey(const std::string& ns, const std::string& id) {
  return ObjectKey(ns, "leases", id);
}

// Resource keys live below the lease: v1/<ns>/leases/<id>/<type>/<resource>.
std::string ResourceKey(const std::string& ns, const std::string& id, const std::string& type,
                        const std::string& res) {
  return LeaseKey(ns, id) + "/" + type + "/" + res;
}

// Lease ids become key segments: a "/" would make a lease's record look like
// another lease's resource.
void ValidateId(const std::string& id) {
  if (id.find('/') != std::string::npos) {
    throw errdefs::InvalidArgument(fmt::format("lease id {:?} must not contain \"/\"", id));
  }
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

google::protobuf::Timestamp ToProto(chr::system_clock::time_point t) {
  auto ns = chr::duration_cast<chr::nanoseconds>(t.time_since_epoch()).count();
  google::protobuf::Timestamp ts;
  ts.set_seconds(ns / 1000000000);
  ts.set_nanos(static_cast<int>(ns % 1000000000));
  return ts;
}

chr::system_clock::time_point FromProto(const google::protobuf::Timestamp& ts) {
  return chr::system_clock::time_point(chr::duration_cast<chr::system_clock::duration>(
      chr::seconds(ts.seconds()) + chr::nanoseconds(ts.nanos())));
}

Lease Decode(const std::string& id, std::string_view value) {
  records::Lease rec;
  if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    throw errdefs::Internal("corrupt lease record " + id);
  }
  Lease l;
  l.id = id;
  l.created_at = FromProto(rec.created_at());
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
  if (lease.find('/') != std::string::npos || !t.Get(LeaseKey(ns, lease))) {
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
  if (lease.empty() || lease.find('/') != std::string::npos) return;
  t.Delete(ResourceKey(ns, lease, type, id));
}

Lease Store::Create(const std::string& ns, const std::string& id_in, const Labels& labels) {
  std::string id = id_in.empty() ? RandomId() : id_in;
  ValidateId(id);
  ValidateLabels(labels);
  Lease l{id, chr::system_clock::now(), labels};
  records::Lease rec;
  *rec.mutable_created_at() = ToProto(l.created_at);
  for (const auto& [k, v] : labels) (*rec.mutable_labels())[k] = v;
  db_->Update([&](Txn& t) {
    if (t.Get(LeaseKey(ns, id))) throw errdefs::AlreadyExists(fmt::format("lease {:?}", id));
    NamespaceStore::EnsureIn(t, ns);
    t.Put(LeaseKey(ns, id), rec.SerializeAsString());
  });
  return l;
}

void Store::Delete(const std::string& ns, const std::string& id) {
  db_->Update([&](Txn& t) {
    if (id.find('/') != std::string::npos || !t.Get(LeaseKey(ns, id))) {
      throw errdefs::NotFound(fmt::format("lease {:?}", id));
    }
    t.Delete(LeaseKey(ns, id));
    t.DeletePrefix(LeaseKey(ns, id) + "/");
  });
}

std::vector<Lease> Store::List(const std::string& ns, const std::vector<std::string>& texts) {
  auto filter = filters::ParseAll(texts);
  std::vector<Lease> out;
  std::string prefix = BucketPrefix(ns, "leases");
  db_->Scan(prefix, [&](std::string_view key, std::string_view value) {
    std::string_view id = key.substr(prefix.size());
    if (id.find('/') != std::string_view::npos) return true;  // a resource
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
    if (lease.find('/') != std::string::npos || !t.Get(LeaseKey(ns, lease))) {
      throw errdefs::NotFound(fmt::format("lease {:?}", lease));
    }
    CheckResource(r);
    t.Put(ResourceKey(ns, lease, r.type, r.id), "");
  });
}

void Store::DeleteResource(const std::string& ns, const std::string& lease, const Resource& r) {
  db_->Update([&](Txn& t) {
    if (lease.find('/') != std::string::npos || !t.Get(LeaseKey(ns, lease))) {
      throw errdefs::NotFound(fmt::format("lease {:?}", lease));
    }
    CheckResource(r);
    t.Delete(ResourceKey(ns, lease, r.type, r.id));
  });
}

std::vector<Resource> Store::ListResources(const std::string& ns, const std::string& lease) {
  if (lease.find('/') != std::string::npos || !db_->Get(LeaseKey(ns, lease))) {
    throw errdefs::NotFound(fmt::format("lease {:?}", lease));
  }
  std::vector<Resource> content, ingests, snapshots;
  std::string prefix = LeaseKey(ns, lease) + "/";
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

void Store::ForEach(const std::string& ns,
                    const std::function<void(const Lease&, const std::vector<Resource>&)>& fn) {
  // Keys of lease "a-b" sort between "a" and "a/...": group by id.
  std::map<std::string, std::pair<std::optional<Lease>, std::vector<Resource>>> all;
  std::string prefix = BucketPrefix(ns, "leases");
  db_->Scan(prefix, [&](std::string_view key, std::string_view value) {
    std::string_view rest = key.substr(prefix.size());
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) {
      all[std::string(rest)].first = Decode(std::string(rest), value);
    } else if (auto r = ParseResource(rest.substr(slash + 1))) {
      all[std::string(rest.substr(0, slash))].second.push_back(*r);
    }
    return true;
  });
  for (const auto& [id, entry] : all) {
    if (entry.first) fn(*entry.first, entry.second);
  }
}

void RegisterGC(DB& db) {
  gc::Resource r;
  r.name = "leases";
  r.kinds = {gc::Kind::kLease};
  r.roots = [](Txn& t, const std::string& ns, const gc::Emit& emit) {
    auto now = chr::system_clock::now();
    std::string prefix = BucketPrefix(ns, "leases");
    // Records come before their resources, but "a-b" sorts between "a" and
    // "a/...": remember every live lease by id.
    std::map<std::string, bool> live;  // id -> flat
    std::vector<std::pair<std::string, Resource>> resources;
    t.Scan(prefix, [&](std::string_view key, std::string_view value) {
      std::string_view rest = key.substr(prefix.size());
      auto slash = rest.find('/');
      if (slash == std::string_view::npos) {
        records::Lease rec;
        if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) return true;
        if (gc::Expired(rec.labels(), now)) return true;
        live[std::string(rest)] = rec.labels().count(std::string(gc::kLabelFlat)) > 0;
      } else if (auto res = ParseResource(rest.substr(slash + 1))) {
        resources.emplace_back(std::string(rest.substr(0, slash)), *res);
      }
      return true;
    });
    for (const auto& [id, flat] : live) emit(gc::Node{gc::Kind::kLease, ns, id});
    for (const auto& [id, res] : resources) {
      auto it = live.find(id);
      if (it == live.end()) continue;
      bool flat = it->second;
      if (res.type == kContent) {
        emit(gc::Node{gc::Kind::kContent, ns, res.id, flat});
      } else if (res.type == kIngests) {
        emit(gc::Node{gc::Kind::kIngest, ns, res.id, flat});
      } else if (res.type.rfind("snapshots/", 0) == 0) {
        emit(gc::Node{gc::Kind::kSnapshot, ns, res.type.substr(10) + "/" + res.id, flat});
      }
    }
  };
  r.all = [](Txn& t, const std::string& ns, const gc::Emit& emit) {
    std::string prefix = BucketPrefix(ns, "leases");
    t.Scan(prefix, [&](std::string_view key, std::string_view) {
      std::string_view rest = key.substr(prefix.size());
      if (rest.find('/') == std::string_view::npos) {
        emit(gc::Node{gc::Kind::kLease, ns, std::string(rest)});
      }
      return true;
    });
  };
  r.remove = [](Txn& t, const gc::Node& n) {
    t.Delete(LeaseKey(n.ns, n.key));
    t.DeletePrefix(LeaseKey(n.ns, n.key) + "/");
  };
  db.collector().Register(std::move(r));
}

}  // namespace mcd::metadata::leases
