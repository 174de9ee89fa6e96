#pragma once
// Builds tar layers in memory with libarchive, for the apply tests.
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace mcd::testing {

struct TarEntry {
  std::string name;
  mode_t type = AE_IFREG;  // AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR...
  std::string data;        // file contents
  std::string link;        // symlink target
  std::string hardlink;    // hard link target
  mode_t perm = 0644;
};

// filter: "" (plain tar), "gzip" or "zstd".
inline std::string BuildTar(const std::vector<TarEntry>& entries, const std::string& filter = "") {
  std::vector<char> buf(16 << 20);
  size_t used = 0;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (filter == "gzip") archive_write_add_filter_gzip(a);
  if (filter == "zstd") archive_write_add_filter_zstd(a);
  if (archive_write_open_memory(a, buf.data(), buf.size(), &used) != ARCHIVE_OK) {
    throw std::runtime_error(archive_error_string(a));
  }
  for (const auto& t : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.name.c_str());
    archive_entry_set_mtime(e, 1700000000, 0);
    if (!t.hardlink.empty()) {
      archive_entry_set_hardlink(e, t.hardlink.c_str());
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, t.perm);
    } else {
      archive_entry_set_filetype(e, t.type);
      archive_entry_set_perm(e, t.type == AE_IFDIR && t.perm == 0644 ? 0755 : t.perm);
      if (t.type == AE_IFLNK) archive_entry_set_symlink(e, t.link.c_str());
      if (t.type == AE_IFREG) archive_entry_set_size(e, static_cast<la_int64_t>(t.data.size()));
    }
    archive_write_header(a, e);
    if (t.type == AE_IFREG && t.hardlink.empty() && !t.data.empty()) {
      archive_write_data(a, t.data.data(), t.data.size());
    }
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buf.data(), used);
}

}  // namespace mcd::testing
