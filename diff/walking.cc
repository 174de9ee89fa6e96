#include "diff/walking.h"

#include <fmt/format.h>

#include <chrono>
#include <mutex>
#include <random>

#include "diff/apply.h"
#include "diff/write.h"
#include "metadata/content.h"
#include "metadata/db.h"
#include "pkg/errdefs.h"
#include "pkg/log.h"

namespace mcd::diff {
namespace {

// The upper dir and lower dirs of a single overlay mount, as containerd's
// getOverlayPath; empty upper when not applicable.
std::pair<std::string, std::vector<std::string>> OverlayPaths(const mount::Mount& m) {
  std::string upper;
  std::vector<std::string> lower;
  for (const auto& o : m.options) {
    if (o.rfind("upperdir=", 0) == 0) {
      upper = o.substr(9);
    } else if (o.rfind("lowerdir=", 0) == 0) {
      std::string l = o.substr(9);
      size_t i = 0;
      while (i <= l.size()) {
        size_t j = l.find(':', i);
        if (j == std::string::npos) j = l.size();
        lower.push_back(l.substr(i, j - i));
        i = j + 1;
      }
    }
  }
  return {upper, lower};
}

std::string UniqueRef() {
  static std::mt19937_64 rng{std::random_device{}()};
  static std::mutex mu;
  std::lock_guard lk(mu);
  return fmt::format("{}-{:x}", std::chrono::system_clock::now().time_since_epoch().count(),
                     rng() & 0xffffff);
}

}  // namespace

bool SupportedLayer(const std::string& mt) {
  static const char* kTypes[] = {
      "application/vnd.oci.image.layer.v1.tar",
      "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.oci.image.layer.v1.tar+zstd",
      "application/vnd.oci.image.layer.nondistributable.v1.tar",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
      "application/vnd.docker.image.rootfs.diff.tar",
      "application/vnd.docker.image.rootfs.diff.tar.gzip",
      "application/vnd.docker.image.rootfs.foreign.diff.tar",
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  };
  for (const char* t : kTypes) {
    if (mt == t) return true;
  }
  return false;
}

Descriptor Walking::Apply(const Context& ctx, const Descriptor& layer,
                          const std::vector<mount::Mount>& mounts) {
  auto start = std::chrono::steady_clock::now();
  if (!SupportedLayer(layer.media_type)) {
    throw errdefs::Unknown(fmt::format(
        "failed to get stream processor for {}: no processor for media-type", layer.media_type));
  }
  std::unique_ptr<content::ReaderAt> ra;
  try {
    ra = store_->OpenReader(ctx, layer.digest);
  } catch (const errdefs::Error& e) {
    throw errdefs::Error(e.code(),
                         std::string("failed to get reader from content store: ") + e.what());
  }
  int64_t off = 0;
  Source src = [&](void* buf, size_t n) {
    size_t k = ra->ReadAt(buf, n, off);
    off += static_cast<int64_t>(k);
    return k;
  };
  Applied applied;
  if (mounts.size() == 1 && mounts[0].type == "overlay") {
    auto [upper, lower] = OverlayPaths(mounts[0]);
    if (!upper.empty()) {
      // Straight into the upper dir, whiteouts as overlay markers.
      ApplyOptions o;
      o.whiteouts = Whiteouts::kOverlay;
      o.parents = lower;
      applied = ApplyLayer(src, upper, o);
    }
  }
  if (applied.digest.empty()) {
    if (mounts.size() == 1 && mounts[0].type == "bind" && !mounts[0].ReadOnly() &&
        mounts[0].target.empty()) {
      // A writable bind of a directory: that directory is the target.
      applied = ApplyLayer(src, mounts[0].source, {});
    } else {
      mount::TempMount tm(mounts, tmp_mounts_);
      try {
        applied = ApplyLayer(src, tm.path(), {});
      } catch (const std::exception& e) {
        // containerd's WithTempMount names the mount its callback failed on.
        throw errdefs::Error(errdefs::CodeOf(e),
                             fmt::format("mount callback failed on {}: {}", tm.path(), e.what()));
      }
      tm.Release();
    }
  }
  log::Debug("diff applied",
             {{"d", fmt::format("{}ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - start)
                                            .count())},
              {"digest", layer.digest},
              {"media", layer.media_type},
              {"size", std::to_string(layer.size)}});
  Descriptor out;
  out.media_type = kMediaTypeLayer;
  out.digest = applied.digest;
  out.size = applied.size;
  return out;
}

Descriptor Walking::Compare(const Context& ctx, const std::vector<mount::Mount>& lower,
                            const std::vector<mount::Mount>& upper, std::string media_type,
                            std::string ref, std::map<std::string, std::string> labels) {
  if (media_type.empty()) media_type = kMediaTypeLayerGzip;
  bool gzip = media_type == kMediaTypeLayerGzip;
  if (!gzip && media_type != kMediaTypeLayer) {
    throw errdefs::NotImplemented(fmt::format("unsupported diff media type: {}", media_type));
  }
  mount::TempMount lower_root(lower, tmp_mounts_);
  // containerd reads the upper side through a read-only mount; an overlay
  // becomes one of lower dirs only, so it never shares an upper dir with a
  // running container's mount.
  std::vector<mount::Mount> ro = upper;
  for (auto& m : ro) {
    std::erase(m.options, "rw");
    if (m.type == "overlay") {
      auto [up, lows] = OverlayPaths(m);
      if (!up.empty()) {
        std::vector<std::string> opts;
        std::string lowerdir = "lowerdir=" + up;
        for (const auto& l : lows) lowerdir += ":" + l;
        for (const auto& o : m.options) {
          if (o.rfind("upperdir=", 0) != 0 && o.rfind("workdir=", 0) != 0 &&
              o.rfind("lowerdir=", 0) != 0) {
            opts.push_back(o);
          }
        }
        opts.push_back(lowerdir);
        m.options = std::move(opts);
      }
    }
    if (!m.ReadOnly()) m.options.push_back("ro");
  }
  mount::TempMount upper_root(ro, tmp_mounts_);
  bool new_ref = ref.empty();
  if (new_ref) ref = UniqueRef();
  content::WriterOptions wo;
  wo.ref = ref;
  auto w = store_->OpenWriter(ctx, wo);
  std::string dgst;
  try {
    if (!new_ref) w->Truncate(0);
    std::string uncompressed = WriteDiff(lower_root.path(), upper_root.path(), gzip,
                                         [&](std::string_view data) { w->Write(data); });
    if (gzip) labels[kUncompressedLabel] = uncompressed;
    dgst = w->Digest();
    try {
      w->Commit(0, dgst, labels);
    } catch (const errdefs::Error& e) {
      if (e.code() != errdefs::Code::kAlreadyExists) throw;
    }
  } catch (...) {
    w->Close();
    if (new_ref) {
      try {
        store_->Abort(ctx, ref);
      } catch (...) {
      }
    }
    throw;
  }
  auto info = store_->GetInfo(ctx, dgst);
  if (gzip && !info.labels.count(kUncompressedLabel)) {
    info.labels[kUncompressedLabel] = labels[kUncompressedLabel];
    store_->Update(ctx, info, {std::string("labels.") + kUncompressedLabel});
  }
  upper_root.Release();
  lower_root.Release();
  Descriptor out;
  out.media_type = media_type;
  out.digest = info.digest;
  out.size = info.size;
  return out;
}

namespace {
plugin::Registrar reg{{
    .type = plugin::kDiff,
    .id = "walking",
    .requires_ = {plugin::kMetadata},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      ic.AddDefaultPlatform();
      auto db = ic.GetAs<metadata::DB>(plugin::kMetadata);
      return std::make_shared<Walking>(db->content, ic.daemon.tmp_mounts);
    },
}};
}  // namespace

}  // namespace mcd::diff
