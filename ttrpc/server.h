#pragma once
// A ttrpc server on a unix socket: handlers registered by service and method
// name, the request context built from ttrpc metadata
// (containerd-namespace-ttrpc). A malformed or oversized frame closes that
// connection only.
#include <functional>
#include <memory>
#include <string>

#include "pkg/context.h"

namespace mcd::ttrpc {

inline constexpr size_t kMaxMessageSize = 4 << 20;

class Server {
 public:
  // Returns the response payload or throws (errdefs::Error -> its status).
  using Handler = std::function<std::string(const Context& ctx, const std::string& payload)>;

  static std::unique_ptr<Server> Create();
  virtual ~Server() = default;

  virtual void Register(const std::string& service, const std::string& method, Handler h) = 0;
  // Binds and serves a unix socket path (removing a stale socket file).
  virtual void Listen(const std::string& path) = 0;
  // Stops accepting, closes connections, waits for running handlers.
  virtual void Shutdown() = 0;
};

}  // namespace mcd::ttrpc
