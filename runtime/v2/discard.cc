#include "runtime/v2/discard.h"

#include <signal.h>

#include <google/protobuf/empty.pb.h>

#include "pkg/log.h"

namespace mcd::runtime {

using namespace std::chrono_literals;

void DiscardTasks(PlatformRuntime& rt) {
  auto all = rt.List("");
  // Every kill first, so the exits overlap.
  for (auto& t : all) {
    if (!t->connected()) continue;
    taskapi::KillRequest k;
    k.set_id(t->id());
    k.set_signal(SIGKILL);
    k.set_all(true);
    google::protobuf::Empty e;
    try {
      t->Call("Kill", k, &e, 10s);
    } catch (const std::exception& ex) {
      log::Debug("discard: kill", {{"id", t->id()}, {"error", ex.what()}});
    }
  }
  for (auto& t : all) {
    if (t->connected()) {
      taskapi::WaitRequest w;
      w.set_id(t->id());
      taskapi::WaitResponse wr;
      try {
        t->Call("Wait", w, &wr, 10s);
      } catch (const std::exception& ex) {
        log::Debug("discard: wait", {{"id", t->id()}, {"error", ex.what()}});
      }
    }
    try {
      rt.Delete(MakeContext(t->ns()), t->id());
      log::Info("discarded task", {{"id", t->id()}, {"namespace", t->ns()}});
    } catch (const std::exception& ex) {
      log::Warn("discard task", {{"id", t->id()}, {"namespace", t->ns()}, {"error", ex.what()}});
    }
  }
}

}  // namespace mcd::runtime
