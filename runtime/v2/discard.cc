#include "runtime/v2/discard.h"

#include <signal.h>

#include <google/protobuf/empty.pb.h>

#include <thread>

#include "pkg/errdefs.h"
#include "pkg/log.h"

namespace mcd::runtime {

using namespace std::chrono_literals;

namespace {

void Discard(PlatformRuntime& rt, const std::shared_ptr<Task>& t) {
  if (t->connected()) {
    taskapi::KillRequest k;
    k.set_id(t->id());
    k.set_signal(SIGKILL);
    k.set_all(true);
    google::protobuf::Empty e;
    taskapi::WaitRequest w;
    w.set_id(t->id());
    taskapi::WaitResponse wr;
    try {
      t->Call("Kill", k, &e, 10s);
      t->Call("Wait", w, &wr, 10s);
    } catch (const errdefs::Error& ex) {
      if (ex.code() == errdefs::Code::kDeadlineExceeded) {
        // Its delete would hang the daemon's exit as well.
        log::Warn("discard: the shim does not answer, left running",
                  {{"id", t->id()}, {"namespace", t->ns()}, {"error", ex.what()}});
        return;
      }
      log::Debug("discard: kill", {{"id", t->id()}, {"error", ex.what()}});  // already stopped
    } catch (const std::exception& ex) {
      log::Debug("discard: kill", {{"id", t->id()}, {"error", ex.what()}});
    }
  }
  try {
    rt.Delete(MakeContext(t->ns()), t->id());
    log::Info("discarded task", {{"id", t->id()}, {"namespace", t->ns()}});
  } catch (const std::exception& ex) {
    log::Warn("discard task", {{"id", t->id()}, {"namespace", t->ns()}, {"error", ex.what()}});
  }
}

}  // namespace

void DiscardTasks(PlatformRuntime& rt) {
  // A thread a task: the exits overlap, and a shim that does not answer
  // holds up only its own task (each call is bounded).
  std::vector<std::jthread> all;
  for (auto& t : rt.List("")) all.emplace_back([&rt, t] { Discard(rt, t); });
}

}  // namespace mcd::runtime
