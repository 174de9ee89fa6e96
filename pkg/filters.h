#pragma once
// containerd's filter language (containerd/filters):
//   selector      := fieldpath [op value]
//   fieldpath     := field ("." field)*      field may be "quoted"
//   op            := "==" | "!=" | "~="      (~= is a regular expression)
//   value         := bare word | "quoted" | `raw`
//   filter        := selector ("," selector)*   all must match
//   (several filter strings, as in ParseAll, are OR-ed; "|" and "/" quote
//   regular expressions as in containerd 1.6, they are not operators)
// A selector without op matches when the field is present.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcd::filters {

// Answers the value at a field path, or nullopt when the object has none.
using Adaptor = std::function<std::optional<std::string>(const std::vector<std::string>& path)>;

class Filter {
 public:
  Filter();  // matches everything
  bool Match(const Adaptor& a) const;
  struct Node;
  explicit Filter(std::shared_ptr<const Node> n) : node_(std::move(n)) {}

 private:
  std::shared_ptr<const Node> node_;
};

// Throws errdefs InvalidArgument with the position of the error.
Filter Parse(std::string_view text);
// containerd's ParseAll: each string is a filter, OR-ed; none matches all.
Filter ParseAll(const std::vector<std::string>& texts);
// ParseAll for containerd's metadata stores (containers, images, leases),
// which wrap the parser's error once more with its class: the message ends
// in "invalid argument: invalid argument", as clients see from containerd.
Filter ParseAllWrapped(const std::vector<std::string>& texts);

}  // namespace mcd::filters
