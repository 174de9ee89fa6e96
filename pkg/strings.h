#pragma once
// Small string helpers shared by several modules.
#include <string>
#include <string_view>

namespace mcd {

// s without leading and trailing spaces, tabs and line ends.
inline std::string TrimSpace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(kSpace) - b + 1));
}

}  // namespace mcd
