#pragma once
// `minicontainerd oci-hook -- CMD ARGS...`: as containerd 1.6's `containerd
// oci-hook`, an OCI runtime hook that reads the container state (JSON) from
// stdin, renders {{id}} {{pid}} {{bundle}} {{rootfs}} {{status}} and
// {{annotation "key"}} in CMD, ARGS and the environment, then execs CMD.
#include <map>
#include <string>
#include <vector>

namespace mcd::daemon {

struct HookState {
  std::string id;
  int pid = 0;
  std::string bundle;
  std::string status;
  std::string rootfs;  // absolute: root.path of the bundle's config.json
  std::map<std::string, std::string> annotations;
};

// Renders the template actions in src; throws runtime_error on an action
// that is not one of the functions above (as Go's text/template would).
std::string RenderHookTemplate(const std::string& src, const HookState& st);

// Reads the state from stdin and <bundle>/config.json, renders args and
// environ, and execs args[0]. Returns only on error (throws).
int OciHook(std::vector<std::string> args);

}  // namespace mcd::daemon
