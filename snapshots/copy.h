#pragma once
#include <string>

namespace mcd::snapshots {
// Copies the tree under src into the existing directory dst keeping modes,
// owners, times, xattrs, hard links and special files (cp -a, reflinks
// where the filesystem offers them).
void CopyDir(const std::string& src, const std::string& dst);
}  // namespace mcd::snapshots
