#include "services/grpc_util.h"

#include "pkg/blocking_pool.h"
#include "pkg/errdefs.h"
#include "pkg/log.h"
#include "pkg/utf8.h"

namespace mcd::services {
namespace {

std::string Header(const grpc::ServerContextBase& sc, const char* key) {
  const auto& md = sc.client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return {};
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

Context ContextFrom(const grpc::ServerContextBase& sc) {
  Context ctx = MakeContext(Header(sc, kNamespaceHeader), Header(sc, kLeaseHeader));
  auto deadline = sc.deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    ctx.deadline = std::chrono::steady_clock::now() +
                   std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       deadline - std::chrono::system_clock::now());
  }
  return ctx;
}

grpc::Status ToStatus(const std::exception& e) {
  auto code = errdefs::CodeOf(e);
  // grpc-go sends a message's invalid UTF-8 as U+FFFD: containerd's clients
  // see that, whatever bytes of theirs an error quotes.
  return grpc::Status(static_cast<grpc::StatusCode>(code), utf8::Valid(e.what()));
}

// A failed request's status; the unexpected ones are logged.
static grpc::Status Failed(const std::exception& e) {
  auto st = ToStatus(e);
  if (st.error_code() == grpc::StatusCode::UNKNOWN ||
      st.error_code() == grpc::StatusCode::INTERNAL) {
    log::Error("request failed", {{"error", e.what()}});
  }
  return st;
}

grpc::Status Handle(const grpc::ServerContextBase* sc,
                    const std::function<void(const Context&)>& fn) {
  try {
    fn(ContextFrom(*sc));
    return grpc::Status::OK;
  } catch (const std::exception& e) {
    return Failed(e);
  }
}

grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* sc, Runs runs,
                                std::function<void(const Context&)> fn) {
  auto* reactor = sc->DefaultReactor();
  if (runs == Runs::kInline) {
    reactor->Finish(Handle(sc, fn));
    return reactor;
  }
  // The request, response and context live until Finish.
  try {
    BlockingPool::Default().Post(
        [sc, reactor, fn = std::move(fn)] { reactor->Finish(Handle(sc, fn)); });
  } catch (const std::exception& e) {
    reactor->Finish(ToStatus(e));
  }
  return reactor;
}

grpc::ServerUnaryReactor* Deferred(grpc::CallbackServerContext* sc,
                                   std::function<void(const Context&, Done)> fn) {
  auto* reactor = sc->DefaultReactor();
  Done done = [reactor](std::exception_ptr err) {
    if (!err) return reactor->Finish(grpc::Status::OK);
    try {
      std::rethrow_exception(err);
    } catch (const std::exception& e) {
      reactor->Finish(Failed(e));
    } catch (...) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNKNOWN, "unknown error"));
    }
  };
  grpc::Status st = Handle(sc, [&](const Context& ctx) { fn(ctx, done); });
  if (!st.ok()) reactor->Finish(st);
  return reactor;
}

}  // namespace mcd::services
