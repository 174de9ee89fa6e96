#include "runtime/v1/translate.h"

#include <google/protobuf/empty.pb.h>

#include <functional>
#include <map>

#include "github.com/containerd/containerd/runtime/v1/shim/v1/shim.pb.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "pkg/errdefs.h"

namespace mcd::runtime::v1 {
namespace {

namespace v2 = containerd::task::v2;
namespace shim = containerd::runtime::linux::shim::v1;
using google::protobuf::Empty;

template <class M>
M Parse(const std::string& bytes, const char* what) {
  M m;
  if (!m.ParseFromString(bytes)) throw errdefs::InvalidArgument(std::string("malformed ") + what);
  return m;
}

// The v1 shim names a process by its exec id; the init process by the
// container's id.
template <class Req>
std::string ProcessId(const Req& r) {
  return r.exec_id().empty() ? r.id() : r.exec_id();
}

using ToFn = std::function<ShimCall(const std::string&)>;

const std::map<std::string, ToFn>& Requests() {
  static const std::map<std::string, ToFn> m = {
      {"State",
       [](const std::string& b) {
         auto r = Parse<v2::StateRequest>(b, "state request");
         shim::StateRequest o;
         o.set_id(ProcessId(r));
         return ShimCall{"State", o.SerializeAsString()};
       }},
      {"Create",
       [](const std::string& b) {
         auto r = Parse<v2::CreateTaskRequest>(b, "create request");
         shim::CreateTaskRequest o;
         o.set_id(r.id());
         o.set_bundle(r.bundle());
         *o.mutable_rootfs() = r.rootfs();
         o.set_terminal(r.terminal());
         o.set_stdin(r.stdin());
         o.set_stdout(r.stdout());
         o.set_stderr(r.stderr());
         o.set_checkpoint(r.checkpoint());
         o.set_parent_checkpoint(r.parent_checkpoint());
         if (r.has_options()) *o.mutable_options() = r.options();
         return ShimCall{"Create", o.SerializeAsString()};
       }},
      {"Start",
       [](const std::string& b) {
         auto r = Parse<v2::StartRequest>(b, "start request");
         shim::StartRequest o;
         o.set_id(ProcessId(r));
         return ShimCall{"Start", o.SerializeAsString()};
       }},
      {"Delete",
       [](const std::string& b) {
         auto r = Parse<v2::DeleteRequest>(b, "delete request");
         if (r.exec_id().empty()) return ShimCall{"Delete", Empty().SerializeAsString()};
         shim::DeleteProcessRequest o;
         o.set_id(r.exec_id());
         return ShimCall{"DeleteProcess", o.SerializeAsString()};
       }},
      {"Pids",
       [](const std::string& b) {
         auto r = Parse<v2::PidsRequest>(b, "pids request");
         shim::ListPidsRequest o;
         o.set_id(r.id());
         return ShimCall{"ListPids", o.SerializeAsString()};
       }},
      {"Pause",
       [](const std::string&) {
         return ShimCall{"Pause", Empty().SerializeAsString()};
       }},
      {"Resume",
       [](const std::string&) {
         return ShimCall{"Resume", Empty().SerializeAsString()};
       }},
      {"Checkpoint",
       [](const std::string& b) {
         auto r = Parse<v2::CheckpointTaskRequest>(b, "checkpoint request");
         shim::CheckpointTaskRequest o;
         o.set_path(r.path());
         if (r.has_options()) *o.mutable_options() = r.options();
         return ShimCall{"Checkpoint", o.SerializeAsString()};
       }},
      {"Kill",
       [](const std::string& b) {
         auto r = Parse<v2::KillRequest>(b, "kill request");
         shim::KillRequest o;
         o.set_id(ProcessId(r));
         o.set_signal(r.signal());
         o.set_all(r.all());
         return ShimCall{"Kill", o.SerializeAsString()};
       }},
      {"Exec",
       [](const std::string& b) {
         auto r = Parse<v2::ExecProcessRequest>(b, "exec request");
         shim::ExecProcessRequest o;
         o.set_id(r.exec_id());
         o.set_terminal(r.terminal());
         o.set_stdin(r.stdin());
         o.set_stdout(r.stdout());
         o.set_stderr(r.stderr());
         if (r.has_spec()) *o.mutable_spec() = r.spec();
         return ShimCall{"Exec", o.SerializeAsString()};
       }},
      {"ResizePty",
       [](const std::string& b) {
         auto r = Parse<v2::ResizePtyRequest>(b, "resize request");
         shim::ResizePtyRequest o;
         o.set_id(ProcessId(r));
         o.set_width(r.width());
         o.set_height(r.height());
         return ShimCall{"ResizePty", o.SerializeAsString()};
       }},
      {"CloseIO",
       [](const std::string& b) {
         auto r = Parse<v2::CloseIORequest>(b, "close io request");
         shim::CloseIORequest o;
         o.set_id(ProcessId(r));
         o.set_stdin(r.stdin());
         return ShimCall{"CloseIO", o.SerializeAsString()};
       }},
      {"Update",
       [](const std::string& b) {
         auto r = Parse<v2::UpdateTaskRequest>(b, "update request");
         shim::UpdateTaskRequest o;
         if (r.has_resources()) *o.mutable_resources() = r.resources();
         return ShimCall{"Update", o.SerializeAsString()};
       }},
      {"Wait",
       [](const std::string& b) {
         auto r = Parse<v2::WaitRequest>(b, "wait request");
         shim::WaitRequest o;
         o.set_id(ProcessId(r));
         return ShimCall{"Wait", o.SerializeAsString()};
       }},
      {"Connect",
       [](const std::string&) {
         return ShimCall{"ShimInfo", Empty().SerializeAsString()};
       }},
  };
  return m;
}

}  // namespace

ShimCall ToShim(const std::string& v2_method, const std::string& v2_request) {
  const auto& m = Requests();
  auto it = m.find(v2_method);
  if (it == m.end())
    throw errdefs::NotImplemented(v2_method + " is not supported by the v1 shim (runtime v1)");
  return it->second(v2_request);
}

std::string FromShim(const std::string& v2_method, const std::string& b, uint32_t task_pid) {
  if (v2_method == "State") {
    auto r = Parse<shim::StateResponse>(b, "state response");
    v2::StateResponse o;
    o.set_id(r.id());
    o.set_bundle(r.bundle());
    o.set_pid(r.pid());
    o.set_status(r.status());
    o.set_stdin(r.stdin());
    o.set_stdout(r.stdout());
    o.set_stderr(r.stderr());
    o.set_terminal(r.terminal());
    o.set_exit_status(r.exit_status());
    if (r.has_exited_at()) *o.mutable_exited_at() = r.exited_at();
    return o.SerializeAsString();
  }
  if (v2_method == "Create") {
    auto r = Parse<shim::CreateTaskResponse>(b, "create response");
    v2::CreateTaskResponse o;
    o.set_pid(r.pid());
    return o.SerializeAsString();
  }
  if (v2_method == "Start") {
    auto r = Parse<shim::StartResponse>(b, "start response");
    v2::StartResponse o;
    o.set_pid(r.pid());
    return o.SerializeAsString();
  }
  if (v2_method == "Delete") {
    auto r = Parse<shim::DeleteResponse>(b, "delete response");
    v2::DeleteResponse o;
    o.set_pid(r.pid());
    o.set_exit_status(r.exit_status());
    if (r.has_exited_at()) *o.mutable_exited_at() = r.exited_at();
    return o.SerializeAsString();
  }
  if (v2_method == "Pids") {
    auto r = Parse<shim::ListPidsResponse>(b, "pids response");
    v2::PidsResponse o;
    *o.mutable_processes() = r.processes();
    return o.SerializeAsString();
  }
  if (v2_method == "Wait") {
    auto r = Parse<shim::WaitResponse>(b, "wait response");
    v2::WaitResponse o;
    o.set_exit_status(r.exit_status());
    if (r.has_exited_at()) *o.mutable_exited_at() = r.exited_at();
    return o.SerializeAsString();
  }
  if (v2_method == "Connect") {
    auto r = Parse<shim::ShimInfoResponse>(b, "shim info response");
    v2::ConnectResponse o;
    o.set_shim_pid(r.shim_pid());
    o.set_task_pid(task_pid);
    return o.SerializeAsString();
  }
  // Everything else answers Empty in both APIs.
  return b;
}

}  // namespace mcd::runtime::v1
