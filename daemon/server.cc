#include "daemon/server.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <list>

#include "daemon/listeners.h"
#include "daemon/plugin_order.h"
#include "pkg/errdefs.h"
#include "pkg/fd.h"
#include "pkg/fs.h"
#include "pkg/log.h"
#include "pkg/mount.h"
#include "services/grpc_util.h"

namespace mcd::daemon {

void PrepareSocket(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    fs::MkdirAll(std::filesystem::path(path).parent_path().string(), 0711);
    return;
  }
  if (!S_ISSOCK(st.st_mode)) {
    throw errdefs::FailedPrecondition(path + " exists and is not a socket");
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    throw errdefs::InvalidArgument("socket path too long: " + path);
  std::copy(path.begin(), path.end(), addr.sun_path);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    throw errdefs::Make(errdefs::Code::kFailedPrecondition,
                        "address " + path + " is in use by a running daemon");
  }
  log::Warn("removing stale socket", {{"address", path}});
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    throw errdefs::FromErrno(errno, "remove stale socket " + path);
  }
}

Server::Server(Config cfg, std::string binary) : cfg_(std::move(cfg)) {
  info_.root = cfg_.root;
  info_.state = cfg_.state;
  info_.grpc_address = cfg_.grpc.address;
  info_.ttrpc_address = cfg_.TtrpcAddress();
  info_.binary = std::move(binary);
  info_.tmp_mounts = cfg_.root + "/tmpmounts";
}

Server::~Server() {
  Shutdown();
}

// A unix socket path must fit sockaddr_un (with its NUL); checked before
// anything is created so a bad address leaves nothing behind.
static void CheckSocketPath(const std::string& path, const char* what) {
  if (path.empty()) throw errdefs::InvalidArgument(std::string(what) + " address is empty");
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    throw errdefs::InvalidArgument(fmt::format("{} address {:?}: unix socket path too long (> {})",
                                               what, path, sizeof(sockaddr_un::sun_path) - 1));
  }
}

void Server::LoadPlugins() {
  CheckSocketPath(cfg_.grpc.address, "grpc");
  CheckSocketPath(cfg_.TtrpcAddress(), "ttrpc");
  // As containerd: the root is the daemon's alone (0700, mended on an
  // existing one too); the state dir only needs to be traversable, for
  // user-namespaced containers reaching their bundles, and keeps the mode
  // an operator gave it.
  fs::MkdirAll(cfg_.root, 0700);
  if (::chmod(cfg_.root.c_str(), 0700) != 0) throw errdefs::FromErrno(errno, "chmod " + cfg_.root);
  fs::MkdirAll(cfg_.state, 0711);
  // A daemon killed mid-apply left its temporary mounts: they go first.
  for (const auto& w : mount::CleanupTempMounts(info_.tmp_mounts)) {
    log::Warn("failed to clean up temporary mounts", {{"error", w}});
  }

  plugin::Registry::Global().Order(ContainerdPluginOrder());
  const auto& regs = plugin::Registry::Global().All();
  std::vector<std::string> disabled;
  for (const auto& r : regs) {
    for (const auto& name : cfg_.disabled_plugins) {
      if (NamesPlugin(cfg_, r, name)) {
        disabled.push_back(r.URI());
        break;
      }
    }
  }
  auto order = plugin::Graph(regs, disabled);
  // Every plugin section is checked before any plugin starts: a bad value
  // fails start-up with nothing initialised.
  configs_.reserve(order.size());
  for (const auto* reg : order) {
    std::vector<std::string> warnings;
    configs_.push_back(PluginConfig(cfg_, *reg, &warnings));
    for (const auto& w : warnings) log::Warn(w);
  }
  for (size_t i = 0; i < order.size(); ++i) {
    const auto* reg = order[i];
    auto loaded = std::make_shared<plugin::Loaded>();
    loaded->reg = reg;
    set_.Add(loaded);
    const std::string uri = reg->URI();
    log::Info("loading plugin \"" + uri + "\"...", {{"type", reg->type}});
    plugin::InitContext ic(*reg, info_, configs_[i], &exchange_, set_, *loaded);
    try {
      loaded->instance = reg->init(ic);
      if (!loaded->instance) throw errdefs::Internal("init returned no instance");
    } catch (const plugin::SkipPlugin& e) {
      loaded->status = {plugin::Status::State::kSkipped, e.what(), 0};
      log::Info("skip loading plugin \"" + uri + "\"...",
                {{"error", e.what()}, {"type", reg->type}});
    } catch (const std::exception& e) {
      loaded->status = {plugin::Status::State::kError, e.what(),
                        static_cast<int>(errdefs::CodeOf(e))};
      log::Warn("failed to load plugin " + uri, {{"error", e.what()}});
    }
  }
  for (const auto& req : cfg_.required_plugins) {
    bool ok = false;
    for (const auto& l : set_.All()) {
      if (NamesPlugin(cfg_, *l->reg, req) && l->instance) ok = true;
    }
    if (!ok) {
      throw errdefs::FailedPrecondition("required plugin " + req + " not initialised");
    }
  }
}

void Server::Serve() {
  PrepareSocket(cfg_.grpc.address);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + cfg_.grpc.address, grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(static_cast<int>(cfg_.grpc.max_recv_message_size));
  builder.SetMaxSendMessageSize(static_cast<int>(cfg_.grpc.max_send_message_size));
  for (const auto& l : set_.OfType(plugin::kGRPC)) {
    auto svc = std::dynamic_pointer_cast<services::GrpcService>(l->instance);
    if (svc && svc->service()) builder.RegisterService(svc->service());
  }
  grpc_ = builder.BuildAndStart();
  if (!grpc_) throw errdefs::Unavailable("cannot listen on " + cfg_.grpc.address);
  if (::chmod(cfg_.grpc.address.c_str(), 0660) != 0 ||
      ::chown(cfg_.grpc.address.c_str(), static_cast<uid_t>(cfg_.grpc.uid),
              static_cast<gid_t>(cfg_.grpc.gid)) != 0) {
    throw errdefs::FromErrno(errno, "set permissions of " + cfg_.grpc.address);
  }
  extra_ = std::make_unique<Listeners>(cfg_, set_);
  extra_->Start();
  log::Info("serving...", {{"address", cfg_.grpc.address}});
  for (const auto& l : set_.All()) {
    if (l->instance) l->instance->Serving();
  }
  log::Info("containerd successfully booted", {});
}

void Server::Shutdown(bool discard) {
  if (shut_) return;
  shut_ = true;
  if (grpc_) {
    // As containerd's Stop: calls in flight are cancelled at once. A grace
    // period would hold every stop for its full length whenever a stream is
    // open (`ctr events`, a client's Wait), which is common.
    grpc_->Shutdown(std::chrono::system_clock::now());
    grpc_.reset();
    ::unlink(cfg_.grpc.address.c_str());
  }
  const auto& all = set_.All();
  // Before the ttrpc listener stops: deleted shims may still publish.
  for (auto it = all.rbegin(); discard && it != all.rend(); ++it) {
    if (!(*it)->instance) continue;
    try {
      (*it)->instance->Discard();
    } catch (const std::exception& e) {
      log::Warn("discard plugin", {{"id", (*it)->reg->URI()}, {"error", e.what()}});
    }
  }
  if (extra_) extra_->Stop();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (!(*it)->instance) continue;
    try {
      (*it)->instance->Close();
    } catch (const std::exception& e) {
      log::Warn("close plugin", {{"id", (*it)->reg->URI()}, {"error", e.what()}});
    }
  }
  extra_.reset();
}

}  // namespace mcd::daemon
