#include "metadata/containers.h"

#include <fmt/format.h>

#include <chrono>

#include "metadata/namespaces.h"
#include "metadata/timestamps.h"
#include "pkg/errdefs.h"
#include "pkg/filters.h"
#include "pkg/identifiers.h"

namespace mcd::metadata {
namespace {

constexpr const char* kBucket = "containers";

// Prefixes an error's message, keeping its class (containerd's %w wrapping).
[[noreturn]] void Rethrow(const errdefs::Error& e, std::string_view prefix) {
  throw errdefs::Error(e.code(), std::string(prefix) + e.what());
}

void Validate(const Container& c) {
  try {
    identifiers::Validate(c.id);
  } catch (const errdefs::Error& e) {
    Rethrow(e, "container.ID: ");
  }
  for (const auto& [k, v] : c.rec.extensions()) {
    if (k.empty()) {
      throw errdefs::InvalidArgument("container.Extension keys must not be zero-length");
    }
  }
  for (const auto& [k, v] : c.rec.labels()) {
    try {
      ValidateLabel(k, v);
    } catch (const errdefs::Error& e) {
      Rethrow(e, "containers.Labels: ");
    }
  }
  if (c.rec.runtime_name().empty()) {
    throw errdefs::InvalidArgument("container.Runtime.Name must be set");
  }
  if (!c.rec.has_spec()) throw errdefs::InvalidArgument("container.Spec must be set");
  if (!c.rec.snapshot_key().empty() && c.rec.snapshotter().empty()) {
    throw errdefs::InvalidArgument(
        "container.Snapshotter must be set if container.SnapshotKey is set");
  }
}

// Empty label values are not stored, as containerd's WriteLabels.
void DropEmptyLabels(records::Container& r) {
  auto* labels = r.mutable_labels();
  for (auto it = labels->begin(); it != labels->end();) {
    if (it->second.empty())
      it = labels->erase(it);
    else
      ++it;
  }
}

std::optional<std::string> Field(const Container& c, const std::vector<std::string>& path) {
  if (path.empty()) return std::nullopt;
  const auto& f = path[0];
  auto nonempty = [](const std::string& s) -> std::optional<std::string> {
    if (s.empty()) return std::nullopt;
    return s;
  };
  if (f == "id") return nonempty(c.id);
  if (f == "image") return nonempty(c.rec.image());
  if (f == "runtime") {
    if (path.size() > 1 && path[1] == "name") return nonempty(c.rec.runtime_name());
    return std::nullopt;
  }
  if (f == "labels") {
    if (c.rec.labels().empty()) return std::nullopt;
    std::string key;
    for (size_t i = 1; i < path.size(); ++i) key += (i > 1 ? "." : "") + path[i];
    auto it = c.rec.labels().find(key);
    if (it == c.rec.labels().end()) return std::nullopt;
    return it->second;
  }
  return std::nullopt;
}

bool NamespaceHasContainers(Txn& t, const std::string& ns) {
  return t.HasPrefix(BucketPrefix(ns, kBucket));
}

}  // namespace

Container ContainerStore::Get(const std::string& ns, const std::string& id) const {
  auto v = db_->Get(ObjectKey(ns, kBucket, id));
  if (!v) throw errdefs::NotFound(fmt::format("container {:?} in namespace {:?}", id, ns));
  Container c{id, {}};
  if (!c.rec.ParseFromString(*v)) {
    throw errdefs::Internal(fmt::format("failed to read container {:?}: corrupt record", id));
  }
  return c;
}

std::vector<Container> ContainerStore::List(const std::string& ns,
                                            const std::vector<std::string>& filters) const {
  auto filter = filters::ParseAllWrapped(filters);
  std::vector<Container> out;
  const std::string prefix = BucketPrefix(ns, kBucket);
  db_->Scan(prefix, [&](std::string_view k, std::string_view v) {
    Container c{std::string(k.substr(prefix.size())), {}};
    if (!c.rec.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
      throw errdefs::Internal(fmt::format("failed to read container {:?}: corrupt record", c.id));
    }
    if (filter.Match([&](const std::vector<std::string>& p) { return Field(c, p); })) {
      out.push_back(std::move(c));
    }
    return true;
  });
  return out;
}

Container ContainerStore::Create(const std::string& ns, Container c) {
  try {
    Validate(c);
  } catch (const errdefs::Error& e) {
    Rethrow(e, "create container failed validation: ");
  }
  DropEmptyLabels(c.rec);
  auto now = Now();
  *c.rec.mutable_created_at() = now;
  *c.rec.mutable_updated_at() = now;
  const std::string key = ObjectKey(ns, kBucket, c.id);
  std::string value = c.rec.SerializeAsString();
  db_->Update([&](Txn& t) {
    if (t.Get(key)) throw errdefs::AlreadyExists(fmt::format("container {:?}", c.id));
    CheckLabelKeys(c.rec.labels(), fmt::format("failed to write container {:?}: ", c.id));
    NamespaceStore::EnsureIn(t, ns);
    t.Put(key, value);
  });
  return c;
}

Container ContainerStore::Update(const std::string& ns, const Container& c,
                                 const std::vector<std::string>& fieldpaths_in) {
  if (c.id.empty()) throw errdefs::InvalidArgument("must specify a container id");
  Container updated{c.id, {}};
  db_->Update([&](Txn& t) {
    const std::string key = ObjectKey(ns, kBucket, c.id);
    auto v = t.Get(key);
    if (!v) {
      if (!NamespaceHasContainers(t, ns)) {
        throw errdefs::NotFound(
            fmt::format("cannot update container {:?} in namespace {:?}", c.id, ns));
      }
      throw errdefs::NotFound(fmt::format("container {:?}", c.id));
    }
    auto& u = updated.rec;
    u.ParseFromString(*v);
    auto created = u.created_at();
    const auto old_extensions = u.extensions();
    auto fieldpaths = fieldpaths_in;
    if (fieldpaths.empty()) {
      // A full replace updates only these; immutable fields must not differ.
      fieldpaths = {"labels", "spec", "extensions", "image", "snapshotkey"};
      if (u.snapshotter() != c.rec.snapshotter()) {
        throw errdefs::InvalidArgument("container.Snapshotter field is immutable");
      }
      if (u.runtime_name() != c.rec.runtime_name()) {
        throw errdefs::InvalidArgument("container.Runtime.Name field is immutable");
      }
    }
    for (const auto& path : fieldpaths) {
      if (path.rfind("labels.", 0) == 0) {
        std::string k = path.substr(7);
        auto it = c.rec.labels().find(k);
        (*u.mutable_labels())[k] = it == c.rec.labels().end() ? "" : it->second;
        continue;
      }
      if (path.rfind("extensions.", 0) == 0) {
        std::string k = path.substr(11);
        auto it = c.rec.extensions().find(k);
        if (it == c.rec.extensions().end())
          (*u.mutable_extensions())[k].Clear();
        else
          (*u.mutable_extensions())[k] = it->second;
        continue;
      }
      if (path == "labels") {
        *u.mutable_labels() = c.rec.labels();
      } else if (path == "spec") {
        if (c.rec.has_spec())
          *u.mutable_spec() = c.rec.spec();
        else
          u.clear_spec();
      } else if (path == "extensions") {
        *u.mutable_extensions() = c.rec.extensions();
      } else if (path == "image") {
        u.set_image(c.rec.image());
      } else if (path == "snapshotkey") {
        u.set_snapshot_key(c.rec.snapshot_key());
      } else {
        throw errdefs::InvalidArgument(fmt::format("cannot update {:?} field on {:?}", path, c.id));
      }
    }
    try {
      Validate(updated);
    } catch (const errdefs::Error& e) {
      Rethrow(e, "update failed validation: ");
    }
    CheckLabelKeys(u.labels(), fmt::format("failed to write container {:?}: ", c.id));
    DropEmptyLabels(u);
    *u.mutable_created_at() = created;
    *u.mutable_updated_at() = Now();
    // containerd's bolt store only ever adds extensions: one an update drops
    // is gone from the answer but still stored, and read back later.
    records::Container stored = u;
    stored.mutable_extensions()->insert(old_extensions.begin(), old_extensions.end());
    t.Put(key, stored.SerializeAsString());
  });
  return updated;
}

void ContainerStore::Delete(const std::string& ns, const std::string& id) {
  db_->Update([&](Txn& t) {
    const std::string key = ObjectKey(ns, kBucket, id);
    if (!t.Get(key)) {
      if (!NamespaceHasContainers(t, ns)) {
        throw errdefs::NotFound(
            fmt::format("cannot delete container {:?} in namespace {:?}", id, ns));
      }
      throw errdefs::NotFound(fmt::format("container {}", id));
    }
    t.Delete(key);
  });
}

}  // namespace mcd::metadata
