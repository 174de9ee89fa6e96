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
  std::string ns;     // may be empty; use Namespace() to require it
  std::string lease;  // empty when no lease
  std::optional<std::chrono::steady_clock::time_point> deadline;

  // The namespace, validated; FailedPrecondition when missing as containerd.
  const std::string& Namespace() const;
};

// Builds a context from header values, validating the namespace when present.
Context MakeContext(std::string ns, std::string lease = {});

}  // namespace mcd
