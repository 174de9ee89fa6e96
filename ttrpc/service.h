#pragma once
// A plugin instance, of any type, that serves on the daemon's ttrpc socket
// (containerd's RegisterTTRPC): registers its methods on the server.
#include "plugins/plugin.h"
#include "ttrpc/server.h"

namespace mcd::ttrpc {

class TtrpcService : public virtual plugin::Instance {
 public:
  virtual void RegisterOn(Server& server) = 0;
};

}  // namespace mcd::ttrpc
