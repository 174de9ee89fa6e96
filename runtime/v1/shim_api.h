#pragma once
// A v1 shim behind the v2 task API a runtime::Task speaks: every call is
// translated (translate.h) and sent to containerd.runtime.linux.shim.v1.Shim.
// The v1 shim publishes only task exits; the rest of the task events are the
// daemon's, as containerd's runtime v1 publishes them after each call.
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "runtime/cgroupstats/metrics.h"

#include "runtime/v2/task.h"
#include "ttrpc/client.h"

namespace mcd::events {
class Exchange;
}

namespace mcd::runtime::v1 {

class ShimApiV1 final : public ShimApi, public std::enable_shared_from_this<ShimApiV1> {
 public:
  ShimApiV1(std::shared_ptr<ttrpc::Client> client, events::Exchange* events, std::string ns,
            std::string id)
      : client_(std::move(client)), events_(events), ns_(std::move(ns)), id_(std::move(id)) {}

  std::string Call(const std::string& method, const std::string& req,
                   const ttrpc::CallOptions& opts) override;
  void AsyncCall(const std::string& method, const std::string& req, const ttrpc::CallOptions& opts,
                 std::function<void(std::exception_ptr, std::string)> done) override;

  // The init process's cgroups, loaded once as containerd's v1 task does (at
  // create or connect, else at start): Stats reads them, not the shim.
  void LoadCgroup(uint32_t pid);

 private:
  // The event containerd's runtime v1 publishes after a successful call.
  void Published(const std::string& method, const std::string& req, const std::string& resp);
  // A v2 StatsResponse from the task's cgroup; NotFound without one.
  std::string Stats();

  std::shared_ptr<ttrpc::Client> client_;
  events::Exchange* events_;
  std::string ns_, id_;
  std::mutex mu_;
  std::optional<cgroupstats::Cgroup> cgroup_;
};

}  // namespace mcd::runtime::v1
