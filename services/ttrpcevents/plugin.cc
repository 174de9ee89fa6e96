// ttrpc plugin "events": containerd.services.events.ttrpc.v1.Events/Forward,
// where shims send their task events (they dial TTRPC_ADDRESS). The envelope
// goes to the exchange as it is; the exchange validates namespace, topic and
// timestamp and answers InvalidArgument for a bad one.
#include "plugins/plugin.h"
#include "events/exchange.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "pkg/errdefs.h"
#include "ttrpc/service.h"

namespace mcd::services::ttrpcevents {
namespace {

namespace tapi = containerd::services::events::ttrpc::v1;

inline constexpr const char* kService = "containerd.services.events.ttrpc.v1.Events";

class Service final : public ttrpc::TtrpcService {
 public:
  explicit Service(events::Exchange* exchange) : exchange_(exchange) {}

  void RegisterOn(ttrpc::Server& server) override {
    server.Register(kService, "Forward", [this](const Context&, const std::string& payload) {
      tapi::ForwardRequest req;
      if (!req.ParseFromString(payload)) {
        throw errdefs::Error(errdefs::Code::kInternal,
                             "ttrpc: error unmarshalling payload: malformed ForwardRequest");
      }
      events::Envelope env;
      auto* in = req.mutable_envelope();
      // Copied only when present: the exchange rejects a missing timestamp.
      if (in->has_timestamp()) *env.mutable_timestamp() = std::move(*in->mutable_timestamp());
      env.set_namespace_(std::move(*in->mutable_namespace_()));
      env.set_topic(std::move(*in->mutable_topic()));
      if (in->has_event()) *env.mutable_event() = std::move(*in->mutable_event());
      exchange_->Forward(env);
      return std::string();  // google.protobuf.Empty
    });
  }

 private:
  events::Exchange* exchange_;
};

plugin::Registrar reg{{
    .type = plugin::kTTRPC,
    .id = "events",
    .requires_ = {plugin::kEvent},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      if (!ic.events) throw errdefs::FailedPrecondition("no event exchange");
      return std::make_shared<Service>(ic.events);
    },
}};

}  // namespace
}  // namespace mcd::services::ttrpcevents
