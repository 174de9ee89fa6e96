#include "runtime/v2/task.h"

namespace mcd::runtime {

Task::Task(Bundle bundle, ShimCommand cmd, std::string runtime,
           std::shared_ptr<ttrpc::Client> client, std::shared_ptr<ShimLog> log,
           std::shared_ptr<ShimApi> api)
    : bundle_(std::move(bundle)),
      cmd_(std::move(cmd)),
      runtime_(std::move(runtime)),
      client_(std::move(client)),
      log_(std::move(log)),
      api_(std::move(api)) {}

Task::~Task() {
  Close();
}

ttrpc::CallOptions Task::Options(std::chrono::nanoseconds timeout) const {
  ttrpc::CallOptions o;
  o.ns = bundle_.ns();
  o.timeout = timeout;
  return o;
}

void Task::AsyncCall(const std::string& method, const google::protobuf::Message& req,
                     std::chrono::nanoseconds timeout,
                     std::function<void(std::exception_ptr, std::string)> done) {
  if (!client_) throw errdefs::NotFound("process already finished");
  if (api_) {
    api_->AsyncCall(method, req.SerializeAsString(), Options(timeout), std::move(done));
    return;
  }
  client_->AsyncCall(kTaskService, method, req.SerializeAsString(), Options(timeout),
                     std::move(done));
}

Task::Phase Task::phase() const {
  std::lock_guard lk(mu_);
  return phase_;
}

bool Task::BeginDelete() {
  std::lock_guard lk(mu_);
  if (phase_ != Phase::kLive) return false;
  phase_ = Phase::kDeleting;
  return true;
}

void Task::AbortDelete() {
  std::lock_guard lk(mu_);
  if (phase_ == Phase::kDeleting) phase_ = Phase::kLive;
}

bool Task::MarkDead() {
  std::lock_guard lk(mu_);
  if (phase_ != Phase::kLive) return false;
  phase_ = Phase::kDead;
  return true;
}

void Task::SetStopped(const Exit& exit) {
  std::vector<std::function<void(const Exit&)>> fns;
  {
    std::lock_guard lk(mu_);
    phase_ = Phase::kStopped;
    exit_ = exit;
    fns.swap(on_stopped_);
  }
  cv_.notify_all();
  for (auto& fn : fns) fn(exit);
}

std::optional<Exit> Task::stopped_exit() const {
  std::lock_guard lk(mu_);
  return exit_;
}

Exit Task::WaitStopped() {
  std::unique_lock lk(mu_);
  cv_.wait(lk, [&] { return exit_.has_value(); });
  return *exit_;
}

void Task::OnStopped(std::function<void(const Exit&)> fn) {
  std::unique_lock lk(mu_);
  if (exit_) {
    Exit e = *exit_;
    lk.unlock();
    fn(e);
    return;
  }
  on_stopped_.push_back(std::move(fn));
}

void Task::Close() {
  if (client_) client_->Close();
  if (log_) log_->Close();
}

}  // namespace mcd::runtime
