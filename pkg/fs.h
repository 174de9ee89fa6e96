#pragma once
// Small filesystem helpers that report failures as errdefs errors.
#include <optional>
#include <string>
#include <string_view>

namespace mcd::fs {

// Whole file as bytes; NotFound when missing.
std::string ReadFile(const std::string& path);
// Whole file as bytes; nullopt when missing (ENOENT), other failures throw.
std::optional<std::string> ReadFileIfExists(const std::string& path);
// Write to a temp file, fsync, rename: readers see old or new, never half.
void WriteFileAtomic(const std::string& path, std::string_view data, int mode = 0644);
// mkdir -p with the given mode for created directories.
void MkdirAll(const std::string& path, int mode = 0711);
// rm -rf; a missing path is fine.
void RemoveAll(const std::string& path);
bool Exists(const std::string& path);
// fsync a directory so a rename or create in it is durable.
void SyncDir(const std::string& dir);
// Whether two files hold the same bytes (false when either cannot be read).
bool SameContent(const std::string& a, const std::string& b);

// A fresh directory (mkdtemp under $TMPDIR or /tmp), removed with its
// contents when destroyed.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace mcd::fs
