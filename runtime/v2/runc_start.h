#pragma once
// The `start` command of containerd 1.6's runc v2 shim, done by the daemon.
// That command is a Go process whose only work is to listen on the shim's
// socket, write the bundle's `address`, start the shim daemon (itself, with
// -namespace/-id/-address, GOMAXPROCS=4, its own process group, the socket
// as fd 3), raise the daemon's OOM score by one and print the address. Its
// Go start-up is some 40 ms of every task create; the daemon does the same
// steps in well under one. The shim daemon sees the same argv, environment,
// cwd and fds either way.
//
// Only for an executable whose `-v` says it is a 1.6 runc v2 shim (asked
// once per binary), and only where that command would do nothing else: no grouping
// annotation (a shim shared by a sandbox), no shim cgroup in the options, no
// other options type, no SCHED_CORE. Every other case, and every other
// shim, runs the shim's own `start`.
#include <sys/stat.h>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <google/protobuf/any.pb.h>

#include "runtime/v2/binary.h"

namespace mcd::runtime {

class RuncStart {
 public:
  // is_runc16: how a binary is recognised (tests replace it).
  explicit RuncStart(std::function<bool(const std::string&)> is_runc16 = IsRunc16)
      : is_runc16_(std::move(is_runc16)) {}

  // Whether `start` may be done here for this task.
  bool Applies(const ShimCommand& cmd, const std::string& spec,
               const google::protobuf::Any* options);

  // Starts the shim daemon as `start` would and returns its address, or
  // nullopt when a live shim already answers there (the shim's own `start`
  // then decides). Errors leave nothing behind.
  std::optional<std::string> Start(const ShimCommand& cmd);

  // "1.6.20~ds1" from a shim's `-v` output; empty when there is none.
  static std::string ParseVersion(const std::string& out);
  // A version whose `start` this is ("1.6.x", "v1.6.x").
  static bool SupportedVersion(const std::string& version);
  // The spec names a group the shim's `start` would join.
  static bool Grouped(const std::string& spec);
  // The binary is containerd 1.6's runc v2 shim (runs its `-v`).
  static bool IsRunc16(const std::string& binary);

 private:
  bool Known(const std::string& binary);

  struct Identity {
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    off_t size;
    bool ok;
  };
  std::function<bool(const std::string&)> is_runc16_;
  std::mutex mu_;
  std::map<std::string, Identity> known_;
};

}  // namespace mcd::runtime
