#pragma once
// A ttrpc server on a unix socket: handlers registered by service and method
// name, the request context built from ttrpc metadata
// (containerd-namespace-ttrpc). Bad input is answered as
// github.com/containerd/ttrpc answers it and the connection stays up: an
// oversized frame gets ResourceExhausted (its body is skipped), an
// undecodable request or an even stream id InvalidArgument, an unknown
// service or method Unimplemented ("service X" / "method Y"), a frame of
// another type is ignored.
#include <functional>
#include <memory>
#include <string>

#include "pkg/context.h"
#include "ttrpc/frame.h"  // kMaxMessageSize

namespace mcd::ttrpc {

class Server {
 public:
  // Returns the response payload or throws (errdefs::Error -> its status).
  // Runs on the server's handler pool, never on the io threads: it may block.
  using Handler = std::function<std::string(const Context& ctx, const std::string& payload)>;

  struct Options {
    // Handlers run on this many threads; further requests wait their turn.
    int handler_threads = 4;
    // Requests of one connection being handled or queued before the server
    // stops reading from it (backpressure instead of unbounded memory).
    size_t max_inflight_per_conn = 128;
    // Refuse peers whose SO_PEERCRED uid/gid differ from ours, as
    // containerd's ttrpc listener (UnixSocketRequireSameUser).
    bool require_same_user = false;
  };

  static std::unique_ptr<Server> Create();
  static std::unique_ptr<Server> Create(Options opts);
  virtual ~Server() = default;

  virtual void Register(const std::string& service, const std::string& method, Handler h) = 0;
  // Binds and serves a unix socket ("/path", "unix:///path", "@abstract").
  // A stale socket file is removed; a live one is refused (FailedPrecondition).
  // The file is removed again at Shutdown.
  virtual void Listen(const std::string& path) = 0;
  // Stops accepting, lets running handlers finish and their responses go out,
  // closes connections, waits for the handler pool. Idempotent; never call
  // from a handler or an io thread.
  virtual void Shutdown() = 0;
};

}  // namespace mcd::ttrpc
