#pragma once
// The v2 task API (containerd.task.v2.Task) spoken to a v1 shim
// (containerd.runtime.linux.shim.v1.Shim), as containerd 1.6's runtime v1
// calls it: a process is named by one `id` (the exec id, or the container id
// for the init process), Pause/Resume/Delete of the task take Empty, Connect
// is ShimInfo. Pure functions over serialized messages.
#include <string>

namespace mcd::runtime::v1 {

inline constexpr const char* kShimService = "containerd.runtime.linux.shim.v1.Shim";

struct ShimCall {
  std::string method;   // v1 method name
  std::string payload;  // v1 request bytes
};

// The v1 call for a v2 method and request. Unimplemented for methods the v1
// shim has no counterpart of (Stats, Shutdown); InvalidArgument for a
// malformed request.
ShimCall ToShim(const std::string& v2_method, const std::string& v2_request);

// The v2 response for a v1 response to ToShim(v2_method, …). `task_pid` fills
// ConnectResponse.task_pid (ShimInfo has only the shim's pid).
std::string FromShim(const std::string& v2_method, const std::string& v1_response,
                     uint32_t task_pid = 0);

}  // namespace mcd::runtime::v1
