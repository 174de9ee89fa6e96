#pragma once
// containerd.services.events.ttrpc.v1.Events/Forward on the daemon's ttrpc
// socket, where shims send their task events (they dial TTRPC_ADDRESS). As in
// containerd, the gRPC events plugin serves it, so no extra plugin is listed.
#include "events/exchange.h"
#include "ttrpc/server.h"

namespace mcd::services::events {

void RegisterTtrpcForward(ttrpc::Server& server, mcd::events::Exchange& exchange);

}  // namespace mcd::services::events
