#pragma once
// The order containerd 1.6 registers its plugins in (Go's package
// initialisation order of its builtins), as `ctr plugins ls` and the
// introspection API show it. The daemon registers its plugins in the same
// order so that its graph, and those listings, come out as containerd's.
#include <string>
#include <vector>

namespace mcd::daemon {

const std::vector<std::string>& ContainerdPluginOrder();

}  // namespace mcd::daemon
