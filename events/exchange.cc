#include "events/exchange.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>

#include "pkg/errdefs.h"
#include "pkg/identifiers.h"

namespace mcd::events {

struct Subscription::Matcher {
  // TODO(events): containerd filter expressions over topic, namespace, event.
  std::string expr;
};

void PackEvent(const google::protobuf::Message& event, google::protobuf::Any* any) {
  any->set_type_url(event.GetDescriptor()->full_name());
  event.SerializeToString(any->mutable_value());
}

void ValidateTopic(const std::string& topic) {
  if (topic.empty()) throw errdefs::InvalidArgument("must not be empty");
  if (topic[0] != '/') throw errdefs::InvalidArgument("must start with '/'");
  size_t start = 1;
  while (true) {
    size_t end = topic.find('/', start);
    std::string part = topic.substr(start, end == std::string::npos ? end : end - start);
    if (!identifiers::IsValid(part)) {
      throw errdefs::InvalidArgument("failed validation on component " + part);
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

void Exchange::Publish(const Context& ctx, const std::string& topic,
                       const google::protobuf::Message& event) {
  Envelope env;
  env.set_namespace_(ctx.Namespace());
  ValidateTopic(topic);
  env.set_topic(topic);
  *env.mutable_timestamp() = google::protobuf::util::TimeUtil::GetCurrentTime();
  PackEvent(event, env.mutable_event());
  Broadcast(env);
}

void Exchange::Forward(const Envelope& env) {
  if (!identifiers::IsValid(env.namespace_())) {
    identifiers::Validate(env.namespace_());
  }
  ValidateTopic(env.topic());
  if (env.timestamp().seconds() == 0 && env.timestamp().nanos() == 0) {
    throw errdefs::InvalidArgument("timestamp must be set");
  }
  Broadcast(env);
}

std::shared_ptr<Subscription> Exchange::Subscribe(const std::vector<std::string>& filters,
                                                  Callback cb) {
  std::shared_ptr<Subscription> s(new Subscription());
  s->exchange_ = this;
  s->cb_ = std::move(cb);
  for (const auto& f : filters) s->matchers_.push_back(std::make_shared<Subscription::Matcher>(Subscription::Matcher{f}));
  std::lock_guard lk(mu_);
  subs_.push_back(s.get());
  return s;
}

size_t Exchange::SubscriberCount() const {
  std::lock_guard lk(mu_);
  return subs_.size();
}

void Exchange::Broadcast(const Envelope& env) {
  std::lock_guard lk(mu_);
  for (auto* s : subs_) {
    if (s->Matches(env)) s->cb_(env);
  }
}

void Exchange::Remove(Subscription* s) {
  std::lock_guard lk(mu_);
  subs_.erase(std::remove(subs_.begin(), subs_.end(), s), subs_.end());
}

Subscription::~Subscription() {
  if (exchange_) exchange_->Remove(this);
}

bool Subscription::Matches(const Envelope&) const { return true; }

namespace {
// The exchange is created by the daemon (InitContext::events); this plugin
// exposes it under containerd's event plugin name.
struct ExchangeHolder : plugin::Instance {};
plugin::Registrar reg{{
    .type = plugin::kEvent,
    .id = "exchange",
    .requires_ = {},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      return std::shared_ptr<plugin::Instance>(std::shared_ptr<plugin::Instance>{}, ic.events);
    },
}};
}  // namespace

}  // namespace mcd::events
