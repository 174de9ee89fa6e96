#include "daemon/listeners.h"

#include <sys/stat.h>
#include <unistd.h>

#include "daemon/server.h"
#include "pkg/errdefs.h"
#include "pkg/log.h"
#include "ttrpc/server.h"
#include "ttrpc/service.h"

namespace mcd::daemon {

struct Listeners::Impl {
  std::unique_ptr<ttrpc::Server> ttrpc;
};

Listeners::Listeners(const Config& cfg, const plugin::Set& set) : cfg_(cfg), set_(set) {}
Listeners::~Listeners() {
  Stop();
}

void Listeners::Start() {
  impl_ = std::make_unique<Impl>();
  // Only our own user may connect, as containerd's UnixSocketRequireSameUser.
  ttrpc::Server::Options opts;
  opts.require_same_user = true;
  impl_->ttrpc = ttrpc::Server::Create(opts);
  // Every plugin instance that serves ttrpc, whatever its type (containerd
  // lets any plugin implement RegisterTTRPC).
  for (const auto& l : set_.All()) {
    if (auto svc = std::dynamic_pointer_cast<ttrpc::TtrpcService>(l->instance)) {
      svc->RegisterOn(*impl_->ttrpc);
    }
  }
  const std::string address = cfg_.TtrpcAddress();
  PrepareSocket(address);
  impl_->ttrpc->Listen(address);
  if (::chmod(address.c_str(), 0660) != 0 ||
      ::chown(address.c_str(), static_cast<uid_t>(cfg_.ttrpc.uid),
              static_cast<gid_t>(cfg_.ttrpc.gid)) != 0) {
    throw errdefs::FromErrno(errno, "set permissions of " + address);
  }
  log::Info("serving...", {{"address", address}});
}

void Listeners::Stop() {
  if (!impl_) return;
  if (impl_->ttrpc) {
    impl_->ttrpc->Shutdown();  // removes the socket file
    impl_->ttrpc.reset();
  }
  impl_.reset();
}

}  // namespace mcd::daemon
