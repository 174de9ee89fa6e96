// grpc plugin "events": containerd.services.events.v1.Events over the
// exchange, and the ttrpc Events/Forward that shims call. Publish and Forward are plain unary
// calls; Subscribe holds no thread while open: one reactor per
// subscriber, woken by the exchange when its queue gets an event, writing one event at a time (gRPC
// flow control paces it; the exchange's bounded queue absorbs the rest or cuts the subscriber off).
#include <mutex>

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/services/events/v1/events.grpc.pb.h"
#include "pkg/log.h"
#include "pkg/utf8.h"
#include "services/events/ttrpc_forward.h"
#include "services/grpc_util.h"
#include "ttrpc/service.h"

namespace mcd::services::events {
namespace {

namespace api = containerd::services::events::v1;
using mcd::events::EnvelopePtr;
using mcd::events::Exchange;
using mcd::events::Subscription;

class SubscribeReactor final : public grpc::ServerWriteReactor<api::Envelope> {
 public:
  SubscribeReactor(Exchange& exchange, const api::SubscribeRequest& req) {
    std::vector<std::string> filters(req.filters().begin(), req.filters().end());
    try {
      sub_ = exchange.Subscribe(filters);
    } catch (const std::exception& e) {
      // containerd returns the subscription's error unconverted (code Unknown).
      std::lock_guard lk(mu_);
      FinishLocked(grpc::Status(grpc::StatusCode::UNKNOWN,
                                utf8::Valid(std::string("subscription error: ") + e.what())));
      return;
    }
    {
      // Headers now tell the client it is subscribed: nothing published from
      // here on is missed (grpc-go would send them with the first event).
      std::lock_guard lk(mu_);
      StartSendInitialMetadata();
    }
    sub_->SetNotify([this] { Pump(); });
    Pump();
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lk(mu_);
      in_flight_.reset();
      if (!ok) {
        // The client went away or the server is shutting down.
        FinishLocked(
            grpc::Status(grpc::StatusCode::UNAVAILABLE, "failed sending event to subscriber"));
        return;
      }
    }
    Pump();
  }

  void OnCancel() override {
    std::lock_guard lk(mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    // No notify runs after Close() returns, so `this` can go.
    if (sub_) sub_->Close();
    delete this;
  }

 private:
  // Writes the next queued event unless a write is in flight; ends the call
  // when the subscription ended (cut off for being too slow).
  void Pump() {
    std::lock_guard lk(mu_);
    if (finished_ || in_flight_) return;
    if (auto env = sub_->TryNext()) {
      in_flight_ = std::move(env);
      StartWrite(in_flight_.get());
      return;
    }
    if (sub_->Ended()) {
      auto err = sub_->EndError();
      FinishLocked(err ? ToStatus(*err) : grpc::Status::OK);
    }
  }

  void FinishLocked(grpc::Status st) {
    if (finished_) return;
    finished_ = true;
    Finish(std::move(st));
  }

  std::mutex mu_;
  std::shared_ptr<Subscription> sub_;
  EnvelopePtr in_flight_;  // kept alive until its write completes
  bool finished_ = false;
};

class Service final : public api::Events::CallbackService,
                      public GrpcService,
                      public ttrpc::TtrpcService {
 public:
  explicit Service(std::shared_ptr<Exchange> exchange) : exchange_(std::move(exchange)) {}
  grpc::Service* service() override { return this; }
  // Shims' events arrive over ttrpc, on the same plugin as containerd's.
  void RegisterOn(ttrpc::Server& server) override { RegisterTtrpcForward(server, *exchange_); }

  // The exchange never blocks a publisher (a full subscriber queue cuts that
  // subscriber off), so both run inline.
  grpc::ServerUnaryReactor* Publish(grpc::CallbackServerContext* sc, const api::PublishRequest* req,
                                    google::protobuf::Empty*) override {
    return Unary(sc, Runs::kInline, [this, req](const Context& ctx) {
      exchange_->Publish(ctx, req->topic(), req->event());
    });
  }

  grpc::ServerUnaryReactor* Forward(grpc::CallbackServerContext* sc, const api::ForwardRequest* req,
                                    google::protobuf::Empty*) override {
    // The envelope carries its own namespace; the header does not matter.
    return Unary(sc, Runs::kInline,
                 [this, req](const Context&) { exchange_->Forward(req->envelope()); });
  }

  // No namespace needed: a subscriber sees every namespace unless it filters.
  grpc::ServerWriteReactor<api::Envelope>* Subscribe(grpc::CallbackServerContext*,
                                                     const api::SubscribeRequest* req) override {
    return new SubscribeReactor(*exchange_, *req);
  }

 private:
  std::shared_ptr<Exchange> exchange_;
};

plugin::Registrar reg{{
    .type = plugin::kGRPC,
    .id = "events",
    .requires_ = {plugin::kEvent},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      return std::make_shared<Service>(ic.GetAs<Exchange>(plugin::kEvent, "exchange"));
    },
}};

}  // namespace
}  // namespace mcd::services::events
