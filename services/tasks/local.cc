#include "services/tasks/local.h"

#include <future>
#include <latch>
#include <optional>

#include "github.com/containerd/containerd/api/types/metrics.pb.h"
#include "pkg/errdefs.h"
#include "pkg/filters.h"
#include "pkg/fs.h"
#include "pkg/identifiers.h"
#include "pkg/log.h"
#include "pkg/timestamp.h"
#include "runtime/v1/runtime.h"
#include "services/tasks/checkpoint.h"
#include "ttrpc/client.h"

namespace mcd::services::tasks {
namespace {

using namespace std::chrono_literals;
namespace taskapi = runtime::taskapi;
using ProcessProto = containerd::v1::types::Process;

// containerd's stateTimeout: a hung shim does not hang List.
constexpr auto kStateTimeout = 2s;

void FromState(const std::string& id, const taskapi::StateResponse& s, ProcessProto* p) {
  p->set_id(id);
  p->set_pid(s.pid());
  p->set_status(s.status());
  p->set_stdin(s.stdin());
  p->set_stdout(s.stdout());
  p->set_stderr(s.stderr());
  p->set_terminal(s.terminal());
  p->set_exit_status(s.exit_status());
  *p->mutable_exited_at() = s.exited_at();
}

bool Live(const runtime::Task& t) {
  auto ph = t.phase();
  return ph == runtime::Task::Phase::kLive || ph == runtime::Task::Phase::kDeleting;
}

// An error of a shim call as containerd's shim client passes it on
// (errdefs.FromGRPC): the message ends in its class's text once, codes
// without a class are Unknown; a lost connection (ttrpc's ErrClosed) too.
std::exception_ptr ShimError(std::exception_ptr err) {
  try {
    std::rethrow_exception(err);
  } catch (const errdefs::Error& e) {
    return std::make_exception_ptr(ttrpc::PeerError(e));
  } catch (...) {
  }
  return err;
}

// A State call's error: on a lost connection containerd's shim client
// answers plain "not found" (the task or process is taken as gone).
std::exception_ptr StateError(std::exception_ptr err) {
  try {
    std::rethrow_exception(err);
  } catch (const errdefs::Error& e) {
    if (ttrpc::IsClosed(e))
      return std::make_exception_ptr(errdefs::Error(errdefs::Code::kNotFound, "not found"));
  } catch (...) {
  }
  return ShimError(err);
}

// An error's class and text.
std::pair<errdefs::Code, std::string> Unwrap(std::exception_ptr err) {
  try {
    std::rethrow_exception(err);
  } catch (const std::exception& e) {
    return {errdefs::CodeOf(e), e.what()};
  } catch (...) {
    return {errdefs::Code::kUnknown, "unknown error"};
  }
}

void ShimState(runtime::Task& t, const std::string& exec_id, taskapi::StateResponse* resp) {
  taskapi::StateRequest req;
  req.set_id(t.id());
  req.set_exec_id(exec_id);
  try {
    t.Call("State", req, resp, kStateTimeout);
  } catch (const errdefs::Error&) {
    std::rethrow_exception(StateError(std::current_exception()));
  }
}

template <class Resp>
void ShimCall(runtime::Task& t, const std::string& method, const google::protobuf::Message& req,
              Resp* resp, std::chrono::nanoseconds timeout = std::chrono::nanoseconds(0)) {
  try {
    t.Call(method, req, resp, timeout);
  } catch (const errdefs::Error&) {
    std::rethrow_exception(ShimError(std::current_exception()));
  }
}

// A task whose shim died (its cleanup running, then it is gone) answers as
// containerd's: a process looked up by exec id is "not found" (the State
// call that finds it fails on the closed connection), any other call fails
// on the closed connection.
void RequireLive(const runtime::Task& t, const std::string& exec_id = "") {
  if (Live(t)) return;
  if (!exec_id.empty()) throw errdefs::Error(errdefs::Code::kNotFound, "not found");
  throw errdefs::Unknown("ttrpc: closed: unknown");
}

}  // namespace

runtime::PlatformRuntime& Local::RuntimeFor(const std::string& name) {
  if (name == runtime::v1::kRuntimeName && v1_) return *v1_;
  return *tasks_;
}

std::shared_ptr<runtime::Task> Local::FindTask(const std::string& ns, const std::string& id) const {
  for (runtime::PlatformRuntime* r :
       {static_cast<runtime::PlatformRuntime*>(tasks_.get()), v1_.get()}) {
    if (!r) continue;
    try {
      return r->Get(ns, id);
    } catch (const errdefs::Error&) {
    }
  }
  return nullptr;
}

std::vector<std::shared_ptr<runtime::Task>> Local::AllTasks(const std::string& ns) const {
  // v1 first, as containerd lists its runtimes.
  std::vector<std::shared_ptr<runtime::Task>> all;
  if (v1_) all = v1_->List(ns);
  for (auto& t : tasks_->List(ns)) all.push_back(std::move(t));
  return all;
}

std::shared_ptr<runtime::Task> Local::GetTask(const Context& ctx, const std::string& id) {
  GetContainer(containers_, ctx, id);  // NotFound for an unknown container first, as containerd
  if (auto t = FindTask(ctx.Namespace(), id)) return t;
  throw errdefs::Error(errdefs::Code::kNotFound, "task " + id + " not found");
}

void Local::CheckProcess(runtime::Task& t, const std::string& exec_id) {
  RequireLive(t, exec_id);
  taskapi::StateResponse resp;
  ShimState(t, exec_id, &resp);
}

void Local::CheckContainerDelete(const Context& ctx, const std::string& id) {
  std::shared_ptr<runtime::Task> t = FindTask(ctx.Namespace(), id);
  if (!t) return;  // no task
  // A task whose dead shim is being cleaned up goes away once that is done
  // (containerd has none after a restart: it cleans up before it serves):
  // wait for the rootfs to be unmounted rather than refuse.
  if (t->phase() == runtime::Task::Phase::kDead) {
    t->WaitStopped();
    return;
  }
  throw errdefs::FailedPrecondition("cannot delete running task " + id);
}

void Local::Create(const Context& ctx, const api::CreateTaskRequest& req,
                   api::CreateTaskResponse* resp) {
  ContainerInfo c = GetContainer(containers_, ctx, req.container_id());
  runtime::CreateOpts opts;
  // A restore: the runtime's own image path, or the checkpoint blob unpacked
  // into a directory that lives until the shim has restored from it.
  opts.checkpoint = RestoreImagePath(c.runtime, req.has_options() ? &req.options() : nullptr);
  std::shared_ptr<fs::TempDir> unpacked;
  if (opts.checkpoint.empty() && req.has_checkpoint()) {
    unpacked = std::make_shared<fs::TempDir>("ctrd-checkpoint");
    ExtractCheckpoint(*content_, ctx, req.checkpoint(), unpacked->path());
    opts.checkpoint = unpacked->path();
  }
  opts.spec = c.spec;
  opts.stdin_path = req.stdin();
  opts.stdout_path = req.stdout();
  opts.stderr_path = req.stderr();
  opts.terminal = req.terminal();
  opts.runtime = req.runtime_path().empty() ? c.runtime : req.runtime_path();
  opts.runtime_options = c.runtime_options;
  if (req.has_options()) opts.task_options = req.options();
  for (const auto& m : req.rootfs()) opts.rootfs.push_back(m);
  if (c.runtime == runtime::v1::kRuntimeName)
    log::Warn("runtime v1 is deprecated since containerd v1.4, consider using runtime v2");
  else if (c.runtime == "io.containerd.runc.v1")
    log::Warn(
        "\"io.containerd.runc.v1\" is deprecated since containerd v1.4, consider using "
        "\"io.containerd.runc.v2\"");
  // The v1 runtime takes the container's runtime options as RuncOptions.
  auto t = RuntimeFor(c.runtime).Create(ctx, req.container_id(), opts);
  // containerd's monitor.Monitor: the cgroups monitor watches a v1 task's
  // memory cgroup for OOMs (a v2 shim reports its own).
  if (monitor_ && t->runtime() == runtime::v1::kRuntimeName) {
    try {
      monitor_->Monitor(ctx.Namespace(), req.container_id(), static_cast<pid_t>(t->pid()));
    } catch (const std::exception& e) {
      throw errdefs::Error(errdefs::CodeOf(e), std::string("monitor task: ") + e.what());
    }
  }
  if (unpacked) {
    std::lock_guard lk(restores_mu_);
    restores_[ctx.Namespace() + "/" + req.container_id()] = std::move(unpacked);
  }
  resp->set_container_id(req.container_id());
  resp->set_pid(t->pid());
}

void Local::Start(const Context& ctx, const api::StartRequest& req, api::StartResponse* resp) {
  auto t = GetTask(ctx, req.container_id());
  RequireLive(*t, req.exec_id());
  taskapi::StartRequest sr;
  sr.set_id(t->id());
  sr.set_exec_id(req.exec_id());
  taskapi::StartResponse r;
  ShimCall(*t, "Start", sr, &r);
  if (req.exec_id().empty()) t->set_pid(r.pid());
  resp->set_pid(r.pid());
}

void Local::Delete(const Context& ctx, const api::DeleteTaskRequest& req,
                   api::DeleteResponse* resp) {
  auto t = GetTask(ctx, req.container_id());
  if (monitor_) monitor_->Stop(ctx.Namespace(), req.container_id());  // containerd's monitor.Stop
  runtime::Exit e = RuntimeFor(t->runtime()).Delete(ctx, req.container_id());
  {
    std::lock_guard lk(restores_mu_);
    restores_.erase(ctx.Namespace() + "/" + req.container_id());
  }
  resp->set_pid(e.pid);
  resp->set_exit_status(e.status);
  *resp->mutable_exited_at() = ToTimestamp(e.at);
}

void Local::DeleteProcess(const Context& ctx, const api::DeleteProcessRequest& req,
                          api::DeleteResponse* resp) {
  auto t = GetTask(ctx, req.container_id());
  CheckProcess(*t, req.exec_id());
  taskapi::DeleteRequest dr;
  dr.set_id(t->id());
  dr.set_exec_id(req.exec_id());
  taskapi::DeleteResponse r;
  ShimCall(*t, "Delete", dr, &r);
  resp->set_id(req.exec_id());
  resp->set_pid(r.pid());
  resp->set_exit_status(r.exit_status());
  *resp->mutable_exited_at() = r.exited_at();
}

void Local::Get(const Context& ctx, const api::GetRequest& req, api::GetResponse* resp,
                std::function<void(std::exception_ptr)> done) {
  auto t = GetTask(ctx, req.container_id());
  // Its State fails on the closed connection: containerd's "not found".
  if (!Live(*t)) throw errdefs::Error(errdefs::Code::kNotFound, "not found");
  taskapi::StateRequest sr;
  sr.set_id(t->id());
  sr.set_exec_id(req.exec_id());
  const std::string exec_id = req.exec_id();
  t->AsyncCall("State", sr, kStateTimeout,
               [t, exec_id, resp, done](std::exception_ptr err, std::string payload) {
                 taskapi::StateResponse s;
                 if (!err && !s.ParseFromString(payload))
                   err = std::make_exception_ptr(errdefs::Internal("malformed state response"));
                 if (err) {
                   err = StateError(err);
                   auto [code, what] = Unwrap(err);
                   // As containerd's: an exec's lookup fails with the error;
                   // the task's state does only when not found, else (a hung
                   // shim's timeout, say) it is listed by id with an unknown
                   // status.
                   if (!exec_id.empty() || code == errdefs::Code::kNotFound) return done(err);
                   log::Error("get state for " + t->id(), {{"error", what}});
                   resp->mutable_process()->set_id(t->id());
                   return done(nullptr);
                 }
                 FromState(exec_id.empty() ? t->id() : exec_id, s, resp->mutable_process());
                 done(nullptr);
               });
}

void Local::Get(const Context& ctx, const api::GetRequest& req, api::GetResponse* resp) {
  std::promise<std::exception_ptr> answered;
  Get(ctx, req, resp, [&answered](std::exception_ptr err) { answered.set_value(err); });
  if (auto err = answered.get_future().get()) std::rethrow_exception(err);
}

void Local::List(const Context& ctx, const api::ListTasksRequest&, api::ListTasksResponse* resp) {
  // containerd 1.6 ignores the filter here too.
  auto all = AllTasks(ctx.Namespace());
  struct Slot {
    ProcessProto p;
    bool keep = true;
  };
  std::vector<Slot> slots(all.size());
  std::vector<size_t> live;
  for (size_t i = 0; i < all.size(); ++i) {
    // A task whose shim died is not listed, as containerd's (its State fails).
    if (Live(*all[i]))
      live.push_back(i);
    else
      slots[i].keep = false;
  }
  // Every shim is asked at once: List costs one round trip, not N.
  std::latch done(static_cast<std::ptrdiff_t>(live.size()));
  for (size_t i : live) {
    auto& t = all[i];
    taskapi::StateRequest sr;
    sr.set_id(t->id());
    try {
      t->AsyncCall("State", sr, kStateTimeout,
                   [&slots, i, t, &done](std::exception_ptr err, std::string payload) {
                     taskapi::StateResponse s;
                     if (!err && s.ParseFromString(payload)) {
                       FromState(t->id(), s, &slots[i].p);
                     } else {
                       bool not_found = false;
                       try {
                         if (err) std::rethrow_exception(err);
                       } catch (const errdefs::Error& e) {
                         not_found = e.code() == errdefs::Code::kNotFound;
                       } catch (...) {
                       }
                       if (not_found)
                         slots[i].keep = false;  // raced with a delete
                       else
                         slots[i].p.set_id(t->id());  // listed with unknown status
                     }
                     done.count_down();
                   });
    } catch (const std::exception&) {
      slots[i].p.set_id(t->id());
      done.count_down();
    }
  }
  done.wait();
  for (auto& s : slots)
    if (s.keep) *resp->add_tasks() = std::move(s.p);
}

void Local::Kill(const Context& ctx, const api::KillRequest& req) {
  auto t = GetTask(ctx, req.container_id());
  RequireLive(*t, req.exec_id());
  taskapi::KillRequest kr;
  kr.set_id(t->id());
  kr.set_exec_id(req.exec_id());
  kr.set_signal(req.signal());
  kr.set_all(req.all());
  google::protobuf::Empty e;
  ShimCall(*t, "Kill", kr, &e);
}

void Local::Exec(const Context& ctx, const api::ExecProcessRequest& req) {
  if (req.exec_id().empty())
    throw errdefs::Error(errdefs::Code::kInvalidArgument, "exec id cannot be empty");
  auto t = GetTask(ctx, req.container_id());
  try {
    identifiers::Validate(req.exec_id());
  } catch (const errdefs::Error& e) {
    throw errdefs::Error(e.code(), "invalid exec id " + req.exec_id() + ": " + e.what());
  }
  RequireLive(*t);
  taskapi::ExecProcessRequest er;
  er.set_id(t->id());
  er.set_exec_id(req.exec_id());
  er.set_terminal(req.terminal());
  er.set_stdin(req.stdin());
  er.set_stdout(req.stdout());
  er.set_stderr(req.stderr());
  if (req.has_spec()) *er.mutable_spec() = req.spec();
  google::protobuf::Empty e;
  ShimCall(*t, "Exec", er, &e);
}

void Local::ResizePty(const Context& ctx, const api::ResizePtyRequest& req) {
  auto t = GetTask(ctx, req.container_id());
  RequireLive(*t, req.exec_id());
  taskapi::ResizePtyRequest rr;
  rr.set_id(t->id());
  rr.set_exec_id(req.exec_id());
  rr.set_width(req.width());
  rr.set_height(req.height());
  google::protobuf::Empty e;
  ShimCall(*t, "ResizePty", rr, &e);
}

void Local::CloseIO(const Context& ctx, const api::CloseIORequest& req) {
  auto t = GetTask(ctx, req.container_id());
  RequireLive(*t, req.exec_id());
  // containerd looks the process up first (NotFound for an unknown exec).
  if (!req.exec_id().empty()) CheckProcess(*t, req.exec_id());
  if (!req.stdin()) return;
  taskapi::CloseIORequest cr;
  cr.set_id(t->id());
  cr.set_exec_id(req.exec_id());
  cr.set_stdin(true);
  google::protobuf::Empty e;
  ShimCall(*t, "CloseIO", cr, &e);
}

void Local::Pause(const Context& ctx, const api::PauseTaskRequest& req) {
  auto t = GetTask(ctx, req.container_id());
  RequireLive(*t);
  taskapi::PauseRequest pr;
  pr.set_id(t->id());
  google::protobuf::Empty e;
  ShimCall(*t, "Pause", pr, &e);
}

void Local::Resume(const Context& ctx, const api::ResumeTaskRequest& req) {
  auto t = GetTask(ctx, req.container_id());
  RequireLive(*t);
  taskapi::ResumeRequest rr;
  rr.set_id(t->id());
  google::protobuf::Empty e;
  ShimCall(*t, "Resume", rr, &e);
}

void Local::ListPids(const Context& ctx, const api::ListPidsRequest& req,
                     api::ListPidsResponse* resp) {
  auto t = GetTask(ctx, req.container_id());
  RequireLive(*t);
  taskapi::PidsRequest pr;
  pr.set_id(t->id());
  taskapi::PidsResponse r;
  ShimCall(*t, "Pids", pr, &r);
  *resp->mutable_processes() = r.processes();
}

void Local::Checkpoint(const Context& ctx, const api::CheckpointTaskRequest& req,
                       api::CheckpointTaskResponse* resp) {
  ContainerInfo c = GetContainer(containers_, ctx, req.container_id());
  auto t = GetTask(ctx, req.container_id());
  RequireLive(*t);
  const google::protobuf::Any* options = req.has_options() ? &req.options() : nullptr;
  std::string image = CheckpointImagePath(c.runtime, options);
  // Without an image path the runtime writes to a scratch directory that
  // then goes to the content store.
  std::optional<fs::TempDir> scratch;
  if (image.empty()) {
    scratch.emplace("ctd-checkpoint");
    image = scratch->path();
  }
  taskapi::CheckpointTaskRequest cr;
  cr.set_id(t->id());
  cr.set_path(image);
  if (options) *cr.mutable_options() = *options;
  google::protobuf::Empty e;
  ShimCall(*t, "Checkpoint", cr, &e);
  if (!scratch) return;
  auto* tar = resp->add_descriptors();  // the image first, then its spec
  auto* spec = resp->add_descriptors();
  WriteCheckpoint(*content_, ctx, image, c.spec_any, tar, spec);
}

void Local::Update(const Context& ctx, const api::UpdateTaskRequest& req) {
  auto t = GetTask(ctx, req.container_id());
  RequireLive(*t);
  taskapi::UpdateTaskRequest ur;
  ur.set_id(t->id());
  if (req.has_resources()) *ur.mutable_resources() = req.resources();
  *ur.mutable_annotations() = req.annotations();
  google::protobuf::Empty e;
  ShimCall(*t, "Update", ur, &e);
}

void Local::Metrics(const Context& ctx, const api::MetricsRequest& req,
                    api::MetricsResponse* resp) {
  auto filter = filters::ParseAll({req.filters().begin(), req.filters().end()});
  // The caller's namespace, matching id/namespace, as containerd 1.6.
  for (const auto& t : AllTasks(ctx.Namespace())) {
    bool match =
        filter.Match([&](const std::vector<std::string>& path) -> std::optional<std::string> {
          if (path.empty()) return std::nullopt;
          if (path[0] == "id") return t->id();
          if (path[0] == "namespace") return t->ns();
          return std::nullopt;
        });
    if (!match || !Live(*t)) continue;
    auto collected = std::chrono::system_clock::now();
    taskapi::StatsRequest sr;
    sr.set_id(t->id());
    taskapi::StatsResponse r;
    try {
      ShimCall(*t, "Stats", sr, &r, kStateTimeout);
    } catch (const errdefs::Error& e) {
      if (e.code() != errdefs::Code::kNotFound)
        log::Error("collecting metrics for " + t->id(), {{"error", e.what()}});
      continue;
    }
    auto* m = resp->add_metrics();
    *m->mutable_timestamp() = ToTimestamp(collected);
    m->set_id(t->id());
    *m->mutable_data() = r.stats();
  }
}

void Local::Wait(const Context& ctx, const api::WaitRequest& req,
                 std::function<void(std::exception_ptr, const api::WaitResponse&)> done) {
  auto t = GetTask(ctx, req.container_id());
  auto from_exit = [done](const runtime::Exit& e) {
    api::WaitResponse r;
    r.set_exit_status(e.status);
    *r.mutable_exited_at() = ToTimestamp(e.at);
    done(nullptr, r);
  };
  RequireLive(*t, req.exec_id());
  taskapi::WaitRequest wr;
  wr.set_id(t->id());
  wr.set_exec_id(req.exec_id());
  t->AsyncCall("Wait", wr, std::chrono::nanoseconds(0),
               [t, done, from_exit](std::exception_ptr err, std::string payload) {
                 api::WaitResponse r;
                 if (!err) {
                   taskapi::WaitResponse w;
                   if (!w.ParseFromString(payload)) {
                     done(std::make_exception_ptr(errdefs::Internal("malformed wait response")), r);
                     return;
                   }
                   r.set_exit_status(w.exit_status());
                   *r.mutable_exited_at() = w.exited_at();
                   done(nullptr, r);
                   return;
                 }
                 try {
                   std::rethrow_exception(err);
                 } catch (const errdefs::Error& e) {
                   // The shim died: the exit comes from its cleanup.
                   if (e.code() == errdefs::Code::kUnavailable && !t->connected()) {
                     t->OnStopped(from_exit);
                     return;
                   }
                 } catch (...) {
                 }
                 done(ShimError(err), r);
               });
}

namespace {
plugin::Registrar reg{{
    .type = plugin::kService,
    .id = "tasks-service",
    .requires_ = {plugin::kEvent, plugin::kRuntime, plugin::kRuntimeV2, plugin::kMetadata,
                  monitor::kTaskMonitor},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      std::shared_ptr<runtime::PlatformRuntime> v1;
      try {
        v1 = ic.GetAs<runtime::v1::Runtime>(plugin::kRuntime, "linux");
      } catch (const std::exception&) {
        // Disabled or failed: v1 containers then fail as on containerd
        // without it (no such shim binary).
      }
      std::shared_ptr<monitor::CgroupsMonitor> mon;
      try {
        mon = ic.GetAs<monitor::CgroupsMonitor>(monitor::kTaskMonitor, "cgroups");
      } catch (const std::exception&) {
        // Disabled: no OOM events for v1 tasks, as containerd's no-op monitor.
      }
      auto db = ic.GetAs<metadata::DB>(plugin::kMetadata);
      // As containerd at start-up: the v1 tasks reconnected are monitored
      // again (errors only logged). The runtime knows them in every
      // namespace: no walk over the stored namespaces.
      if (v1 && mon) {
        for (const auto& t : v1->List("")) {
          try {
            mon->Monitor(t->ns(), t->id(), static_cast<pid_t>(t->pid()));
          } catch (const std::exception& e) {
            log::Warn("monitor task", {{"id", t->id()}, {"error", e.what()}});
          }
        }
      }
      return std::make_shared<Local>(db, ic.GetAs<runtime::TaskManager>(plugin::kRuntimeV2, "task"),
                                     v1, mon);
    },
}};
}  // namespace

}  // namespace mcd::services::tasks
