#include "runtime/v2/manager.h"

#include <dirent.h>

#include <cstdio>
#include <future>

#include "events/exchange.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"
#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "pkg/log.h"
#include "runtime/v2/discard.h"
#include "runtime/v2/shim_launch.h"
#include "runtime/v2/task_events.h"
#include "runtime/v2/weak_call.h"

namespace mcd::runtime {
namespace {

using namespace std::chrono_literals;

bool IsEmptyDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return true;
  bool empty = true;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// A shim killed with SIGKILL cannot remove its socket file; its delete
// command does not either. Remove it here (abstract sockets need nothing).
void RemoveShimSocket(const std::string& bundle) {
  try {
    RemoveSocket(ParseAddress(ReadAddress(bundle)));
  } catch (const std::exception&) {
    // No address file: the shim never got as far as listening.
  }
}

// runc's root for the runc shims: their options' root, else the default
// (a different shim ignores it; noting an unused directory is harmless).
std::string RuncRoot(const google::protobuf::Any* topts) {
  containerd::runc::v1::Options o;
  if (topts && topts->type_url().ends_with("containerd.runc.v1.Options") &&
      o.ParseFromString(topts->value()) && !o.root().empty())
    return o.root();
  return kDefaultRuncRoot;
}

// The shim's own `start` command; its address.
std::string RunStart(const ShimCommand& cmd, const google::protobuf::Any* topts, ShimLog& log) {
  auto popts = cmd.Start(topts ? topts->SerializeAsString() : "");
  popts.timeout = 60s;
  log::Debug("starting shim", {{"id", cmd.id}, {"namespace", cmd.ns}, {"binary", cmd.binary}});
  process::Result res = process::Run(popts);
  if (res.exit_code != 0) {
    std::string why = process::Describe(res) + (res.timed_out ? " (timed out)" : "");
    std::string tail = log.Tail();
    // The output as containerd quotes it: untrimmed.
    throw errdefs::Unknown("failed to start shim: start failed: " + res.out + ": " + why +
                           (tail.empty() ? "" : " (shim log: " + Trim(tail) + ")"));
  }
  try {
    return ParseAddress(res.out);
  } catch (const std::exception& e) {
    throw errdefs::Unknown(std::string("failed to start shim: ") + e.what());
  }
}

}  // namespace

TaskManager::TaskManager(ManagerConfig cfg, events::Exchange* events)
    : cfg_(std::move(cfg)), events_(events), resolver_(cfg_.self) {
  fs::MkdirAll(cfg_.root, 0711);
  fs::MkdirAll(cfg_.state, 0711);
}

TaskManager::~TaskManager() = default;

ShimCommand TaskManager::Command(const Bundle& b, const std::string& binary) const {
  ShimCommand c;
  c.binary = binary;
  c.ns = b.ns();
  c.id = b.id();
  c.bundle = b.path();
  c.grpc_address = cfg_.grpc_address;
  c.ttrpc_address = cfg_.ttrpc_address;
  c.self = cfg_.self;
  c.debug = log::Enabled(log::Level::kDebug);
  c.sched_core = cfg_.sched_core;
  return c;
}

// ---------------------------------------------------------------- create

std::shared_ptr<Task> TaskManager::Create(const Context& ctx, const std::string& id,
                                          const CreateOpts& opts) {
  const std::string& ns = ctx.Namespace();
  const std::string key = ns + "/" + id;
  {
    std::unique_lock lk(mu_);
    if (closing_) throw errdefs::Unavailable("runtime is shutting down");
    if (tasks_.Find(ns, id)) throw errdefs::AlreadyExists("task " + id);
    // A create of the same id in flight: containerd's second create fails
    // making the bundle directory the first one made.
    if (creating_.count(key))
      throw errdefs::Unknown("failed to start shim: mkdir " + cfg_.state + "/" + ns + "/" + id +
                             ": file exists");
    creating_.insert(key);
    // A deleted task of the same id may still be shutting its shim down: a
    // new shim would find that one's socket (the address derives from the
    // id) and hand it back. Wait until that shim has answered its Shutdown
    // and closed the connection (containerd's Delete waits for the first).
    cv_.wait_for(lk, 5s, [&] { return !retiring_.count(key) || closing_; });
  }
  // The lock is not held from here on: a shim may call back into the
  // daemon's API while it starts.
  struct Release {
    TaskManager* m;
    std::string key;
    ~Release() {
      std::lock_guard lk(m->mu_);
      m->creating_.erase(key);
    }
  } release{this, key};

  std::string binary;
  try {
    binary = resolver_.Resolve(opts.runtime);
  } catch (const std::exception& e) {
    throw errdefs::Unknown(std::string("failed to start shim: failed to resolve runtime path: ") +
                           e.what());
  }

  Bundle bundle = Bundle::Create(cfg_.root, cfg_.state, ns, id, opts.spec);
  std::shared_ptr<ShimLog> shim_log;
  std::shared_ptr<Task> task;
  try {
    shim_log = ShimLog::Open(bundle.path());
    const google::protobuf::Any* topts = nullptr;
    if (opts.task_options && !opts.task_options->value().empty())
      topts = &*opts.task_options;
    else if (opts.runtime_options)
      topts = &*opts.runtime_options;
    host_dirs_.NoteTask(ns, RuncRoot(topts), opts.spec);
    ShimCommand cmd = Command(bundle, binary);
    std::optional<std::string> direct;
    if (runc_start_.Applies(cmd, opts.spec, topts)) {
      try {
        direct = runc_start_.Start(cmd);
      } catch (const std::exception& e) {
        throw errdefs::Unknown(std::string("failed to start shim: start failed: ") + e.what());
      }
    }
    std::string address = direct ? *direct : RunStart(cmd, topts, *shim_log);
    // Kept for reconnecting and deleting after a restart.
    WriteFile(bundle.File("shim-binary-path"), binary, 0600);
    std::shared_ptr<ttrpc::Client> client;
    try {
      client = ttrpc::Client::Connect(address, 10s);
    } catch (const std::exception& e) {
      // The shim said where it listens but nothing is there: make sure it
      // does not linger.
      auto d = cmd.Delete();
      d.timeout = cfg_.delete_timeout;
      process::Run(d);
      throw errdefs::Unknown(std::string("failed to start shim: ") + e.what());
    }
    task = std::make_shared<Task>(bundle, cmd, opts.runtime, client, shim_log);

    taskapi::CreateTaskRequest req;
    req.set_id(id);
    req.set_bundle(bundle.path());
    for (const auto& m : opts.rootfs) *req.add_rootfs() = m;
    req.set_terminal(opts.terminal);
    req.set_stdin(opts.stdin_path);
    req.set_stdout(opts.stdout_path);
    req.set_stderr(opts.stderr_path);
    req.set_checkpoint(opts.checkpoint);
    if (topts) *req.mutable_options() = *topts;
    taskapi::CreateTaskResponse resp;
    try {
      task->Call("Create", req, &resp);
    } catch (const errdefs::Error& e) {
      // Undo in the shim, then stop it; the bundle goes below.
      taskapi::DeleteRequest dr;
      dr.set_id(id);
      taskapi::DeleteResponse dresp;
      bool dead = false;
      try {
        task->Call("Delete", dr, &dresp, 5s);
      } catch (const errdefs::Error& de) {
        dead = de.code() == errdefs::Code::kUnavailable;
      }
      if (!dead) {
        taskapi::ShutdownRequest sr;
        sr.set_id(id);
        google::protobuf::Empty empty;
        try {
          task->Call("Shutdown", sr, &empty, 3s);
        } catch (const std::exception&) {
        }
      }
      // Then the shim's delete command, as containerd's cleanup after a
      // shim that went away: runc's create may have succeeded before the
      // shim failed (on its IO, say), and the shim's Delete does not know
      // that container: the command force-deletes it.
      auto d = cmd.Delete();
      d.timeout = cfg_.delete_timeout;
      try {
        process::Run(d);
      } catch (const std::exception&) {
      }
      // The shim's error as containerd's client turns it ("...: unknown"),
      // wrapped: gRPC clients see that text, not only Go ones.
      auto shim_err = ttrpc::PeerError(e);
      throw errdefs::Error(shim_err.code(),
                           std::string("failed to create shim task: ") + shim_err.what());
    }
    task->set_pid(resp.pid());
  } catch (...) {
    if (task) task->Close();
    if (shim_log) shim_log->Close();
    RemoveShimSocket(bundle.path());
    try {
      bundle.Delete();
    } catch (const std::exception& e) {
      log::Error("failed to remove bundle", {{"id", id}, {"error", e.what()}});
    }
    throw;
  }
  {
    std::lock_guard lk(mu_);
    tasks_.Put(ns, id, task);
  }
  Watch(task);
  return task;
}

// ---------------------------------------------------------------- lookups

std::shared_ptr<Task> TaskManager::Get(const std::string& ns, const std::string& id) const {
  std::lock_guard lk(mu_);
  if (auto t = tasks_.Find(ns, id)) return t;
  throw errdefs::Error(errdefs::Code::kNotFound, "task " + id + " not found");
}

std::vector<std::shared_ptr<Task>> TaskManager::List(const std::string& ns) const {
  std::lock_guard lk(mu_);
  return tasks_.List(ns);
}

bool TaskManager::HasTasks(const std::string& ns) const {
  std::lock_guard lk(mu_);
  return tasks_.HasAny(ns);
}

size_t TaskManager::PendingCleanups() const {
  std::lock_guard lk(mu_);
  return jobs_.Pending() + dead_.size();
}

void TaskManager::Erase(const std::string& ns, const std::string& id, const Task* t) {
  std::lock_guard lk(mu_);
  tasks_.Erase(ns, id, t);
}

// ---------------------------------------------------------------- delete

Exit TaskManager::Delete(const Context& ctx, const std::string& id) {
  const std::string& ns = ctx.Namespace();
  auto task = Get(ns, id);
  if (!task->BeginDelete()) {
    if (task->phase() == Task::Phase::kDeleting)
      throw errdefs::FailedPrecondition("task " + id + " is being deleted");
    // The shim died: its cleanup records the exit (at once when done).
    Exit e = task->WaitStopped();
    Erase(ns, id, task.get());
    return e;
  }
  Exit exit;
  taskapi::DeleteRequest req;
  req.set_id(id);
  taskapi::DeleteResponse resp;
  bool shim_gone = false;
  try {
    task->Call("Delete", req, &resp);
    exit.pid = resp.pid();
    exit.status = resp.exit_status();
    exit.at = FromTimestamp(resp.exited_at());
  } catch (const errdefs::Error& e) {
    if (e.code() == errdefs::Code::kUnavailable) {
      shim_gone = true;
    } else if (e.code() != errdefs::Code::kNotFound) {
      task->AbortDelete();
      if (!task->connected()) OnShimLost(task);  // died while refusing
      throw errdefs::Error(e.code(), std::string("failed to delete task: ") + e.what());
    }
  }
  if (shim_gone) {
    // The shim died under us: its `delete` command reports the exit.
    task->Close();
    auto d = task->command().Delete();
    d.timeout = cfg_.delete_timeout;
    try {
      auto r = process::Run(d);
      if (r.exit_code == 0)
        exit = ParseDeleteOutput(r.out);
      else
        exit = Exit{0, 255, std::chrono::system_clock::now()};
    } catch (const std::exception&) {
      exit = Exit{0, 255, std::chrono::system_clock::now()};
    }
    try {
      task->bundle().Delete();
    } catch (const std::exception& e) {
      log::Error("failed to delete bundle", {{"id", id}, {"error", e.what()}});
    }
    Erase(ns, id, task.get());
    task->SetStopped(exit);
    return exit;
  }
  // The shim deleted the process and unmounted the rootfs. What the caller
  // must see is done here: rootfs unmounted, the id free again. The shim's
  // shutdown and the bundle's files are not its wait.
  Bundle::Retired files;
  try {
    files = task->bundle().Retire();
  } catch (const std::exception& e) {
    log::Error("failed to delete bundle", {{"id", id}, {"error", e.what()}});
  }
  {
    std::lock_guard lk(mu_);
    retiring_.insert(ns + "/" + id);
  }
  Erase(ns, id, task.get());
  task->SetStopped(exit);
  Retire(task, std::move(files));
  return exit;
}

void TaskManager::InBackground(std::function<void()> fn) {
  jobs_.Run(shared_from_this(), std::move(fn));
}

void TaskManager::Retire(std::shared_ptr<Task> t, Bundle::Retired files) {
  // Blocking calls: never on the io threads.
  InBackground([this, t = std::move(t), files = std::move(files)] {
    taskapi::ShutdownRequest sr;
    sr.set_id(t->id());
    google::protobuf::Empty empty;
    bool shut = false;
    try {
      t->Call("Shutdown", sr, &empty, 3s);
      shut = true;
    } catch (const std::exception& e) {
      if (t->connected())
        log::Warn("failed to shutdown shim task and the shim might be leaked",
                  {{"id", t->id()}, {"error", e.what()}});
    }
    // The shim exits after its answer, closing the connection and removing
    // its socket: wait for that (bounded), so a new task of the same id
    // gets a shim of its own, and no shim outlives the daemon's Close.
    if (shut) {
      auto gone = std::make_shared<std::promise<void>>();
      t->OnClose([gone] { gone->set_value(); });
      gone->get_future().wait_for(2s);
    }
    t->Close();
    {
      std::lock_guard lk(mu_);
      auto it = retiring_.find(t->ns() + "/" + t->id());
      if (it != retiring_.end()) retiring_.erase(it);
    }
    cv_.notify_all();
    try {
      files.Remove();
    } catch (const std::exception& e) {
      log::Error("failed to delete bundle", {{"id", t->id()}, {"error", e.what()}});
    }
  });
}

// A bundle retired by a Delete whose shim's Shutdown a crash cut off: the
// shim may still run (its container is gone). When something answers at its
// address, it is asked to shut down on a thread (a hung shim never holds
// start-up); then its socket and files go.
void TaskManager::FinishRetired(const std::string& ns, const std::string& hidden) {
  auto remove = [hidden] {
    RemoveShimSocket(hidden);
    try {
      fs::RemoveAll(hidden);
    } catch (const std::exception& e) {
      log::Error("failed to delete bundle", {{"path", hidden}, {"error", e.what()}});
    }
  };
  std::shared_ptr<ttrpc::Client> client;
  try {
    // Refused or missing fails at once: nothing runs.
    client = ttrpc::Client::Connect(ParseAddress(ReadAddress(hidden)), cfg_.connect_timeout);
  } catch (const std::exception&) {
  }
  if (!client) {
    remove();
    return;
  }
  InBackground([ns, hidden, client, remove] {
    std::string name = hidden.substr(hidden.rfind('/') + 2);  // "<id>.<n>"
    taskapi::ShutdownRequest sr;
    sr.set_id(name.substr(0, name.rfind('.')));
    google::protobuf::Empty empty;
    try {
      client->Call(kTaskService, "Shutdown", sr, &empty, {.ns = ns, .timeout = 3s});
    } catch (const std::exception&) {
      // The shim exits while answering (the connection drops): expected.
    }
    client->Close();
    log::Info("shut down the shim of a deleted task", {{"id", sr.id()}, {"namespace", ns}});
    remove();
  });
}

// ---------------------------------------------------------------- shim loss

void TaskManager::Watch(const std::shared_ptr<Task>& t) {
  t->OnClose(WeakCall(weak_from_this(), t, &TaskManager::OnShimLost));
}

void TaskManager::OnShimLost(const std::shared_ptr<Task>& t) {
  {
    std::lock_guard lk(mu_);
    if (closing_) return;  // our own shutdown closed it; the shim lives on
  }
  if (!t->MarkDead()) return;  // a Delete owns it
  log::Info("shim disconnected", {{"id", t->id()}, {"namespace", t->ns()}});
  Spawn(Dead{t->bundle(), t->command(), t});
}

void TaskManager::Spawn(Dead d) {
  // Cleanup blocks on the shim's delete command: never on the io threads,
  // and one slow shim never holds up another.
  InBackground([this, d = std::move(d)]() mutable { Cleanup(std::move(d)); });
}

void TaskManager::Cleanup(Dead d) {
  const std::string& id = d.bundle.id();
  const std::string& ns = d.bundle.ns();
  log::Warn("cleaning up after shim disconnected", {{"id", id}, {"namespace", ns}});
  Exit exit{0, 255, std::chrono::system_clock::now()};
  if (!d.cmd.binary.empty()) {
    auto opts = d.cmd.Delete();
    opts.timeout = cfg_.delete_timeout;
    try {
      auto r = process::Run(opts);
      if (r.exit_code == 0) {
        exit = ParseDeleteOutput(r.out);
        if (!r.err.empty()) log::Warn("cleanup warnings " + Trim(r.err), {{"id", id}});
      } else {
        log::Warn("failed to clean up after shim disconnected",
                  {{"id", id}, {"error", Trim(r.err)}});
      }
    } catch (const std::exception& e) {
      log::Warn("failed to clean up after shim disconnected", {{"id", id}, {"error", e.what()}});
    }
  }
  RemoveShimSocket(d.bundle.path());
  try {
    d.bundle.Delete();
  } catch (const std::exception& e) {
    log::Error("failed to delete bundle", {{"id", id}, {"error", e.what()}});
  }
  // As containerd's, a task whose shim died is gone once cleaned up: no
  // stopped task is left for a client to delete. It goes before the events
  // so a client that saw /tasks/delete finds no task.
  if (d.task) {
    d.task->SetStopped(exit);
    Erase(ns, id, d.task.get());
  }
  if (events_ && !d.cmd.binary.empty() && !d.at_startup) {
    Context ctx = MakeContext(ns);
    try {
      events_->Publish(ctx, "/tasks/exit", TaskExitEvent(id, exit));
      events_->Publish(ctx, "/tasks/delete", TaskDeleteEvent(id, exit));
    } catch (const std::exception& e) {
      log::Error("publish task exit", {{"id", id}, {"error", e.what()}});
    }
  }
}

// ---------------------------------------------------------------- start-up

std::shared_ptr<Task> TaskManager::Connect(const Bundle& b, const ShimCommand& cmd,
                                           const std::string& runtime, const std::string& address) {
  auto client = ttrpc::Client::Connect(address, cfg_.connect_timeout);
  std::shared_ptr<ShimLog> shim_log;
  try {
    shim_log = ShimLog::Open(b.path());
  } catch (...) {
    client->Close();
    throw;
  }
  return std::make_shared<Task>(b, cmd, runtime, client, shim_log);
}

void TaskManager::Load() {
  const auto started = std::chrono::steady_clock::now();
  host_dirs_.Persist(cfg_.state + "/.host-dirs");
  struct Candidate {
    Bundle bundle;
    ShimCommand cmd;
    std::string address;
    std::shared_ptr<Task> task;  // set once dialled
    std::string error;
    bool ok = false;
  };
  std::vector<std::shared_ptr<Candidate>> found;
  std::vector<Dead> dead;

  for (const auto& ns : SubDirs(cfg_.state)) {
    if (ns.empty() || ns[0] == '.') continue;
    std::string nsdir = cfg_.state + "/" + ns;
    for (const auto& id : SubDirs(nsdir)) {
      // ".<id>.<n>": a delete interrupted by a crash; finish it.
      if (id[0] == '.') {
        FinishRetired(ns, nsdir + "/" + id);
        continue;
      }
      Bundle b = Bundle::Load(cfg_.state, ns, id);
      if (IsEmptyDir(b.path())) {
        b.Delete();
        continue;
      }
      std::string binary;
      try {
        binary = Trim(fs::ReadFile(b.File("shim-binary-path")));
      } catch (const std::exception&) {
      }
      if (binary.empty()) {
        // Crashed before the shim started: nothing runs, nothing to report.
        log::Warn("removing bundle without a shim", {{"id", id}, {"namespace", ns}});
        try {
          b.Delete();
        } catch (const std::exception& e) {
          log::Error("failed to delete bundle", {{"id", id}, {"error", e.what()}});
        }
        continue;
      }
      ShimCommand cmd = Command(b, binary);
      try {
        found.push_back(std::make_shared<Candidate>(
            Candidate{b, cmd, ParseAddress(ReadAddress(b.path())), nullptr, "", false}));
      } catch (const std::exception& e) {
        log::Info("shim not reachable", {{"id", id}, {"namespace", ns}, {"error", e.what()}});
        dead.push_back(Dead{b, cmd, nullptr});
      }
    }
  }

  // Every shim at once: dial (a unix socket connect answers at once: refused
  // or missing means dead, fail fast) and send Connect straight away, so a
  // shim wakes once and N shims cost about one round trip, each bounded by
  // connect_timeout.
  struct Pending {
    std::mutex mu;
    std::condition_variable cv;
    size_t n = 0;
  };
  auto pending = std::make_shared<Pending>();
  for (auto& c : found) {
    try {
      c->task = Connect(c->bundle, c->cmd, c->cmd.binary, c->address);
    } catch (const std::exception& e) {
      c->error = e.what();
      continue;
    }
    taskapi::ConnectRequest req;
    req.set_id(c->task->id());
    {
      std::lock_guard lk(pending->mu);
      ++pending->n;
    }
    c->task->AsyncCall("Connect", req, cfg_.connect_timeout,
                       [c, pending](std::exception_ptr err, std::string payload) {
                         taskapi::ConnectResponse resp;
                         if (err) {
                           try {
                             std::rethrow_exception(err);
                           } catch (const std::exception& e) {
                             c->error = e.what();
                           }
                         } else if (resp.ParseFromString(payload)) {
                           c->task->set_pid(resp.task_pid());
                           c->ok = true;
                         } else {
                           c->error = "malformed connect response";
                         }
                         std::lock_guard lk(pending->mu);
                         if (--pending->n == 0) pending->cv.notify_all();
                       });
  }
  {
    std::unique_lock lk(pending->mu);
    pending->cv.wait(lk, [&] { return pending->n == 0; });
  }

  std::vector<std::shared_ptr<Task>> watch;
  {
    std::lock_guard lk(mu_);
    for (auto& c : found) {
      if (c->ok) {
        tasks_.Put(c->task->ns(), c->task->id(), c->task);
        watch.push_back(c->task);
      } else if (!c->task) {
        log::Info("shim not reachable",
                  {{"id", c->bundle.id()}, {"namespace", c->bundle.ns()}, {"error", c->error}});
        dead.push_back(Dead{c->bundle, c->cmd, nullptr});
      } else {
        log::Warn("shim not responding", {{"id", c->task->id()}, {"error", c->error}});
        c->task->Close();
        dead.push_back(Dead{c->bundle, c->cmd, nullptr});
      }
    }
  }
  for (auto& t : watch) Watch(t);

  // Work dirs without a bundle belong to nothing; hidden ones were retired.
  for (const auto& ns : SubDirs(cfg_.root)) {
    for (const auto& id : SubDirs(cfg_.root + "/" + ns)) {
      if (id[0] == '.' || !fs::Exists(cfg_.state + "/" + ns + "/" + id))
        fs::RemoveAll(cfg_.root + "/" + ns + "/" + id);
    }
  }

  std::lock_guard lk(mu_);
  for (auto& d : dead) {
    // Kept until its cleanup is done (not listed; a container delete waits).
    auto t = std::make_shared<Task>(d.bundle, d.cmd, d.cmd.binary, nullptr, nullptr);
    t->MarkDead();
    tasks_.Put(d.bundle.ns(), d.bundle.id(), t);
    d.task = t;
    d.at_startup = true;
    dead_.push_back(std::move(d));
  }
  // One line for users timing a restart: walk, dial and Connect of every
  // shim (dead ones are cleaned up after, once the daemon serves).
  char msg[96];
  std::snprintf(
      msg, sizeof msg, "reconnected %zu shims in %.1f ms", watch.size(),
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
          .count());
  log::Info(msg, {{"dead", std::to_string(dead_.size())}});
}

void TaskManager::Serving() {
  std::vector<Dead> dead;
  {
    std::lock_guard lk(mu_);
    serving_ = true;
    dead.swap(dead_);
  }
  for (auto& d : dead) Spawn(std::move(d));
}

void TaskManager::Close() {
  std::vector<std::shared_ptr<Task>> all;
  {
    std::lock_guard lk(mu_);
    closing_ = true;
    all = tasks_.List("");
  }
  for (auto& t : all) t->Close();
  {
    std::unique_lock lk(mu_);
    jobs_.WaitIdle(lk, 15s);
  }
  host_dirs_.RemoveEmpty();
}

void TaskManager::Discard() {
  DiscardTasks(*this);
}

}  // namespace mcd::runtime
