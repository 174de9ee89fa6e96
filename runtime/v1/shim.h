#pragma once
// Starting the v1 shim (`containerd-shim`) as containerd 1.6 does: the daemon
// listens on the shim's socket and hands it over as fd 3; the shim's stdout
// and stderr go to the fifos shim.stdout.log / shim.stderr.log in its work
// dir; it runs in its own process group with the daemon's OOM score + 1.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace mcd::runtime::v1 {

// Where a shim of containerd before 1.2 listened (abstract), when a bundle
// has no `address` file.
std::string LegacyAddress(const std::string& ns, const std::string& id);

struct ShimConfig {
  std::string binary = "containerd-shim";  // looked up on PATH unless a path
  std::string ns;
  std::string bundle;        // cwd; address and shim.pid go here
  std::string workdir;       // -workdir: <root>/<ns>/<id>
  std::string grpc_address;  // -address
  std::string self;          // -containerd-binary: the shim publishes through it
  std::string criu;          // -criu-path
  std::string runtime_root;  // -runtime-root
  bool systemd_cgroup = false;
  bool debug = false;
  std::string cgroup;  // the shim's own v1 cgroup (CreateOptions.shim_cgroup); not an arg
};

// The shim's argv, argv[0] included.
std::vector<std::string> Args(const ShimConfig& c);

// Listens on `address`, starts the shim with it, writes the bundle's
// `address` and `shim.pid` files and the shim's OOM score. `on_exit` runs
// once on an io thread when the shim exits (it is reaped through a pidfd,
// no polling). Returns the shim's pid. The caller kills it on later errors.
pid_t StartShim(const ShimConfig& c, const std::string& address, std::function<void()> on_exit);

// Puts the shim into the v1 cgroup `path` (CreateOptions.shim_cgroup) as
// containerd does: every v1 hierarchy where that cgroup exists gets the pid;
// none is "failed to load cgroup <path>: cgroups: cgroup deleted".
void JoinCgroup(const std::string& path, pid_t pid);

// SIGKILL to the shim's process group, then waits (pidfd) up to `timeout`
// for the shim itself to be gone.
void KillShim(pid_t pid, std::chrono::milliseconds timeout);

}  // namespace mcd::runtime::v1
