#include "runtime/v1/shim_api.h"

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "pkg/context.h"
#include "pkg/errdefs.h"
#include "pkg/log.h"
#include "runtime/v1/translate.h"

namespace mcd::runtime::v1 {

void ShimApiV1::LoadCgroup(uint32_t pid) {
  if (pid == 0) return;
  std::optional<cgroupstats::Cgroup> cg;
  try {
    cg = cgroupstats::Load(static_cast<pid_t>(pid));
  } catch (const errdefs::Error& e) {
    if (e.code() != errdefs::Code::kNotFound)
      log::Warn("load task cgroup", {{"id", id_}, {"error", e.what()}});
  }
  std::lock_guard lk(mu_);
  cgroup_ = std::move(cg);
}

std::string ShimApiV1::Stats() {
  std::optional<cgroupstats::Cgroup> cg;
  {
    std::lock_guard lk(mu_);
    cg = cgroup_;
  }
  if (!cg) throw errdefs::NotFound("cgroup does not exist");
  taskapi::StatsResponse r;
  *r.mutable_stats() = cgroupstats::ToAny(cgroupstats::Stat(*cg));
  return r.SerializeAsString();
}

std::string ShimApiV1::Call(const std::string& method, const std::string& req,
                            const ttrpc::CallOptions& opts) {
  if (method == "Stats") return Stats();
  ShimCall c = ToShim(method, req);
  std::string out = FromShim(method, client_->Call(kShimService, c.method, c.payload, opts));
  Published(method, req, out);
  return out;
}

void ShimApiV1::AsyncCall(const std::string& method, const std::string& req,
                          const ttrpc::CallOptions& opts,
                          std::function<void(std::exception_ptr, std::string)> done) {
  if (method == "Stats") {
    std::string out;
    try {
      out = Stats();
    } catch (...) {
      done(std::current_exception(), "");
      return;
    }
    done(nullptr, std::move(out));
    return;
  }
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
  // Start's request and response, parsed once: the cgroup and the event.
  taskapi::StartRequest start;
  taskapi::StartResponse started;
  if (method == "Start") {
    start.ParseFromString(req);
    started.ParseFromString(resp);
    // A task created without a cgroup gets the one its started init has.
    bool loaded;
    {
      std::lock_guard lk(mu_);
      loaded = cgroup_.has_value();
    }
    if (!loaded && start.exec_id().empty()) LoadCgroup(started.pid());
  }
  if (!events_) return;
  try {
    Context ctx = MakeContext(ns_);
    if (method == "Start") {
      if (start.exec_id().empty()) {
        containerd::events::TaskStart e;
        e.set_container_id(id_);
        e.set_pid(started.pid());
        events_->Publish(ctx, "/tasks/start", e);
      } else {
        containerd::events::TaskExecStarted e;
        e.set_container_id(id_);
        e.set_exec_id(start.exec_id());
        e.set_pid(started.pid());
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
