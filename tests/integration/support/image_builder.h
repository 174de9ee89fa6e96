#pragma once
// Builds OCI images for tests: layers from a list of entries (files, dirs,
// symlinks, hardlinks, whiteouts, opaque dirs and raw hostile entries), tar
// or tar+gzip or tar+zstd, config and manifest, and an OCI layout tarball
// that `ctr images import` accepts. The default image is busybox from
// Debian's busybox-static (/bin/busybox) with a symlink per applet.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mcd::itest::image {

// One tar entry. `path` is written exactly as given (no cleaning), so
// hostile names such as "../escape" or "/abs" can be produced on purpose.
struct Entry {
  enum class Type { kFile, kDir, kSymlink, kHardlink, kFifo };
  Type type = Type::kFile;
  std::string path;
  std::string data;   // file contents
  std::string link;   // symlink target or hardlink target path
  unsigned mode = 0;  // 0: 0644 files, 0755 dirs, 0777 symlinks
  int64_t uid = 0, gid = 0;
  int64_t mtime = 946684800;                  // fixed (2000-01-01) so blobs are reproducible
  std::map<std::string, std::string> xattrs;  // written as PAX SCHILY.xattr
};

Entry File(std::string path, std::string data, unsigned mode = 0644);
Entry Dir(std::string path, unsigned mode = 0755);
Entry Symlink(std::string path, std::string target);
Entry Hardlink(std::string path, std::string target);
Entry Fifo(std::string path);
// "<dir>/.wh.<name>" for path "<dir>/<name>": deletes it from lower layers.
Entry Whiteout(const std::string& path);
// "<dir>/.wh..wh..opq": hides everything lower layers had in dir.
Entry Opaque(const std::string& dir);

enum class Compression { kNone, kGzip, kZstd };

struct Layer {
  std::vector<Entry> entries;
  Compression compression = Compression::kGzip;
};

// bin/busybox from /bin/busybox, bin/<applet> -> busybox for each applet,
// etc/ (passwd, group), tmp/ (1777), proc/, sys/, dev/, root/.
Layer BusyboxLayer(Compression c = Compression::kGzip);

struct ImageSpec {
  std::string name = "docker.io/library/busybox:latest";
  std::vector<Layer> layers;  // bottom first
  std::vector<std::string> cmd = {"sh"};
  std::vector<std::string> entrypoint;
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  std::string working_dir;
  std::string architecture = "amd64";
  std::string os = "linux";
  std::map<std::string, std::string> labels;  // config labels
};

struct Descriptor {
  std::string media_type;
  std::string digest;  // sha256:<hex>
  int64_t size = 0;
};

struct Image {
  std::string name;
  Descriptor manifest;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::vector<std::string> diff_ids;         // sha256 of each uncompressed layer
  std::map<std::string, std::string> blobs;  // digest -> bytes (config, manifest, layers)
};

// Media types.
inline constexpr const char* kManifestType = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kIndexType = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kConfigType = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* kLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* kLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* kLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";

// The uncompressed tar of a layer's entries.
std::string LayerTar(const std::vector<Entry>& entries);
// Compresses a tar stream.
std::string Compress(const std::string& tar, Compression c);

Image Build(const ImageSpec& spec);
// The default: one busybox layer.
Image Busybox(const std::string& name = "docker.io/library/busybox:latest");

// OCI layout tar: oci-layout, index.json (annotations io.containerd.image.name
// = name and org.opencontainers.image.ref.name = its tag), blobs/sha256/<hex>.
std::string OciArchive(const std::vector<Image>& images);
void WriteOciArchive(const std::vector<Image>& images, const std::string& path);

// sha256:<hex> of bytes.
std::string Sha256(const std::string& data);

}  // namespace mcd::itest::image
