#pragma once
// A daemon whose state is thrown away with it (--ephemeral) must not leave
// containers behind: they would run on with their bundles gone.
#include "runtime/v2/manager.h"

namespace mcd::runtime {

// Kills every process of every task of rt (SIGKILL, all) and deletes each
// task once its init has exited, as `ctr task rm -f` would. Errors are
// logged: one stuck task does not keep the others.
void DiscardTasks(PlatformRuntime& rt);

}  // namespace mcd::runtime
