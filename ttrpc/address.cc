#include "ttrpc/address.h"

#include <sys/un.h>

#include "pkg/errdefs.h"

namespace mcd::ttrpc {

std::string SocketPath(const std::string& address) {
  constexpr std::string_view kScheme = "unix://";
  std::string path;
  if (address.starts_with(kScheme)) {
    path = address.substr(kScheme.size());
    if (path.starts_with('@')) path[0] = '\0';
  } else if (address.starts_with('@')) {
    path = address;
    path[0] = '\0';
  } else if (address.starts_with('/')) {
    path = address;
  } else {
    path = std::string(1, '\0') + address;
  }
  if (path.empty() || path == std::string(1, '\0')) {
    throw errdefs::InvalidArgument("empty socket address \"" + address + "\"");
  }
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    throw errdefs::InvalidArgument("socket address too long: \"" + address + "\"");
  }
  return path;
}

}  // namespace mcd::ttrpc
