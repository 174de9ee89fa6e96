#pragma once
// Computing a layer: the tar of what `upper` changes over `lower` (added and
// modified entries, `.wh.` whiteouts for removals), as containerd's
// archive.WriteDiff, written with libarchive.
#include <functional>
#include <string>
#include <string_view>

namespace mcd::diff {

// Streams the layer (gzip-compressed when gzip) to sink; returns the digest
// of the uncompressed tar.
std::string WriteDiff(const std::string& lower, const std::string& upper, bool gzip,
                      const std::function<void(std::string_view)>& sink);

}  // namespace mcd::diff
