#pragma once
// The event exchange (containerd's events/exchange): services publish, shims
// forward, subscribers receive what their filters select.
//
// Delivery: every subscription owns a bounded queue. A publisher only pushes a
// shared, immutable envelope into the queues of the subscriptions whose
// filters match and wakes idle consumers; it never waits for a consumer, so a
// slow subscriber holds up neither publishers nor the other subscribers.
// Events are delivered to every subscription in one global order (publishes
// are serialised, as containerd's broadcaster does).
//
// Overflow: containerd's queue is unbounded (a stuck client grows the daemon
// without limit). Here a subscription that has `max_events` events or
// `max_bytes` bytes queued is cut off: it stops receiving, its consumer
// drains what is queued and then sees ResourceExhausted. Nothing is dropped
// silently, so a client never waits forever for an event that was lost; it
// sees the stream end and can subscribe again.
#include <google/protobuf/any.pb.h>
#include <google/protobuf/message.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "github.com/containerd/containerd/api/services/events/v1/events.pb.h"
#include "pkg/context.h"
#include "pkg/errdefs.h"
#include "pkg/filters.h"
#include "plugins/plugin.h"

namespace mcd::events {

using Envelope = containerd::services::events::v1::Envelope;
using EnvelopePtr = std::shared_ptr<const Envelope>;

// containerd's type URL for an event: the message's full proto name
// ("containerd.events.ContainerCreate"), not the type.googleapis.com form.
// An Any is kept as it is (what a client publishes is forwarded untouched).
void PackEvent(const google::protobuf::Message& event, google::protobuf::Any* any);

// Topic rules: "/" + identifiers separated by "/". Throws InvalidArgument with
// containerd's wording (without the "envelope topic" prefix).
void ValidateTopic(const std::string& topic);

// Forward's checks: namespace identifier, topic, timestamp set.
void ValidateEnvelope(const Envelope& env);

struct SubscribeOptions {
  size_t max_events = 4096;  // queued events before the cut-off
  // Queued serialized bytes before the cut-off. Queues share envelopes and
  // all hold a suffix of the same event sequence, so the daemon's memory for
  // queued events stays near this bound however many subscribers there are.
  size_t max_bytes = 16ull << 20;
};

class Subscription;

class Exchange : public plugin::Instance {
 public:
  using Callback = std::function<void(const Envelope&)>;

  Exchange();
  ~Exchange() override;
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // Publish an event in ctx's namespace, stamped now. Throws
  // FailedPrecondition without a namespace, InvalidArgument for a bad topic.
  void Publish(const Context& ctx, const std::string& topic,
               const google::protobuf::Message& event);
  // Forward an envelope as it is (from shims): namespace, topic and timestamp
  // are validated (InvalidArgument) and kept.
  void Forward(const Envelope& env);

  // Filters are containerd filter strings, OR-ed; none = everything. Throws
  // InvalidArgument for a malformed filter ("failed parsing subscription
  // filters: ..."). The subscription ends when it is closed or destroyed.
  std::shared_ptr<Subscription> Subscribe(const std::vector<std::string>& filters,
                                          SubscribeOptions opts = {});
  // Callback style: cb runs on the publishing thread, one event at a time per
  // subscription and in order; it must not block (hand the event on).
  std::shared_ptr<Subscription> Subscribe(const std::vector<std::string>& filters, Callback cb);

  // Live subscriptions (closed ones are removed at once).
  size_t SubscriberCount() const;

  struct Core;

 private:
  void Broadcast(EnvelopePtr env);
  std::shared_ptr<Core> core_;
};

// One subscriber's queue. Consumers either block in Next(), or poll with
// TryNext() and set a notify hook that fires (on a publisher's thread, once)
// when an event arrives after TryNext() found the queue empty.
class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // The next queued event, or null when none is queued. When it returns null
  // the notify hook is armed: it fires once when the next event (or the end)
  // arrives. After the end, returns null and Ended() is true.
  EnvelopePtr TryNext();
  // Blocks until an event is queued, the subscription ended, or the deadline
  // passed; null in the last two cases.
  EnvelopePtr Next(std::optional<std::chrono::steady_clock::time_point> deadline = {});

  // True once the subscription ended and its queue is drained.
  bool Ended() const;
  // Why it ended: nullopt when closed by its owner, ResourceExhausted when
  // the consumer fell behind.
  std::optional<errdefs::Error> EndError() const;

  // Must not block. Never called after Close() returns (Close waits for a
  // call in flight, unless Close runs inside that very call).
  void SetNotify(std::function<void()> fn);

  // Stops delivery and unsubscribes; idempotent.
  void Close();
  size_t Queued() const;

  struct State;

 private:
  friend class Exchange;
  explicit Subscription(std::shared_ptr<State> s) : state_(std::move(s)) {}
  std::shared_ptr<State> state_;
};

}  // namespace mcd::events
