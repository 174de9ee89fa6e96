#pragma once
// The file and text helpers the cgroup readers share, each with the parsing
// rules of containerd/cgroups (Go's strconv, strings.Fields, bufio lines).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcd::cgroupstats::detail {

// A missing file or directory: ends one controller's part of Stat without an
// error (cgroups.IgnoreNotExist), or makes Load skip a controller.
class NotExist : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The whole file. NotExist when missing; other failures throw an errdefs
// error naming the file.
std::string ReadFile(const std::string& path);
// lstat: false when missing, throws (naming the path) on other failures.
bool Exists(const std::string& path);

// Lines as Go's bufio.Scanner gives them: no final empty line, "\r\n" ends a
// line too.
std::vector<std::string_view> Lines(std::string_view text);
// Go's strings.Fields: runs of non-space characters.
std::vector<std::string_view> Fields(std::string_view text);
// Runs of characters that are not in `seps` (strings.FieldsFunc).
std::vector<std::string_view> FieldsBy(std::string_view text, std::string_view seps);

// strconv.ParseUint(s, 10, bits): digits only, in range; throws naming `file`.
uint64_t ParseUint(std::string_view s, int bits, const std::string& file);
// cgroups' parseUint: as ParseUint, but a negative number ("-1") reads as 0.
uint64_t ParseCgroupUint(std::string_view s, int bits, const std::string& file);
// A file holding one number (surrounding space ignored), cgroups' readUint.
uint64_t ReadUint(const std::string& path);
// "key value" (exactly two fields), cgroups' parseKV.
std::pair<std::string_view, uint64_t> ParseKV(std::string_view line, const std::string& file);

// filepath.Clean and filepath.Join.
std::string Clean(std::string_view path);
std::string Join(std::string_view a, std::string_view b);

}  // namespace mcd::cgroupstats::detail
