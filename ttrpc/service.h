#pragma once
// A ttrpc plugin instance (type io.containerd.ttrpc.v1): registers its
// methods on the daemon's ttrpc server.
#include "plugins/plugin.h"
#include "ttrpc/server.h"

namespace mcd::ttrpc {

class TtrpcService : public plugin::Instance {
 public:
  virtual void RegisterOn(Server& server) = 0;
};

}  // namespace mcd::ttrpc
