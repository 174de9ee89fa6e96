// The envelope goes to the exchange as it is; the exchange validates
// namespace, topic and timestamp and answers InvalidArgument for a bad one.
#include "services/events/ttrpc_forward.h"

#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "pkg/errdefs.h"

namespace mcd::services::events {

namespace tapi = containerd::services::events::ttrpc::v1;

void RegisterTtrpcForward(ttrpc::Server& server, mcd::events::Exchange& exchange) {
  server.Register("containerd.services.events.ttrpc.v1.Events", "Forward",
                  [&exchange](const Context&, const std::string& payload) {
                    tapi::ForwardRequest req;
                    if (!req.ParseFromString(payload)) {
                      throw errdefs::Error(
                          errdefs::Code::kInternal,
                          "ttrpc: error unmarshalling payload: malformed ForwardRequest");
                    }
                    mcd::events::Envelope env;
                    auto* in = req.mutable_envelope();
                    // Copied only when present: the exchange rejects a missing
                    // timestamp.
                    if (in->has_timestamp()) {
                      *env.mutable_timestamp() = std::move(*in->mutable_timestamp());
                    }
                    env.set_namespace_(std::move(*in->mutable_namespace_()));
                    env.set_topic(std::move(*in->mutable_topic()));
                    if (in->has_event()) *env.mutable_event() = std::move(*in->mutable_event());
                    exchange.Forward(env);
                    return std::string();  // google.protobuf.Empty
                  });
}

}  // namespace mcd::services::events
