#pragma once
// The /tasks/exit and /tasks/delete events of a task whose process ended,
// as both runtimes publish them (a v2 shim's cleanup, a v1 shim's delete or
// death): one place for their fields.
#include <string>

#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "runtime/v2/task.h"

namespace mcd::runtime {

inline containerd::events::TaskExit TaskExitEvent(const std::string& id, const Exit& exit) {
  containerd::events::TaskExit te;
  te.set_container_id(id);
  te.set_id(id);
  te.set_pid(exit.pid);
  te.set_exit_status(exit.status);
  *te.mutable_exited_at() = ToTimestamp(exit.at);
  return te;
}

inline containerd::events::TaskDelete TaskDeleteEvent(const std::string& id, const Exit& exit) {
  containerd::events::TaskDelete td;
  td.set_container_id(id);
  td.set_pid(exit.pid);
  td.set_exit_status(exit.status);
  *td.mutable_exited_at() = ToTimestamp(exit.at);
  return td;
}

}  // namespace mcd::runtime
