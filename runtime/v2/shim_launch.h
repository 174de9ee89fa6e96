#pragma once
// The pieces of starting a shim process that containerd 1.6 shares between
// the v1 shim (the daemon starts it) and the runc v2 shim's `start` command:
// the socket under /run/containerd/s, handed to the shim as fd 3; the
// bundle's files written atomically; the shim's OOM score one above its
// starter's; reaping it through a pidfd.
#include <sys/types.h>

#include <functional>
#include <string>

#include "pkg/fd.h"

namespace mcd::runtime {

// `unix:///run/containerd/s/<sha256 hex of "<grpc address>/<ns>/<id>">`.
std::string SocketAddress(const std::string& grpc_address, const std::string& ns,
                          const std::string& id);

// What to do when a socket file is already at the address.
enum class StaleSocket {
  kReplace,          // unlink it and bind again
  kKeepIfAnswering,  // the same, unless something accepts there: then no fd
};

// A listening socket at `address` (mode 0600, its directory made 0600 as
// Go's MkdirAll would). Empty when kKeepIfAnswering found a live listener.
UniqueFd ListenShimSocket(const std::string& address, StaleSocket stale);

// Removes a path socket named by an address (abstract ones need nothing).
void RemoveSocket(const std::string& address);

// As containerd's WriteAddress/WritePidFile: "<dir>/.<name>" written with
// O_SYNC, then renamed over "<dir>/<name>".
void WriteBundleFile(const std::string& dir, const std::string& name, const std::string& data);

// The shim's oom_score_adj: the daemon's + 1, at most 1000.
void AdjustOOMScore(pid_t shim);

// Reaps a child shim when it exits (its pidfd turns readable on an io
// thread: no polling), then runs on_exit if set.
void ReapOnExit(pid_t pid, std::function<void()> on_exit);

}  // namespace mcd::runtime
