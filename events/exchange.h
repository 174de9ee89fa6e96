#pragma once
// The event exchange (containerd's events/exchange): services publish,
// shims forward, subscribers receive what their filters select. Delivery to a
// subscriber is a callback that must not block: each subscriber queues on its
// own, so a slow one never holds up publishers or the others.
#include <google/protobuf/message.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "github.com/containerd/containerd/api/services/events/v1/events.pb.h"
#include "pkg/context.h"
#include "plugins/plugin.h"

namespace mcd::events {

using Envelope = containerd::services::events::v1::Envelope;

// containerd's type URL for an event: the message's full proto name
// ("containerd.events.ContainerCreate"), not the type.googleapis.com form.
void PackEvent(const google::protobuf::Message& event, google::protobuf::Any* any);

// Topic rules: "/" + identifiers separated by "/". Throws InvalidArgument.
void ValidateTopic(const std::string& topic);

class Subscription;

class Exchange : public plugin::Instance {
 public:
  using Callback = std::function<void(const Envelope&)>;

  Exchange() = default;

  // Publish an event in ctx's namespace, stamped now.
  void Publish(const Context& ctx, const std::string& topic, const google::protobuf::Message& event);
  // Forward an envelope as it is (from shims): namespace, topic and timestamp
  // are validated and kept.
  void Forward(const Envelope& env);

  // Filters are containerd filter strings, OR-ed; none = everything. Throws
  // InvalidArgument for a malformed filter. Dropping the Subscription ends it.
  std::shared_ptr<Subscription> Subscribe(const std::vector<std::string>& filters, Callback cb);

  size_t SubscriberCount() const;

 private:
  friend class Subscription;
  void Broadcast(const Envelope& env);
  void Remove(Subscription* s);

  mutable std::mutex mu_;
  std::vector<Subscription*> subs_;
};

class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

 private:
  friend class Exchange;
  Subscription() = default;
  bool Matches(const Envelope& env) const;

  Exchange* exchange_ = nullptr;
  Exchange::Callback cb_;
  struct Matcher;
  std::vector<std::shared_ptr<const Matcher>> matchers_;
};

}  // namespace mcd::events
