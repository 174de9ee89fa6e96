#pragma once
// A ttrpc client over a unix socket, wire-compatible with
// github.com/containerd/ttrpc (v1.1): many concurrent calls on one
// connection, odd stream ids, per-call timeout, request metadata.
// A failed call throws errdefs::Error with the gRPC code of the status the
// peer sent; a lost connection fails every pending call with Unavailable.
#include <google/protobuf/message.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "pkg/errdefs.h"

namespace mcd::ttrpc {

// Whether a call failed because the connection was lost (every pending and
// later call fails so, as ttrpc's ErrClosed).
bool IsClosed(const errdefs::Error& e);

// A call's error as containerd's ttrpc client hands it on: a lost connection
// is ttrpc's ErrClosed, which has no errdefs class ("ttrpc: closed: unknown");
// anything else goes through errdefs::FromGrpc.
errdefs::Error PeerError(const errdefs::Error& e);

// Cancels the calls that carry it: they fail at once with Canceled
// ("context canceled"). ttrpc 1.1 has no cancel message, so the server still
// runs the call; its late response is dropped.
class Cancellation {
 public:
  void Cancel();
  bool canceled() const;

  // For the client: `fn` runs once on Cancel() (at once if already
  // canceled). Returns a key for Remove.
  uint64_t Add(std::function<void()> fn);
  void Remove(uint64_t key);

 private:
  mutable std::mutex mu_;
  bool canceled_ = false;
  uint64_t next_ = 0;
  std::vector<std::pair<uint64_t, std::function<void()>>> fns_;
};

struct CallOptions {
  // Every member has a default initialiser, so designated initialisers may
  // name any subset without -Wmissing-field-initializers.
  std::string ns{};                     // sent as containerd-namespace-ttrpc when not empty
  std::chrono::nanoseconds timeout{0};  // 0: none; expiry -> DeadlineExceeded
  std::vector<std::pair<std::string, std::string>> metadata{};
  std::shared_ptr<Cancellation> cancel{};  // optional
};

class Client {
 public:
  virtual ~Client() = default;

  // "unix:///path", "/path" or "@abstract" / "unix://@abstract".
  // Throws Unavailable when nothing listens (fast: refused or missing).
  static std::shared_ptr<Client> Connect(
      const std::string& address, std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Blocking call with raw payloads. Never call from an io thread.
  virtual std::string Call(const std::string& service, const std::string& method,
                           const std::string& payload, const CallOptions& opts = {}) = 0;
  // Completion-callback call; done runs on the io threads (must not block).
  virtual void AsyncCall(const std::string& service, const std::string& method, std::string payload,
                         const CallOptions& opts,
                         std::function<void(std::exception_ptr, std::string)> done) = 0;

  template <class Resp>
  void Call(const std::string& service, const std::string& method,
            const google::protobuf::Message& req, Resp* resp, const CallOptions& opts = {}) {
    std::string out = Call(service, method, req.SerializeAsString(), opts);
    if (!resp->ParseFromString(out)) throw std::runtime_error("ttrpc: malformed response");
  }

  // Runs once when the connection is lost or closed (at once if already).
  virtual void OnClose(std::function<void()> fn) = 0;
  virtual bool closed() const = 0;
  virtual void Close() = 0;
};

}  // namespace mcd::ttrpc
