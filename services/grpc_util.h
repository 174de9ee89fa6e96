#pragma once
// The grpc layer's only helpers: the request context from gRPC metadata,
// errdefs errors to gRPC status, and where a unary handler runs. Service files
// stay free of logic.
//
// Every service uses gRPC's callback API. Mixing it with the sync API costs a
// thread handoff on every call: both kinds of threads take turns polling,
// and a request read by one kind is passed to the other.
#include <grpcpp/grpcpp.h>

#include <exception>
#include <functional>
#include <vector>

#include "pkg/context.h"
#include "plugins/plugin.h"

namespace mcd::services {

// A grpc plugin instance: the service object the daemon registers.
class GrpcService : public virtual plugin::Instance {
 public:
  virtual grpc::Service* service() = 0;
};

// Namespace and lease from the containerd-namespace / containerd-lease headers;
// an invalid namespace throws InvalidArgument.
Context ContextFrom(const grpc::ServerContextBase& sc);

grpc::Status ToStatus(const std::exception& e);

// Runs fn(ctx) and maps any exception to a gRPC status.
grpc::Status Handle(const grpc::ServerContextBase* sc,
                    const std::function<void(const Context&)>& fn);

// Where a unary handler runs. gRPC's callback threads also poll its sockets:
// a handler that blocks on one of them delays other calls' I/O.
enum class Runs {
  kInline,    // never blocks: in-memory state and metadata reads
  kBlocking,  // may block: durable writes, calls to shims or other processes,
              // file trees; runs on BlockingPool::Default()
};

// Runs fn(ctx) as Runs says and finishes the call with its status.
grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* sc, Runs runs,
                                std::function<void(const Context&)> fn);

// A handler that answers later without holding a thread: fn(ctx, done)
// starts the work (a shim call, say) and arranges for done to be called once,
// from any thread, after the response is filled (nullptr: OK). If fn throws,
// it started nothing and the call ends with its error.
using Done = std::function<void(std::exception_ptr)>;
grpc::ServerUnaryReactor* Deferred(grpc::CallbackServerContext* sc,
                                   std::function<void(const Context&, Done)> fn);

// A server stream of messages gathered up front by gather(ctx, &msgs) (one
// quick pass over metadata), written one at a time: a slow client holds no
// thread. A failed gather ends the call with its error.
template <typename Msg>
class GatheredWriter final : public grpc::ServerWriteReactor<Msg> {
 public:
  using Gather = std::function<void(const Context&, std::vector<Msg>*)>;
  GatheredWriter(grpc::CallbackServerContext* sc, const Gather& gather) {
    auto st = Handle(sc, [&](const Context& ctx) { gather(ctx, &msgs_); });
    if (!st.ok()) {
      this->Finish(st);
      return;
    }
    Next();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) return this->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "context canceled"));
    Next();
  }
  void OnDone() override { delete this; }

 private:
  void Next() {
    if (i_ >= msgs_.size()) return this->Finish(grpc::Status::OK);
    this->StartWrite(&msgs_[i_++]);
  }
  std::vector<Msg> msgs_;
  size_t i_ = 0;
};

}  // namespace mcd::services
