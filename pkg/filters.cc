#include "pkg/filters.h"

#include "pkg/errdefs.h"

// Placeholder until the parser lands: only the empty filter is accepted.
namespace mcd::filters {
struct Filter::Node {};
Filter::Filter() = default;
bool Filter::Match(const Adaptor&) const { return true; }
Filter Parse(std::string_view text) {
  if (!text.empty()) throw errdefs::NotImplemented("filters");
  return Filter();
}
Filter ParseAll(const std::vector<std::string>& texts) {
  for (const auto& t : texts) Parse(t);
  return Filter();
}
}  // namespace mcd::filters
