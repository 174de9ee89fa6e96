#pragma once
// The request context every local service call receives: which namespace the
// caller works in and which lease (if any) holds what it creates. The grpc
// and ttrpc layers build it from request metadata.
#include <chrono>
#include <optional>
#include <string>

namespace mcd {

// containerd's metadata keys.
inline constexpr const char* kNamespaceHeader = "containerd-namespace";
inline constexpr const char* kNamespaceTtrpcHeader = "containerd-namespace-ttrpc";
inline constexpr const char* kLeaseHeader = "containerd-lease";

struct Context {
  std::string ns;     // as the caller sent it: use Namespace(), which validates
  std::string lease;  // empty when no lease
  std::optional<std::chrono::steady_clock::time_point> deadline;

  // The namespace, validated, as containerd's NamespaceRequired: missing is
  // FailedPrecondition, not an identifier "namespace validation: ..."
  // (InvalidArgument). A call that needs none never asks, so a bad header
  // does not fail it (`ctr -n 'a b' plugins ls` works on containerd too).
  const std::string& Namespace() const;
};

// Builds a context from header values; the namespace is checked when used.
Context MakeContext(std::string ns, std::string lease = {});

}  // namespace mcd
