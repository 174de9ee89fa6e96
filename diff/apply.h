#pragma once
// Applying a layer (a tar stream, possibly gzip or zstd compressed) onto a
// directory, as containerd's archive.Apply: OCI whiteouts, never writing
// outside the directory. Every path is resolved inside the root with
// openat2(RESOLVE_IN_ROOT), and the last component is always acted on
// without following it, so `..`, absolute names, symlinks and hard links
// cannot reach outside.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mcd::diff {

enum class Whiteouts {
  kDelete,   // a plain directory: whiteouts remove the files they name
  kOverlay,  // an overlay upper dir: char 0/0 devices, trusted.overlay.opaque=y
};

struct ApplyOptions {
  Whiteouts whiteouts = Whiteouts::kDelete;
  // Lower layers (top first) of an overlay upper dir: parent directories the
  // layer needs but the upper dir lacks take their attributes from here.
  std::vector<std::string> parents;
};

// What was read: the uncompressed stream's digest and size.
struct Applied {
  std::string digest;  // "sha256:<hex>"
  int64_t size = 0;
};

// Reads up to n bytes into buf; 0 at the end. Throws on failure.
using Source = std::function<size_t(void* buf, size_t n)>;

// Throws errdefs errors; what was applied so far stays (the caller discards
// the snapshot).
Applied ApplyLayer(const Source& src, const std::string& root, const ApplyOptions& opts);

// Lexically cleans a tar entry name to components inside the root: "/" and
// "." dropped, ".." never climbs above the root. Empty = the root itself.
std::vector<std::string> CleanComponents(const std::string& name);

}  // namespace mcd::diff
