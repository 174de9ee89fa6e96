#include "services/restart/monitor.h"

#include <csignal>
#include <optional>

#include "github.com/containerd/containerd/api/events/container.pb.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "pkg/errdefs.h"
#include "pkg/log.h"

namespace mcd::services::restart {
namespace {

namespace tapi = containerd::services::tasks::v1;

const char* StatusName(containerd::v1::types::Status s) {
  switch (s) {
    case containerd::v1::types::CREATED:
      return "created";
    case containerd::v1::types::RUNNING:
      return "running";
    case containerd::v1::types::STOPPED:
      return "stopped";
    case containerd::v1::types::PAUSED:
      return "paused";
    case containerd::v1::types::PAUSING:
      return "pausing";
    default:
      return "unknown";
  }
}

// The container an event is about; empty for the others.
std::string ContainerOf(const events::Envelope& env) {
  const auto& any = env.event();
  if (env.topic() == "/containers/create") {
    containerd::events::ContainerCreate e;
    if (e.ParseFromString(any.value())) return e.id();
  } else if (env.topic() == "/containers/update") {
    containerd::events::ContainerUpdate e;
    if (e.ParseFromString(any.value())) return e.id();
  } else if (env.topic() == "/tasks/exit") {
    containerd::events::TaskExit e;
    if (e.ParseFromString(any.value())) return e.container_id();
  } else if (env.topic() == "/tasks/delete") {
    containerd::events::TaskDelete e;
    if (e.ParseFromString(any.value())) return e.container_id();
  }
  return "";
}

}  // namespace

Monitor::Monitor(std::shared_ptr<namespaces::Local> namespaces,
                 std::shared_ptr<containers::Local> containers,
                 std::shared_ptr<snapshots::Local> snapshots, std::shared_ptr<tasks::Local> tasks,
                 events::Exchange* events, Clock::duration interval)
    : namespaces_(std::move(namespaces)),
      containers_(std::move(containers)),
      snapshots_(std::move(snapshots)),
      tasks_(std::move(tasks)),
      events_(events),
      interval_(interval) {}

Monitor::~Monitor() {
  Close();
}

void Monitor::Serving() {
  sub_ = events_->Subscribe({"topic==\"/containers/create\"", "topic==\"/containers/update\"",
                             "topic==\"/tasks/exit\"", "topic==\"/tasks/delete\""},
                            [this](const events::Envelope& env) { OnEvent(env); });
  worker_ = std::thread([this] { Run(); });
  Schedule(Key{}, Clock::now());  // every namespace, once
}

void Monitor::Close() {
  sub_.reset();
  {
    std::lock_guard lk(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Monitor::OnEvent(const events::Envelope& env) {
  std::string id = ContainerOf(env);
  if (id.empty()) return;
  // containerd's monitor only looks at a container on its next round, up to
  // an interval later. Clients rely on that gap: one that creates (or
  // relabels) a container creates and starts its task itself right after
  // (nerdctl run --restart, containerd's TestRestartMonitor), one that kills a
  // task deletes it and the container right after. Acting at once raced both
  // ("file exists" on the client's NewTask, "being deleted" on its Delete).
  Schedule(Key{env.namespace_(), id}, Clock::now() + interval_);
}

void Monitor::Schedule(const Key& k, Clock::time_point at) {
  {
    std::lock_guard lk(mu_);
    auto [it, added] = due_.emplace(k, at);
    if (!added && at < it->second) it->second = at;
  }
  cv_.notify_all();
}

void Monitor::Run() {
  std::unique_lock lk(mu_);
  while (!closing_) {
    auto next = due_.begin();
    for (auto it = due_.begin(); it != due_.end(); ++it)
      if (it->second < next->second) next = it;
    if (next == due_.end()) {
      cv_.wait(lk);
      continue;
    }
    if (next->second > Clock::now()) {
      cv_.wait_until(lk, next->second);
      continue;
    }
    Key k = next->first;
    due_.erase(next);
    lk.unlock();
    try {
      if (k.ns.empty()) {
        namespaces::api::ListNamespacesResponse resp;
        namespaces_->List(MakeContext(""), {}, &resp);
        for (const auto& n : resp.namespaces()) Schedule(Key{n.name(), ""}, Clock::now());
      } else if (k.id.empty()) {
        CheckNamespace(k.ns);
      } else {
        Context ctx = MakeContext(k.ns);
        containers::api::GetContainerRequest req;
        req.set_id(k.id);
        containers::api::GetContainerResponse resp;
        try {
          containers_->Get(ctx, req, &resp);
        } catch (const errdefs::Error& e) {
          if (e.code() != errdefs::Code::kNotFound) throw;
        }
        if (resp.has_container()) {
          Check(ctx, resp.container());
        } else {
          std::lock_guard g(mu_);
          last_act_.erase(k);
        }
      }
    } catch (const std::exception& e) {
      log::Error("restart monitor", {{"namespace", k.ns}, {"id", k.id}, {"error", e.what()}});
      Schedule(k, Clock::now() + interval_);  // as containerd's next round would
    }
    lk.lock();
  }
}

void Monitor::CheckNamespace(const std::string& ns) {
  Context ctx = MakeContext(ns);
  containers::api::ListContainersRequest req;
  req.add_filters(std::string("labels.\"") + kStatusLabel + "\"");
  containers::api::ListContainersResponse resp;
  containers_->List(ctx, req, &resp);
  for (const auto& c : resp.containers()) Schedule(Key{ns, c.id()}, Clock::now());
}

void Monitor::Check(const Context& ctx, const containers::api::Container& c) {
  auto want = c.labels().find(kStatusLabel);
  if (want == c.labels().end()) return;
  const std::string& desired = want->second;
  std::string current = "stopped";  // no task, or no answer: as containerd
  try {
    tapi::GetRequest req;
    req.set_container_id(c.id());
    tapi::GetResponse resp;
    tasks_->Get(ctx, req, &resp);
    current = StatusName(resp.process().status());
  } catch (const errdefs::Error&) {
  }
  if (current == desired || (desired != "running" && desired != "stopped")) return;

  const Key k{ctx.Namespace(), c.id()};
  const auto now = Clock::now();
  std::optional<Clock::time_point> later;
  {
    std::lock_guard lk(mu_);
    auto [last, first] = last_act_.emplace(k, now);
    if (!first && now < last->second + interval_)
      later = last->second + interval_;  // acted on a moment ago (a task that dies at once)
    else
      last->second = now;
  }
  if (later) {
    Schedule(k, *later);
    return;
  }
  log::Info("restart monitor: changing task status",
            {{"namespace", k.ns}, {"id", c.id()}, {"from", current}, {"to", desired}});
  if (desired == "running")
    StartTask(ctx, c);
  else
    StopTask(ctx, c.id());
}

void Monitor::StopTask(const Context& ctx, const std::string& id) {
  tapi::DeleteTaskRequest del;
  del.set_container_id(id);
  tapi::DeleteResponse dresp;
  auto remove = [&] {
    try {
      tasks_->Delete(ctx, del, &dresp);
      return true;
    } catch (const errdefs::Error&) {
      return false;
    }
  };
  struct Exited {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  auto exited = std::make_shared<Exited>();
  tapi::WaitRequest wr;
  wr.set_container_id(id);
  try {
    tasks_->Wait(ctx, wr, [exited](std::exception_ptr, const tapi::WaitResponse&) {
      std::lock_guard lk(exited->mu);
      exited->done = true;
      exited->cv.notify_all();
    });
  } catch (const errdefs::Error& e) {
    if (e.code() == errdefs::Code::kNotFound || remove()) return;  // no task, or gone now
    throw;
  }
  tapi::KillRequest kr;
  kr.set_container_id(id);
  kr.set_signal(SIGKILL);
  kr.set_all(true);
  try {
    tasks_->Kill(ctx, kr);
  } catch (const errdefs::Error&) {
    if (remove()) return;  // it had exited already
    throw;
  }
  {
    std::unique_lock lk(exited->mu);
    // Bounded so a stop of the daemon is never held for long.
    exited->cv.wait_for(lk, std::chrono::seconds(10), [&] { return exited->done; });
  }
  tasks_->Delete(ctx, del, &dresp);
}

void Monitor::StartTask(const Context& ctx, const containers::api::Container& c) {
  StopTask(ctx, c.id());
  tapi::CreateTaskRequest req;
  req.set_container_id(c.id());
  // The rootfs comes with the request, as the Go client's NewTask sends it.
  if (!c.snapshot_key().empty()) {
    if (c.snapshotter().empty())
      throw errdefs::InvalidArgument(
          "unable to resolve rootfs mounts without snapshotter on container");
    snapshots::api::MountsRequest mreq;
    mreq.set_snapshotter(c.snapshotter());
    mreq.set_key(c.snapshot_key());
    snapshots::api::MountsResponse mresp;
    snapshots_->Mounts(ctx, mreq, &mresp);
    for (const auto& m : mresp.mounts()) *req.add_rootfs() = m;
  }
  std::string log;
  if (auto u = c.labels().find(kLogURILabel); u != c.labels().end() && !u->second.empty()) {
    log = u->second;
  } else if (auto p = c.labels().find(kLogPathLabel); p != c.labels().end() && !p->second.empty()) {
    if (p->second[0] != '/') throw errdefs::InvalidArgument("absolute path needed: " + p->second);
    log = "file://" + p->second;
  }
  req.set_stdout(log);
  req.set_stderr(log);
  tapi::CreateTaskResponse resp;
  tasks_->Create(ctx, req, &resp);
  tapi::StartRequest sreq;
  sreq.set_container_id(c.id());
  tapi::StartResponse sresp;
  tasks_->Start(ctx, sreq, &sresp);
}

}  // namespace mcd::services::restart
