#pragma once
// A ttrpc client over a unix socket, wire-compatible with
// github.com/containerd/ttrpc (v1.1): many concurrent calls on one
// connection, odd stream ids, per-call timeout, request metadata.
// A failed call throws errdefs::Error with the gRPC code of the status the
// peer sent; a lost connection fails every pending call with Unavailable.
#include <google/protobuf/message.h>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mcd::ttrpc {

struct CallOptions {
  std::string ns;  // sent as containerd-namespace-ttrpc when not empty
  std::chrono::nanoseconds timeout{0};  // 0: none
  std::vector<std::pair<std::string, std::string>> metadata;
};

class Client {
 public:
  virtual ~Client() = default;

  // "unix:///path", "/path" or "@abstract" / "unix://@abstract".
  // Throws Unavailable when nothing listens (fast: refused or missing).
  static std::shared_ptr<Client> Connect(const std::string& address,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Blocking call with raw payloads.
  virtual std::string Call(const std::string& service, const std::string& method,
                           const std::string& payload, const CallOptions& opts = {}) = 0;
  // Completion-callback call; done runs on the io threads (must not block).
  virtual void AsyncCall(const std::string& service, const std::string& method,
                         std::string payload, const CallOptions& opts,
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
