#pragma once
// io.containerd.differ.v1 / walking: applies layers from the content store
// onto mounts and computes layers between two mounts (containerd's walking
// differ with its fs applier).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "content/store.h"
#include "pkg/context.h"
#include "pkg/mount.h"
#include "plugins/plugin.h"

namespace mcd::diff {

inline constexpr const char* kMediaTypeLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* kMediaTypeLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* kUncompressedLabel = "containerd.io/uncompressed";

struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  std::map<std::string, std::string> annotations;
};

// Whether containerd's stream processors handle this media type (plain,
// gzip or zstd layers, OCI or Docker, distributable or not).
bool SupportedLayer(const std::string& media_type);

class Walking : public plugin::Instance {
 public:
  // tmp_mounts: where layers are applied to and read from through
  // temporary mounts (the daemon's <root>/tmpmounts).
  Walking(std::shared_ptr<content::Store> store, std::string tmp_mounts)
      : store_(std::move(store)), tmp_mounts_(std::move(tmp_mounts)) {}

  // The applied (uncompressed) descriptor; the client compares its digest
  // with the layer's diff id.
  Descriptor Apply(const Context& ctx, const Descriptor& layer,
                   const std::vector<mount::Mount>& mounts);
  // A layer of what upper changes over lower, written to the content store.
  Descriptor Compare(const Context& ctx, const std::vector<mount::Mount>& lower,
                     const std::vector<mount::Mount>& upper, std::string media_type,
                     std::string ref, std::map<std::string, std::string> labels);

 private:
  std::shared_ptr<content::Store> store_;
  std::string tmp_mounts_;
};

}  // namespace mcd::diff
