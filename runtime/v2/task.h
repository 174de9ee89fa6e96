#pragma once
// A task: one container's shim, connected over ttrpc. Calls are the shim's
// task API (containerd.task.v2.Task) with the task's namespace. When the
// connection drops without a Delete in progress the TaskManager cleans up
// after the dead shim: meanwhile the task is a stopped "tombstone"; then it
// is removed, as containerd removes such a task.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "pkg/errdefs.h"
#include "pkg/timestamp.h"
#include "runtime/v2/binary.h"
#include "runtime/v2/bundle.h"
#include "runtime/v2/shim_log.h"
#include "ttrpc/client.h"

namespace mcd::runtime {

namespace taskapi = containerd::task::v2;

inline constexpr const char* kTaskService = "containerd.task.v2.Task";

// How a task's calls reach a shim that does not speak the v2 task API (the
// v1 shim): each call is a v2 method with its v2 request bytes, answered
// with v2 response bytes. Absent, calls go to kTaskService as they are.
class ShimApi {
 public:
  virtual ~ShimApi() = default;
  virtual std::string Call(const std::string& method, const std::string& req,
                           const ttrpc::CallOptions& opts) = 0;
  virtual void AsyncCall(const std::string& method, const std::string& req,
                         const ttrpc::CallOptions& opts,
                         std::function<void(std::exception_ptr, std::string)> done) = 0;
};

class Task {
 public:
  enum class Phase {
    kLive,      // shim connected
    kDeleting,  // a client Delete is shutting the shim down
    kDead,      // connection lost; cleanup after the dead shim running
    kStopped,   // deleted, or dead shim cleaned up (and the task removed)
  };

  Task(Bundle bundle, ShimCommand cmd, std::string runtime, std::shared_ptr<ttrpc::Client> client,
       std::shared_ptr<ShimLog> log, std::shared_ptr<ShimApi> api = nullptr);
  ~Task();

  const std::string& id() const { return bundle_.id(); }
  const std::string& ns() const { return bundle_.ns(); }
  const std::string& runtime() const { return runtime_; }
  const Bundle& bundle() const { return bundle_; }
  const ShimCommand& command() const { return cmd_; }
  // False for a tombstone (shim gone) or a lost connection.
  bool connected() const { return client_ && !client_->closed(); }

  // A blocking shim call; errors are the shim's (errdefs::Error with its code).
  template <class Resp>
  void Call(const std::string& method, const google::protobuf::Message& req, Resp* resp,
            std::chrono::nanoseconds timeout = std::chrono::nanoseconds(0)) {
    if (!client_) throw errdefs::NotFound("process already finished");
    if (!api_) {
      client_->Call(kTaskService, method, req, resp, Options(timeout));
      return;
    }
    std::string out = api_->Call(method, req.SerializeAsString(), Options(timeout));
    if (!resp->ParseFromString(out)) throw std::runtime_error("ttrpc: malformed response");
  }
  // Completion-callback call (runs on io threads, must not block).
  void AsyncCall(const std::string& method, const google::protobuf::Message& req,
                 std::chrono::nanoseconds timeout,
                 std::function<void(std::exception_ptr, std::string)> done);
  ttrpc::CallOptions Options(std::chrono::nanoseconds timeout) const;

  Phase phase() const;
  // kLive -> kDeleting; false when not live.
  bool BeginDelete();
  // kDeleting -> kLive (the shim refused the delete).
  void AbortDelete();
  // kLive -> kDead; false when a delete owns the shim.
  bool MarkDead();
  // kDead/kDeleting -> kStopped with the exit; wakes waiters.
  void SetStopped(const Exit& exit);
  std::optional<Exit> stopped_exit() const;
  // Blocks until stopped (for Delete racing a dead-shim cleanup).
  Exit WaitStopped();
  // Runs fn(exit) once stopped: at once when already.
  void OnStopped(std::function<void(const Exit&)> fn);
  // The shim's init pid as the shim reported it at create/connect.
  uint32_t pid() const { return pid_; }
  void set_pid(uint32_t p) { pid_ = p; }

  // Runs fn once the shim connection is lost (at once if already).
  void OnClose(std::function<void()> fn) {
    if (client_) client_->OnClose(std::move(fn));
  }
  // Closes the connection and the log copy.
  void Close();

 private:
  Bundle bundle_;
  ShimCommand cmd_;
  std::string runtime_;
  std::shared_ptr<ttrpc::Client> client_;
  std::shared_ptr<ShimLog> log_;
  std::shared_ptr<ShimApi> api_;
  std::atomic<uint32_t> pid_{0};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Phase phase_ = Phase::kLive;
  std::optional<Exit> exit_;
  std::vector<std::function<void(const Exit&)>> on_stopped_;
};

}  // namespace mcd::runtime
