#include <sys/utsname.h>

#include "plugins/plugin.h"

namespace mcd::plugin {

std::string DefaultPlatform() {
  static const std::string platform = [] {
    utsname u{};
    ::uname(&u);
    const std::string m = u.machine;
    // Go's GOARCH names for the kernel's machine names.
    if (m == "x86_64") return std::string("linux/amd64");
    if (m == "aarch64") return std::string("linux/arm64");
    return "linux/" + m;
  }();
  return platform;
}

}  // namespace mcd::plugin
