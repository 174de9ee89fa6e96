#include "pkg/identifiers.h"

#include <fmt/format.h>

#include "pkg/errdefs.h"

namespace mcd::identifiers {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsSeparator(char c) {
  return c == '.' || c == '_' || c == '-';
}

// ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$ without a regex engine.
bool Matches(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (IsAlnum(c)) continue;
    if (!IsSeparator(c) || IsSeparator(s[i + 1])) return false;
  }
  return true;
}

}  // namespace

bool IsValid(std::string_view id) {
  return id.size() <= kMaxLength && Matches(id);
}

void Validate(std::string_view id) {
  if (id.empty()) throw errdefs::InvalidArgument("identifier must not be empty");
  if (id.size() > kMaxLength) {
    throw errdefs::InvalidArgument(
        fmt::format("identifier {:?} greater than maximum length ({} characters)", id, kMaxLength));
  }
  if (!Matches(id)) {
    throw errdefs::InvalidArgument(
        fmt::format("identifier {:?} must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$", id));
  }
}

}  // namespace mcd::identifiers
