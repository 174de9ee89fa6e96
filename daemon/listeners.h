#pragma once
// Listeners beside gRPC: the ttrpc socket (<grpc address>.ttrpc) serving the
// io.containerd.ttrpc.v1 plugins.
#include "daemon/config.h"
#include "plugins/plugin.h"

namespace mcd::daemon {

class Listeners {
 public:
  Listeners(const Config& cfg, const plugin::Set& set);
  ~Listeners();
  void Start();
  void Stop();

 private:
  const Config& cfg_;
  const plugin::Set& set_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mcd::daemon
