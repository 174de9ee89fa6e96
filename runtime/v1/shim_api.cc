#include "runtime/v1/shim_api.h"

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "pkg/context.h"
#include "pkg/log.h"
#include "runtime/v1/translate.h"

namespace mcd::runtime::v1 {

std::string ShimApiV1::Call(const std::string& method, const std::string& req,
                            const ttrpc::CallOptions& opts) {
  ShimCall c = ToShim(method, req);
  std::string out = FromShim(method, client_->Call(kShimService, c.method, c.payload, opts));
  Published(method, req, out);
  return out;
}

void ShimApiV1::AsyncCall(const std::string& method, const std::string& req,
                          const ttrpc::CallOptions& opts,
                          std::function<void(std::exception_ptr, std::string)> done) {
  ShimCall c = ToShim(method, req);
  client_->AsyncCall(kShimService, c.method, c.payload, opts,
                     [self = shared_from_this(), method, req, done = std::move(done)](
                         std::exception_ptr err, std::string payload) {
                       if (err) {
                         done(err, "");
                         return;
                       }
                       std::string out;
                       try {
                         out = FromShim(method, payload);
                       } catch (...) {
                         done(std::current_exception(), "");
                         return;
                       }
                       self->Published(method, req, out);
                       done(nullptr, std::move(out));
                     });
}

void ShimApiV1::Published(const std::string& method, const std::string& req,
                          const std::string& resp) {
  if (!events_) return;
  try {
    Context ctx = MakeContext(ns_);
    if (method == "Start") {
      taskapi::StartRequest r;
      taskapi::StartResponse s;
      r.ParseFromString(req);
      s.ParseFromString(resp);
      if (r.exec_id().empty()) {
        containerd::events::TaskStart e;
        e.set_container_id(id_);
        e.set_pid(s.pid());
        events_->Publish(ctx, "/tasks/start", e);
      } else {
        containerd::events::TaskExecStarted e;
        e.set_container_id(id_);
        e.set_exec_id(r.exec_id());
        e.set_pid(s.pid());
        events_->Publish(ctx, "/tasks/exec-started", e);
      }
    } else if (method == "Pause") {
      containerd::events::TaskPaused e;
      e.set_container_id(id_);
      events_->Publish(ctx, "/tasks/paused", e);
    } else if (method == "Resume") {
      containerd::events::TaskResumed e;
      e.set_container_id(id_);
      events_->Publish(ctx, "/tasks/resumed", e);
    } else if (method == "Checkpoint") {
      containerd::events::TaskCheckpointed e;
      e.set_container_id(id_);
      events_->Publish(ctx, "/tasks/checkpointed", e);
    }
  } catch (const std::exception& e) {
    log::Error("publish task event", {{"id", id_}, {"error", e.what()}});
  }
}

}  // namespace mcd::runtime::v1
