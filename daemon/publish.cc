#include "daemon/publish.h"

#include <cstdio>

namespace mcd::daemon {

int Publish(const PublishFlags&) {
  std::fprintf(stderr, "publish: not implemented yet\n");
  return 1;
}

}  // namespace mcd::daemon
