#include "runtime/cgroupstats/files.h"

#include <sys/stat.h>

#include <cerrno>
#include <limits>

#include "pkg/errdefs.h"
#include "pkg/fs.h"

namespace mcd::cgroupstats::detail {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string ReadFile(const std::string& path) {
  if (auto data = fs::ReadFileIfExists(path)) return std::move(*data);
  throw NotExist(path);
}

bool Exists(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  throw errdefs::FromErrno(errno, "lstat " + path);
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

std::vector<std::string_view> Fields(std::string_view text) {
  return FieldsBy(text, " \t\n\v\f\r");
}

std::vector<std::string_view> FieldsBy(std::string_view text, std::string_view seps) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && seps.find(text[i]) != std::string_view::npos) ++i;
    size_t start = i;
    while (i < text.size() && seps.find(text[i]) == std::string_view::npos) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

uint64_t ParseUint(std::string_view s, int bits, const std::string& file) {
  if (!AllDigits(s)) {
    throw errdefs::Unknown(file + ": strconv.ParseUint: parsing \"" + std::string(s) +
                           "\": invalid syntax");
  }
  const uint64_t max =
      bits >= 64 ? std::numeric_limits<uint64_t>::max() : (uint64_t{1} << bits) - 1;
  uint64_t v = 0;
  for (char c : s) {
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (max - d) / 10) {
      throw errdefs::Unknown(file + ": strconv.ParseUint: parsing \"" + std::string(s) +
                             "\": value out of range");
    }
    v = v * 10 + d;
  }
  return v;
}

uint64_t ParseCgroupUint(std::string_view s, int bits, const std::string& file) {
  // Some kernels print a negative value for "unlimited" or an underflowed
  // counter; containerd reads any negative number as 0.
  if (s.size() > 1 && s[0] == '-' && AllDigits(s.substr(1))) return 0;
  return ParseUint(s, bits, file);
}

uint64_t ReadUint(const std::string& path) {
  std::string text = ReadFile(path);
  std::string_view v = text;
  while (!v.empty() && IsSpace(v.front())) v.remove_prefix(1);
  while (!v.empty() && IsSpace(v.back())) v.remove_suffix(1);
  return ParseCgroupUint(v, 64, path);
}

std::pair<std::string_view, uint64_t> ParseKV(std::string_view line, const std::string& file) {
  auto parts = Fields(line);
  if (parts.size() != 2) {
    throw errdefs::Unknown(file + ": \"" + std::string(line) +
                           "\": cgroups: parsing file with invalid format failed");
  }
  return {parts[0], ParseCgroupUint(parts[1], 64, file)};
}

std::string Clean(std::string_view path) {
  const bool abs = !path.empty() && path.front() == '/';
  std::vector<std::string_view> parts;
  for (std::string_view p : FieldsBy(path, "/")) {
    if (p == ".") continue;
    if (p == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!abs) {
        parts.push_back(p);
      }
      continue;
    }
    parts.push_back(p);
  }
  std::string out = abs ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  if (out.empty()) out = ".";
  return out;
}

std::string Join(std::string_view a, std::string_view b) {
  if (a.empty()) return b.empty() ? "" : Clean(b);
  if (b.empty()) return Clean(a);
  std::string s(a);
  s += '/';
  s += b;
  return Clean(s);
}

}  // namespace mcd::cgroupstats::detail
