#include "runtime/v1/runtime.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/runtime/v1/shim/v1/shim.pb.h"
#include "metadata/containers.h"
#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "pkg/identifiers.h"
#include "pkg/log.h"
#include "pkg/strings.h"
#include "runtime/v1/shim.h"
#include "runtime/v1/shim_api.h"
#include "runtime/v1/translate.h"
#include "runtime/v2/discard.h"
#include "runtime/v2/shim_launch.h"
#include "runtime/v2/task_events.h"
#include "runtime/v2/weak_call.h"

namespace mcd::runtime::v1 {

using namespace std::chrono_literals;
namespace shimapi = containerd::runtime::linux::shim::v1;

// A task's shim: the task the tasks service sees and what the runtime keeps
// beside it.
struct Runtime::Shim {
  std::string ns, id;
  std::shared_ptr<Task> task;  // set before the shim is registered
  std::shared_ptr<ttrpc::Client> client;
  std::shared_ptr<ShimLog> out, err;  // drains of shim.stdout.log / shim.stderr.log
  pid_t pid = 0;                      // the shim's

  void Close() {
    if (task) task->Close();
    if (client) client->Close();
    if (out) out->Close();
    if (err) err->Close();
  }
};

namespace {

// SubDirs without the hidden ones (atomic deletes in progress).
std::vector<std::string> VisibleSubDirs(const std::string& dir) {
  std::vector<std::string> out = SubDirs(dir);
  std::erase_if(out, [](const std::string& name) { return name[0] == '.'; });
  return out;
}

int ReadPid(const std::string& path) {
  try {
    return std::stoi(fs::ReadFile(path));
  } catch (const std::exception&) {
    return 0;
  }
}

// containerd's atomicDelete: renamed to a hidden name, then removed.
void AtomicDelete(const std::string& path) {
  auto slash = path.rfind('/');
  std::string hidden = path.substr(0, slash + 1) + "." + path.substr(slash + 1);
  if (::rename(path.c_str(), hidden.c_str()) != 0) {
    if (errno == ENOENT) return;
    throw errdefs::FromErrno(errno, "rename " + path);
  }
  fs::RemoveAll(hidden);
}

void PublishTaskExit(events::Exchange* events, const std::string& ns, const std::string& id,
                     const Exit& exit) {
  if (!events) return;
  try {
    events->Publish(MakeContext(ns), "/tasks/exit", TaskExitEvent(id, exit));
  } catch (const std::exception& e) {
    log::Error("publish task exit", {{"id", id}, {"error", e.what()}});
  }
}

void PublishTaskDelete(events::Exchange* events, const std::string& ns, const std::string& id,
                       const Exit& exit) {
  if (!events) return;
  try {
    events->Publish(MakeContext(ns), "/tasks/delete", TaskDeleteEvent(id, exit));
  } catch (const std::exception& e) {
    log::Error("publish task delete", {{"id", id}, {"error", e.what()}});
  }
}

}  // namespace

std::string ShimCgroup(const google::protobuf::Any* task_options) {
  containerd::linux::runc::CreateOptions o;
  const std::string want = "containerd.linux.runc.CreateOptions";
  if (!task_options) return "";
  const std::string& url = task_options->type_url();
  if (url.size() < want.size() || url.compare(url.size() - want.size(), want.size(), want) != 0 ||
      !o.ParseFromString(task_options->value()))
    return "";
  return o.shim_cgroup();
}

containerd::linux::runc::RuncOptions ParseRuncOptions(const google::protobuf::Any* any) {
  containerd::linux::runc::RuncOptions o;
  if (!any || (any->type_url().empty() && any->value().empty())) return o;
  const std::string want = "containerd.linux.runc.RuncOptions";
  const std::string& url = any->type_url();
  if (url.size() < want.size() || url.compare(url.size() - want.size(), want.size(), want) != 0 ||
      !o.ParseFromString(any->value()))
    throw errdefs::InvalidArgument("invalid runtime options format");
  return o;
}

Runtime::Runtime(Config cfg, events::Exchange* events, std::shared_ptr<metadata::DB> db)
    : cfg_(std::move(cfg)), events_(events), db_(std::move(db)) {
  fs::MkdirAll(cfg_.root, 0711);
  fs::MkdirAll(cfg_.state, 0711);
}

Runtime::~Runtime() = default;

std::string Runtime::BundlePath(const std::string& ns, const std::string& id) const {
  return cfg_.state + "/" + ns + "/" + id;
}

std::string Runtime::WorkDir(const std::string& ns, const std::string& id) const {
  return cfg_.root + "/" + ns + "/" + id;
}

Runtime::RuncOptions Runtime::StoredOptions(const std::string& ns, const std::string& id) const {
  try {
    auto c = metadata::ContainerStore(db_).Get(ns, id);
    return ParseRuncOptions(c.rec.has_runtime_options() ? &c.rec.runtime_options() : nullptr);
  } catch (const std::exception&) {
    return RuncOptions();
  }
}

// ---------------------------------------------------------------- create

std::shared_ptr<Task> Runtime::Create(const Context& ctx, const std::string& id,
                                      const CreateOpts& opts) {
  const std::string& ns = ctx.Namespace();
  try {
    identifiers::Validate(id);
  } catch (const errdefs::Error& e) {
    throw errdefs::Error(e.code(), std::string("invalid task id: ") + e.what());
  }
  RuncOptions ropts = ParseRuncOptions(opts.runtime_options ? &*opts.runtime_options : nullptr);
  {
    std::lock_guard lk(mu_);
    if (closing_) throw errdefs::Unavailable("runtime is shutting down");
  }
  // containerd's tasks service asks the runtime first.
  if (Find(ns, id)) throw errdefs::AlreadyExists("task " + id);

  // The bundle, as containerd's newBundle: an existing one fails the mkdir.
  const std::string path = BundlePath(ns, id);
  const std::string workdir = WorkDir(ns, id);
  fs::MkdirAll(cfg_.state + "/" + ns, 0711);
  if (::mkdir(path.c_str(), 0700) != 0)
    throw errdefs::Unknown("mkdir " + path + ": " + errdefs::ErrnoText(errno));
  auto shim = std::make_shared<Shim>();
  shim->ns = ns;
  shim->id = id;
  std::string address;
  try {
    if (unsigned gid = RemappedRootGid(opts.spec); gid != 0) {
      if (::chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0 || ::chmod(path.c_str(), 0710))
        throw errdefs::FromErrno(errno, "chown " + path);
    }
    fs::MkdirAll(workdir, 0711);
    fs::MkdirAll(path + "/rootfs", 0711);
    WriteFile(path + "/config.json", opts.spec, 0666);

    ShimConfig sc;
    sc.binary = cfg_.shim;
    sc.ns = ns;
    sc.bundle = path;
    sc.workdir = workdir;
    sc.grpc_address = cfg_.grpc_address;
    sc.self = cfg_.self;
    sc.criu = ropts.criu_path();
    sc.runtime_root = ropts.runtime_root().empty() ? cfg_.runtime_root : ropts.runtime_root();
    // An empty root: the shim's default, runc's /run/containerd/runc.
    host_dirs_.NoteTask(ns, sc.runtime_root.empty() ? kDefaultRuncRoot : sc.runtime_root,
                        opts.spec);
    sc.systemd_cgroup = ropts.systemd_cgroup();
    sc.debug = cfg_.shim_debug;
    sc.cgroup = ShimCgroup(opts.task_options ? &*opts.task_options : nullptr);
    address = SocketAddress(cfg_.grpc_address, ns, id);
    // A reader on the fifos first: the shim's writes never block on them.
    shim->out = ShimLog::OpenFifo(workdir + "/shim.stdout.log", cfg_.shim_debug);
    shim->err = ShimLog::OpenFifo(workdir + "/shim.stderr.log", cfg_.shim_debug);
    shim->pid = StartShim(sc, address, WeakCall(weak_from_this(), shim, &Runtime::OnShimLost));
    try {
      shim->client = ttrpc::Client::Connect(address, 10s);
    } catch (const std::exception& e) {
      throw errdefs::Unknown(std::string("failed to connect: ") + e.what());
    }
    shimapi::CreateTaskRequest req;
    req.set_id(id);
    req.set_bundle(path);
    req.set_runtime(ropts.runtime().empty() ? cfg_.runtime : ropts.runtime());
    req.set_stdin(opts.stdin_path);
    req.set_stdout(opts.stdout_path);
    req.set_stderr(opts.stderr_path);
    req.set_terminal(opts.terminal);
    req.set_checkpoint(opts.checkpoint);
    if (opts.task_options) *req.mutable_options() = *opts.task_options;
    for (const auto& m : opts.rootfs) {
      auto* o = req.add_rootfs();
      o->set_type(m.type());
      o->set_source(m.source());
      *o->mutable_options() = m.options();
    }
    shimapi::CreateTaskResponse resp;
    try {
      shim->client->Call(kShimService, "Create", req, &resp, {.ns = ns});
    } catch (const errdefs::Error& e) {
      throw ttrpc::PeerError(e);  // the shim's error as it is, as containerd's
    }
    auto api = std::make_shared<ShimApiV1>(shim->client, events_, ns, id);
    shim->task = std::make_shared<Task>(Bundle::Load(cfg_.state, ns, id), ShimCommand{},
                                        kRuntimeName, shim->client, nullptr, api);
    shim->task->set_pid(resp.pid());
    api->LoadCgroup(resp.pid());

    std::lock_guard lk(mu_);
    shims_.Put(ns, id, shim);
  } catch (...) {
    if (shim->pid > 0) KillShim(shim->pid, 10s);
    shim->Close();
    if (!address.empty()) RemoveSocket(address);
    try {
      UnmountAll(path + "/rootfs");
      AtomicDelete(path);
      AtomicDelete(workdir);
    } catch (const std::exception& e) {
      log::Error("failed to remove bundle", {{"id", id}, {"error", e.what()}});
    }
    throw;
  }
  Watch(shim);

  if (events_) {
    containerd::events::TaskCreate ev;
    ev.set_container_id(id);
    ev.set_bundle(path);
    for (const auto& m : opts.rootfs) *ev.add_rootfs() = m;
    ev.mutable_io()->set_stdin(opts.stdin_path);
    ev.mutable_io()->set_stdout(opts.stdout_path);
    ev.mutable_io()->set_stderr(opts.stderr_path);
    ev.mutable_io()->set_terminal(opts.terminal);
    ev.set_checkpoint(opts.checkpoint);
    ev.set_pid(shim->task->pid());
    try {
      events_->Publish(ctx, "/tasks/create", ev);
    } catch (const std::exception& e) {
      log::Error("publish task create", {{"id", id}, {"error", e.what()}});
    }
  }
  return shim->task;
}

// ---------------------------------------------------------------- lookups

std::shared_ptr<Runtime::Shim> Runtime::Find(const std::string& ns, const std::string& id) const {
  std::lock_guard lk(mu_);
  return shims_.Find(ns, id);
}

std::shared_ptr<Task> Runtime::Get(const std::string& ns, const std::string& id) const {
  auto s = Find(ns, id);
  if (!s) throw errdefs::Error(errdefs::Code::kNotFound, "task " + id + " not found");
  return s->task;
}

std::vector<std::shared_ptr<Task>> Runtime::List(const std::string& ns) const {
  std::vector<std::shared_ptr<Task>> out;
  std::lock_guard lk(mu_);
  for (const auto& s : shims_.List(ns)) out.push_back(s->task);
  return out;
}

bool Runtime::HasTasks(const std::string& ns) const {
  std::lock_guard lk(mu_);
  return shims_.HasAny(ns);
}

void Runtime::Erase(const std::string& ns, const std::string& id, const Shim* s) {
  std::lock_guard lk(mu_);
  shims_.Erase(ns, id, s);
}

void Runtime::RemoveBundle(const std::string& ns, const std::string& id) const {
  const std::string path = BundlePath(ns, id);
  try {
    RemoveSocket(TrimSpace(fs::ReadFile(path + "/address")));
  } catch (const std::exception&) {
  }
  try {
    UnmountAll(path + "/rootfs");
    AtomicDelete(path);
    AtomicDelete(WorkDir(ns, id));
  } catch (const std::exception& e) {
    log::Error("delete bundle", {{"id", id}, {"error", e.what()}});
  }
}

// ---------------------------------------------------------------- delete

Exit Runtime::Delete(const Context& ctx, const std::string& id) {
  const std::string& ns = ctx.Namespace();
  auto s = Find(ns, id);
  if (!s) throw errdefs::Error(errdefs::Code::kNotFound, "task " + id + " not found");
  auto& task = s->task;
  if (!task->BeginDelete()) {
    if (task->phase() == Task::Phase::kDeleting)
      throw errdefs::FailedPrecondition("task " + id + " is being deleted");
    return task->WaitStopped();  // its dead shim's cleanup reports the exit
  }
  shimapi::DeleteResponse resp;
  std::optional<errdefs::Error> shim_err;
  try {
    s->client->Call(kShimService, "Delete", google::protobuf::Empty(), &resp, {.ns = ns});
  } catch (const errdefs::Error& e) {
    auto pe = ttrpc::PeerError(e);
    if (pe.code() != errdefs::Code::kNotFound) {
      task->AbortDelete();
      if (!s->client->closed()) throw pe;
      OnShimLost(s);  // died while refusing: clean up after it
      throw pe;
    }
    shim_err = pe;
  }
  Erase(ns, id, s.get());
  KillShim(s->pid, 10s);
  s->Close();
  RemoveBundle(ns, id);
  Exit exit{resp.pid(), resp.exit_status(), FromTimestamp(resp.exited_at())};
  task->SetStopped(exit);
  if (shim_err) throw *shim_err;
  PublishTaskDelete(events_, ns, id, exit);
  return exit;
}

// ---------------------------------------------------------------- dead shims

void Runtime::Watch(const std::shared_ptr<Shim>& s) {
  s->client->OnClose(WeakCall(weak_from_this(), s, &Runtime::OnShimLost));
}

void Runtime::OnShimLost(const std::shared_ptr<Shim>& s) {
  {
    std::lock_guard lk(mu_);
    if (closing_) return;  // our own shutdown closed it; the shim lives on
    // Not registered: a Create still running (it fails on its own) or
    // already deleted.
    if (shims_.Find(s->ns, s->id) != s) return;
  }
  if (!s->task->MarkDead()) return;  // a Delete owns it, or cleaned up already
  // Blocking work (runc delete): never on the io threads.
  InBackground([this, s] { CleanupDead(s->task->ns(), s->task->id(), s); });
}

void Runtime::InBackground(std::function<void()> fn) {
  jobs_.Run(shared_from_this(), std::move(fn));
}

void Runtime::CleanupDead(const std::string& ns, const std::string& id,
                          const std::shared_ptr<Shim>& s) {
  log::Warn("cleaning up after shim dead", {{"id", id}, {"namespace", ns}});
  const std::string path = BundlePath(ns, id);
  Exit exit{static_cast<uint32_t>(ReadPid(path + "/init.pid")), 128 + SIGKILL,
            std::chrono::system_clock::now()};
  // terminate: the container's runc state goes, then the rootfs mount.
  RuncOptions ro = StoredOptions(ns, id);
  process::Options po;
  // The root the shim gave runc: containerd's terminate ignores the
  // plugin's runtime_root (and then misses the container); this does not.
  std::string root = ro.runtime_root();
  if (root.empty()) root = cfg_.runtime_root.empty() ? "/run/containerd/runc" : cfg_.runtime_root;
  po.argv = {ro.runtime().empty() ? cfg_.runtime : ro.runtime(), "--root", root + "/" + ns};
  if (cfg_.shim_debug) po.argv.push_back("--debug");
  po.argv.insert(po.argv.end(), {"--log-format", "json", "delete", "--force", id});
  po.timeout = 60s;
  try {
    auto r = process::Run(po);
    if (r.exit_code != 0)
      log::Warn("delete runtime state " + id, {{"error", TrimSpace(r.out + r.err)}});
  } catch (const std::exception& e) {
    log::Warn("delete runtime state " + id, {{"error", e.what()}});
  }
  try {
    UnmountAll(path + "/rootfs");
  } catch (const std::exception& e) {
    log::Warn("unmount task rootfs", {{"id", id}, {"error", e.what()}});
  }
  PublishTaskExit(events_, ns, id, exit);
  pid_t shim_pid = s && s->pid > 0 ? s->pid : ReadPid(path + "/shim.pid");
  if (s) {
    Erase(ns, id, s.get());
    s->task->SetStopped(exit);
    s->Close();
  }
  RemoveBundle(ns, id);
  if (shim_pid > 0) KillShim(shim_pid, 10s);
  PublishTaskDelete(events_, ns, id, exit);
}

// ---------------------------------------------------------------- start-up

void Runtime::Load() {
  host_dirs_.Persist(cfg_.state + "/.host-dirs");
  for (const auto& ns : VisibleSubDirs(cfg_.state)) {
    for (const auto& id : VisibleSubDirs(cfg_.state + "/" + ns)) {
      const std::string path = BundlePath(ns, id);
      std::string address;
      try {
        address = TrimSpace(fs::ReadFile(path + "/address"));
      } catch (const std::exception&) {
        address = LegacyAddress(ns, id);
      }
      auto s = std::make_shared<Shim>();
      s->ns = ns;
      s->id = id;
      try {
        s->client = ttrpc::Client::Connect(address, 2s);
      } catch (const std::exception& e) {
        log::Error("connecting to shim", {{"id", id}, {"namespace", ns}, {"error", e.what()}});
        CleanupDead(ns, id, nullptr);
        continue;
      }
      try {
        s->out = ShimLog::OpenFifo(WorkDir(ns, id) + "/shim.stdout.log", cfg_.shim_debug);
        s->err = ShimLog::OpenFifo(WorkDir(ns, id) + "/shim.stderr.log", cfg_.shim_debug);
      } catch (const std::exception& e) {
        log::Error("opening shim log pipe", {{"id", id}, {"error", e.what()}});
        s->Close();
        continue;
      }
      s->pid = ReadPid(path + "/shim.pid");
      auto api = std::make_shared<ShimApiV1>(s->client, events_, ns, id);
      s->task = std::make_shared<Task>(Bundle::Load(cfg_.state, ns, id), ShimCommand{},
                                       kRuntimeName, s->client, nullptr, api);
      s->task->set_pid(static_cast<uint32_t>(ReadPid(path + "/init.pid")));
      api->LoadCgroup(s->task->pid());
      {
        std::lock_guard lk(mu_);
        shims_.Put(ns, id, s);
      }
      Watch(s);
    }
  }
}

void Runtime::Close() {
  std::vector<std::shared_ptr<Shim>> all;
  {
    std::lock_guard lk(mu_);
    closing_ = true;
    all = shims_.List("");
  }
  for (auto& s : all) s->Close();
  {
    std::unique_lock lk(mu_);
    jobs_.WaitIdle(lk, 15s);
  }
  host_dirs_.RemoveEmpty();
}

void Runtime::Discard() {
  DiscardTasks(*this);
}

}  // namespace mcd::runtime::v1
