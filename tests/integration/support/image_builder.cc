#include "tests/integration/support/image_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

#include "pkg/fs.h"
#include "pkg/process.h"

namespace mcd::itest::image {
namespace {

using Json = nlohmann::ordered_json;

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;
using EntryPtr = std::unique_ptr<archive_entry, EntryDeleter>;

void Check(archive* a, int r, const char* what) {
  if (r < ARCHIVE_WARN) {
    const char* msg = archive_error_string(a);
    throw std::runtime_error(std::string("libarchive ") + what + ": " + (msg ? msg : "error"));
  }
}

la_ssize_t AppendCb(archive*, void* client, const void* buf, size_t n) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

// A writer appending to `out`.
ArchivePtr OpenWriter(std::string* out, bool tar_format, Compression c) {
  ArchivePtr a(archive_write_new());
  if (!a) throw std::runtime_error("archive_write_new failed");
  if (tar_format) {
    Check(a.get(), archive_write_set_format_pax_restricted(a.get()), "format");
  } else {
    Check(a.get(), archive_write_set_format_raw(a.get()), "format");
    // Compressed streams must not be padded to a block size.
    Check(a.get(), archive_write_set_bytes_per_block(a.get(), 0), "blocking");
  }
  switch (c) {
    case Compression::kNone:
      break;
    case Compression::kGzip:
      Check(a.get(), archive_write_add_filter_gzip(a.get()), "gzip");
      // No timestamp in the gzip header: the same layer gives the same blob.
      Check(a.get(), archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr),
            "gzip option");
      break;
    case Compression::kZstd:
      Check(a.get(), archive_write_add_filter_zstd(a.get()), "zstd");
      break;
  }
  Check(a.get(), archive_write_open2(a.get(), out, nullptr, AppendCb, nullptr, nullptr), "open");
  return a;
}

void WriteEntry(archive* a, const Entry& e) {
  EntryPtr ae(archive_entry_new());
  archive_entry_set_pathname(ae.get(), e.path.c_str());
  archive_entry_set_uid(ae.get(), e.uid);
  archive_entry_set_gid(ae.get(), e.gid);
  archive_entry_set_mtime(ae.get(), e.mtime, 0);
  for (const auto& [k, v] : e.xattrs) {
    archive_entry_xattr_add_entry(ae.get(), k.c_str(), v.data(), v.size());
  }
  bool data = false;
  switch (e.type) {
    case Entry::Type::kFile:
      archive_entry_set_filetype(ae.get(), AE_IFREG);
      archive_entry_set_perm(ae.get(), e.mode ? e.mode : 0644);
      archive_entry_set_size(ae.get(), static_cast<la_int64_t>(e.data.size()));
      data = true;
      break;
    case Entry::Type::kDir:
      archive_entry_set_filetype(ae.get(), AE_IFDIR);
      archive_entry_set_perm(ae.get(), e.mode ? e.mode : 0755);
      break;
    case Entry::Type::kSymlink:
      archive_entry_set_filetype(ae.get(), AE_IFLNK);
      archive_entry_set_perm(ae.get(), e.mode ? e.mode : 0777);
      archive_entry_set_symlink(ae.get(), e.link.c_str());
      break;
    case Entry::Type::kHardlink:
      archive_entry_set_filetype(ae.get(), AE_IFREG);
      archive_entry_set_perm(ae.get(), e.mode ? e.mode : 0644);
      archive_entry_set_hardlink(ae.get(), e.link.c_str());
      archive_entry_set_size(ae.get(), 0);
      break;
    case Entry::Type::kFifo:
      archive_entry_set_filetype(ae.get(), AE_IFIFO);
      archive_entry_set_perm(ae.get(), e.mode ? e.mode : 0644);
      break;
  }
  Check(a, archive_write_header(a, ae.get()), "header");
  if (data && !e.data.empty()) {
    if (archive_write_data(a, e.data.data(), e.data.size()) !=
        static_cast<la_ssize_t>(e.data.size())) {
      Check(a, ARCHIVE_FATAL, "data");
    }
  }
}

void Finish(ArchivePtr& a) {
  Check(a.get(), archive_write_close(a.get()), "close");
}

std::string TagOf(const std::string& name) {
  auto slash = name.rfind('/');
  auto colon = name.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return "latest";
  return name.substr(colon + 1);
}

Json DescJson(const Descriptor& d) {
  return Json{{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
}

}  // namespace

std::string Sha256(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sha256 failed");
  }
  static const char* hex = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned i = 0; i < n; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

Entry File(std::string path, std::string data, unsigned mode) {
  Entry e;
  e.type = Entry::Type::kFile;
  e.path = std::move(path);
  e.data = std::move(data);
  e.mode = mode;
  return e;
}
Entry Dir(std::string path, unsigned mode) {
  Entry e;
  e.type = Entry::Type::kDir;
  e.path = std::move(path);
  e.mode = mode;
  return e;
}
Entry Symlink(std::string path, std::string target) {
  Entry e;
  e.type = Entry::Type::kSymlink;
  e.path = std::move(path);
  e.link = std::move(target);
  return e;
}
Entry Hardlink(std::string path, std::string target) {
  Entry e;
  e.type = Entry::Type::kHardlink;
  e.path = std::move(path);
  e.link = std::move(target);
  return e;
}
Entry Fifo(std::string path) {
  Entry e;
  e.type = Entry::Type::kFifo;
  e.path = std::move(path);
  return e;
}
Entry Whiteout(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return File(dir + ".wh." + base, "", 0644);
}
Entry Opaque(const std::string& dir) {
  std::string d = dir;
  while (!d.empty() && d.back() == '/') d.pop_back();
  return File(d.empty() ? ".wh..wh..opq" : d + "/.wh..wh..opq", "", 0644);
}

std::string LayerTar(const std::vector<Entry>& entries) {
  std::string out;
  auto a = OpenWriter(&out, true, Compression::kNone);
  for (const auto& e : entries) WriteEntry(a.get(), e);
  Finish(a);
  return out;
}

std::string Compress(const std::string& tar, Compression c) {
  if (c == Compression::kNone) return tar;
  std::string out;
  auto a = OpenWriter(&out, false, c);
  EntryPtr ae(archive_entry_new());
  archive_entry_set_pathname(ae.get(), "layer.tar");
  archive_entry_set_filetype(ae.get(), AE_IFREG);
  archive_entry_set_perm(ae.get(), 0644);
  archive_entry_set_size(ae.get(), static_cast<la_int64_t>(tar.size()));
  Check(a.get(), archive_write_header(a.get(), ae.get()), "raw header");
  if (archive_write_data(a.get(), tar.data(), tar.size()) != static_cast<la_ssize_t>(tar.size())) {
    Check(a.get(), ARCHIVE_FATAL, "raw data");
  }
  Finish(a);
  return out;
}

Layer BusyboxLayer(Compression c) {
  const std::string busybox = "/bin/busybox";
  if (!fs::Exists(busybox)) {
    throw std::runtime_error("/bin/busybox missing: apt-get install busybox-static");
  }
  process::Options opts;
  opts.argv = {busybox, "--list"};
  auto list = process::Run(opts);
  if (list.exit_code != 0) throw std::runtime_error("busybox --list failed: " + list.err);
  Layer l;
  l.compression = c;
  auto& es = l.entries;
  es.push_back(Dir("bin"));
  es.push_back(File("bin/busybox", fs::ReadFile(busybox), 0755));
  std::istringstream in(list.out);
  std::set<std::string> applets;
  for (std::string name; std::getline(in, name);) {
    if (!name.empty() && name != "busybox" && name.find('/') == std::string::npos) {
      applets.insert(name);
    }
  }
  for (const auto& name : applets) es.push_back(Symlink("bin/" + name, "busybox"));
  es.push_back(Dir("dev"));
  es.push_back(Dir("etc"));
  es.push_back(
      File("etc/passwd",
           "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"));
  es.push_back(File("etc/group", "root:x:0:\nnogroup:x:65534:\n"));
  es.push_back(Dir("proc"));
  es.push_back(Dir("root", 0700));
  es.push_back(Dir("sys"));
  es.push_back(Dir("tmp", 01777));
  return l;
}

Image Build(const ImageSpec& spec) {
  Image img;
  img.name = spec.name;
  for (const auto& layer : spec.layers) {
    std::string tar = LayerTar(layer.entries);
    img.diff_ids.push_back(Sha256(tar));
    std::string blob = Compress(tar, layer.compression);
    Descriptor d;
    d.media_type = layer.compression == Compression::kGzip   ? kLayerGzip
                   : layer.compression == Compression::kZstd ? kLayerZstd
                                                             : kLayerTar;
    d.digest = Sha256(blob);
    d.size = static_cast<int64_t>(blob.size());
    img.blobs[d.digest] = std::move(blob);
    img.layers.push_back(d);
  }

  Json cfg;
  if (!spec.env.empty()) cfg["Env"] = spec.env;
  if (!spec.entrypoint.empty()) cfg["Entrypoint"] = spec.entrypoint;
  if (!spec.cmd.empty()) cfg["Cmd"] = spec.cmd;
  if (!spec.working_dir.empty()) cfg["WorkingDir"] = spec.working_dir;
  if (!spec.labels.empty()) cfg["Labels"] = spec.labels;
  Json history = Json::array();
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    history.push_back(Json{{"created", "2000-01-01T00:00:00Z"},
                           {"created_by", "mcd image_builder layer " + std::to_string(i)}});
  }
  Json config{{"created", "2000-01-01T00:00:00Z"},
              {"architecture", spec.architecture},
              {"os", spec.os},
              {"config", cfg.is_null() ? Json::object() : cfg},
              {"rootfs", Json{{"type", "layers"}, {"diff_ids", img.diff_ids}}},
              {"history", history}};
  std::string config_bytes = config.dump();
  img.config = {kConfigType, Sha256(config_bytes), static_cast<int64_t>(config_bytes.size())};
  img.blobs[img.config.digest] = config_bytes;

  Json layers = Json::array();
  for (const auto& d : img.layers) layers.push_back(DescJson(d));
  Json manifest{{"schemaVersion", 2},
                {"mediaType", kManifestType},
                {"config", DescJson(img.config)},
                {"layers", layers}};
  std::string manifest_bytes = manifest.dump();
  img.manifest = {kManifestType, Sha256(manifest_bytes),
                  static_cast<int64_t>(manifest_bytes.size())};
  img.blobs[img.manifest.digest] = manifest_bytes;
  return img;
}

Image Busybox(const std::string& name) {
  ImageSpec spec;
  spec.name = name;
  spec.layers.push_back(BusyboxLayer());
  return Build(spec);
}

std::string OciArchive(const std::vector<Image>& images) {
  std::string out;
  auto a = OpenWriter(&out, true, Compression::kNone);
  WriteEntry(a.get(), File("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  Json manifests = Json::array();
  for (const auto& img : images) {
    Json d = DescJson(img.manifest);
    d["annotations"] = Json{{"io.containerd.image.name", img.name},
                            {"org.opencontainers.image.ref.name", TagOf(img.name)}};
    manifests.push_back(d);
  }
  Json index{{"schemaVersion", 2}, {"mediaType", kIndexType}, {"manifests", manifests}};
  WriteEntry(a.get(), File("index.json", index.dump()));
  WriteEntry(a.get(), Dir("blobs"));
  WriteEntry(a.get(), Dir("blobs/sha256"));
  std::set<std::string> written;
  for (const auto& img : images) {
    for (const auto& [digest, bytes] : img.blobs) {
      if (!written.insert(digest).second) continue;
      WriteEntry(a.get(), File("blobs/sha256/" + digest.substr(7), bytes));
    }
  }
  Finish(a);
  return out;
}

void WriteOciArchive(const std::vector<Image>& images, const std::string& path) {
  fs::WriteFileAtomic(path, OciArchive(images), 0644);
}

}  // namespace mcd::itest::image
