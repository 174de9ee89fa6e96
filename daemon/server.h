#pragma once
// The daemon's life: initialise the plugin graph, listen (gRPC, ttrpc) once
// every plugin is up, and shut down in reverse order.
#include <memory>
#include <string>
#include <vector>

#include "daemon/config.h"
#include "events/exchange.h"
#include "plugins/plugin.h"

namespace grpc {
class Server;
}

namespace mcd::daemon {

class Listeners;

class Server {
 public:
  explicit Server(Config cfg, std::string binary);
  ~Server();

  // Initialises every plugin in graph order. Throws on a graph error or a
  // required plugin that did not come up.
  void LoadPlugins();
  // Binds the sockets (refusing one a live daemon holds) and serves.
  void Serve();
  // Stops serving, closes plugins in reverse order, removes the sockets.
  // discard: the state goes with the daemon, so plugins first discard what
  // would outlive it (tasks are killed and deleted).
  void Shutdown(bool discard = false);

  const plugin::Set& plugins() const { return set_; }

 private:
  Config cfg_;
  plugin::DaemonInfo info_;
  events::Exchange exchange_;
  plugin::Set set_;
  std::vector<toml::table> configs_;  // kept alive: InitContext refers to them
  std::unique_ptr<grpc::Server> grpc_;
  std::unique_ptr<Listeners> extra_;
  bool shut_ = false;
};

// Fails when something answers on `path`; removes a stale socket file.
void PrepareSocket(const std::string& path);

}  // namespace mcd::daemon
