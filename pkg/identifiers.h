#pragma once
// containerd's identifier rules: alphanumerics separated by single '.', '_' or
// '-', at most 76 characters. Checked before an id reaches a path or a key.
#include <string_view>

namespace mcd::identifiers {

inline constexpr size_t kMaxLength = 76;

bool IsValid(std::string_view id);
// Throws errdefs InvalidArgument with containerd's wording.
void Validate(std::string_view id);

}  // namespace mcd::identifiers
