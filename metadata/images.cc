#include "metadata/images.h"

#include <fmt/format.h>

#include <cctype>

#include "metadata/namespaces.h"
#include "metadata/timestamps.h"
#include "pkg/errdefs.h"
#include "pkg/filters.h"

namespace mcd::metadata {
namespace {

constexpr const char* kBucket = "images";

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsDigestChar(char c, bool alg) {
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  if (alg) return c == '.' || c == '+' || c == '_' || c == '-';
  return (c >= 'A' && c <= 'Z') || c == '=' || c == '_' || c == '-';
}

// go-digest's Digest.Validate, as text; empty when valid.
std::string DigestError(const std::string& d) {
  auto i = d.find(':');
  if (i == std::string::npos || i == 0 || i + 1 == d.size()) {
    return "invalid checksum digest format";
  }
  std::string alg = d.substr(0, i), enc = d.substr(i + 1);
  size_t size = alg == "sha256" ? 32 : alg == "sha384" ? 48 : alg == "sha512" ? 64 : 0;
  if (size == 0) {
    // Well formed but unknown algorithm -> unsupported; otherwise format.
    bool ok =
        IsDigestChar(alg.front(), true) && std::isalnum(static_cast<unsigned char>(alg.back()));
    for (char c : alg) ok = ok && IsDigestChar(c, true);
    for (char c : enc) ok = ok && IsDigestChar(c, false);
    return ok ? "unsupported digest algorithm" : "invalid checksum digest format";
  }
  if (enc.size() != size * 2) return "invalid checksum digest length";
  if (!IsLowerHex(enc)) return "invalid checksum digest format";
  return "";
}

void ValidateImage(const Image& img) {
  if (img.name.empty()) throw errdefs::InvalidArgument("image name must not be empty");
  for (const auto& [k, v] : img.rec.labels()) {
    try {
      ValidateLabel(k, v);
    } catch (const errdefs::Error& e) {
      throw errdefs::Error(e.code(), std::string("image.Labels: ") + e.what());
    }
  }
  const auto& t = img.rec.target();
  if (auto err = DigestError(t.digest()); !err.empty()) {
    throw errdefs::InvalidArgument(fmt::format("Target.Digest {:?} invalid: {}", t.digest(), err));
  }
  if (t.size() <= 0) throw errdefs::InvalidArgument("Target.Size must be greater than zero");
  if (t.media_type().empty()) throw errdefs::InvalidArgument("Target.MediaType must be set");
}

void DropEmpty(google::protobuf::Map<std::string, std::string>* m) {
  for (auto it = m->begin(); it != m->end();) {
    if (it->second.empty())
      it = m->erase(it);
    else
      ++it;
  }
}

std::optional<std::string> MapField(const google::protobuf::Map<std::string, std::string>& m,
                                    const std::vector<std::string>& path) {
  if (m.empty()) return std::nullopt;
  std::string key;
  for (size_t i = 1; i < path.size(); ++i) key += (i > 1 ? "." : "") + path[i];
  auto it = m.find(key);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Field(const Image& img, const std::vector<std::string>& path) {
  if (path.empty()) return std::nullopt;
  auto nonempty = [](const std::string& s) -> std::optional<std::string> {
    if (s.empty()) return std::nullopt;
    return s;
  };
  const auto& f = path[0];
  if (f == "name") return nonempty(img.name);
  if (f == "target") {
    if (path.size() < 2) return std::nullopt;
    if (path[1] == "digest") return nonempty(img.rec.target().digest());
    if (path[1] == "mediatype") return nonempty(img.rec.target().media_type());
    return std::nullopt;
  }
  if (f == "labels") return MapField(img.rec.labels(), path);
  if (f == "annotations") return MapField(img.rec.target().annotations(), path);
  return std::nullopt;
}

Image Parse(std::string name, std::string_view v) {
  Image img{std::move(name), {}};
  if (!img.rec.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
    throw errdefs::Internal(fmt::format("image {:?}: corrupt record", img.name));
  }
  return img;
}

}  // namespace

Image ImageStore::Get(const std::string& ns, const std::string& name) const {
  auto v = db_->Get(ObjectKey(ns, kBucket, name));
  if (!v) throw errdefs::NotFound(fmt::format("image {:?}", name));
  return Parse(name, *v);
}

std::vector<Image> ImageStore::List(const std::string& ns,
                                    const std::vector<std::string>& filters) const {
  auto filter = filters::ParseAllWrapped(filters);
  std::vector<Image> out;
  const std::string prefix = BucketPrefix(ns, kBucket);
  db_->Scan(prefix, [&](std::string_view k, std::string_view v) {
    Image img = Parse(std::string(k.substr(prefix.size())), v);
    if (filter.Match([&](const std::vector<std::string>& p) { return Field(img, p); })) {
      out.push_back(std::move(img));
    }
    return true;
  });
  return out;
}

Image ImageStore::Create(const std::string& ns, Image img) {
  ValidateImage(img);
  DropEmpty(img.rec.mutable_labels());
  DropEmpty(img.rec.mutable_target()->mutable_annotations());
  auto now = Now();
  *img.rec.mutable_created_at() = now;
  *img.rec.mutable_updated_at() = now;
  const std::string key = ObjectKey(ns, kBucket, img.name);
  std::string value = img.rec.SerializeAsString();
  db_->Update([&](Txn& t) {
    if (t.Get(key)) throw errdefs::AlreadyExists(fmt::format("image {:?}", img.name));
    CheckLabelKeys(img.rec.labels(), fmt::format("writing labels for image {}: ", img.name));
    NamespaceStore::EnsureIn(t, ns);
    t.Put(key, value);
  });
  return img;
}

Image ImageStore::Update(const std::string& ns, const Image& img,
                         const std::vector<std::string>& fieldpaths) {
  if (img.name.empty()) throw errdefs::InvalidArgument("image name is required for update");
  Image updated{img.name, {}};
  db_->Update([&](Txn& t) {
    const std::string key = ObjectKey(ns, kBucket, img.name);
    auto v = t.Get(key);
    if (!v) throw errdefs::NotFound(fmt::format("image {:?}", img.name));
    auto& u = updated.rec;
    u.ParseFromString(*v);
    auto created = u.created_at();
    const auto& in = img.rec;
    if (fieldpaths.empty()) {
      u = in;
    }
    for (const auto& path : fieldpaths) {
      if (path.rfind("labels.", 0) == 0) {
        std::string k = path.substr(7);
        auto it = in.labels().find(k);
        (*u.mutable_labels())[k] = it == in.labels().end() ? "" : it->second;
        continue;
      }
      if (path.rfind("annotations.", 0) == 0) {
        std::string k = path.substr(12);
        auto it = in.target().annotations().find(k);
        (*u.mutable_target()->mutable_annotations())[k] =
            it == in.target().annotations().end() ? "" : it->second;
        continue;
      }
      if (path == "labels") {
        *u.mutable_labels() = in.labels();
      } else if (path == "target") {
        *u.mutable_target() = in.target();
      } else if (path == "annotations") {
        *u.mutable_target()->mutable_annotations() = in.target().annotations();
      } else {
        throw errdefs::InvalidArgument(
            fmt::format("cannot update {:?} field on image {:?}", path, img.name));
      }
    }
    ValidateImage(updated);
    CheckLabelKeys(u.labels(), fmt::format("writing labels for image {}: ", img.name));
    DropEmpty(u.mutable_labels());
    DropEmpty(u.mutable_target()->mutable_annotations());
    *u.mutable_created_at() = created;
    *u.mutable_updated_at() = Now();
    t.Put(key, u.SerializeAsString());
  });
  return updated;
}

void ImageStore::Delete(const std::string& ns, const std::string& name) {
  db_->Update([&](Txn& t) {
    const std::string key = ObjectKey(ns, kBucket, name);
    if (!t.Get(key)) throw errdefs::NotFound(fmt::format("image {:?}", name));
    t.Delete(key);
  });
}

}  // namespace mcd::metadata
