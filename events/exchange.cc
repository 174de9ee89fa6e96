#include "events/exchange.h"

#include <fmt/format.h>

#include <algorithm>

#include "events/fieldpath.h"
#include "pkg/identifiers.h"
#include "pkg/log.h"
#include "pkg/timestamp.h"

namespace mcd::events {
namespace {

// containerd wraps errors with fmt.Errorf("<context>: %w"): same class, the
// context in front of the message.
errdefs::Error Wrap(const std::string& context, const errdefs::Error& e) {
  return errdefs::Error(e.code(), context + ": " + e.what());
}

// The subscription whose notify hook this thread is running, so Close() from
// inside the hook does not wait for itself.
thread_local const Subscription::State* tls_notifying = nullptr;

}  // namespace

struct Exchange::Core {
  // Serialises broadcasts (one global delivery order) and guards subs.
  std::mutex mu;
  std::vector<std::shared_ptr<Subscription::State>> subs;
};

struct Subscription::State {
  struct Item {
    EnvelopePtr env;
    size_t bytes;
  };

  std::weak_ptr<Exchange::Core> core;
  filters::Filter filter;
  SubscribeOptions opts;

  mutable std::mutex mu;
  std::condition_variable cv;  // Next() waiters; Close() waiting for notify calls
  int waiters = 0;             // threads blocked on cv: only then is it signalled
  std::deque<Item> queue;
  size_t bytes = 0;
  bool armed = true;   // the consumer saw an empty queue: wake it on the next push
  bool ended = false;  // nothing more will be queued
  std::optional<errdefs::Error> error;
  std::function<void()> notify;
  int notifying = 0;  // notify calls in flight

  // Queues env; true when the consumer must be woken. *gone is set when the
  // subscription no longer takes events. Called with the exchange's lock
  // held, so it only takes this subscription's lock briefly.
  bool Push(const EnvelopePtr& env, size_t size, bool* gone) {
    std::lock_guard lk(mu);
    *gone = ended;
    if (ended) return false;
    if (!queue.empty() && (queue.size() >= opts.max_events || bytes + size > opts.max_bytes)) {
      ended = true;
      error = errdefs::Make(errdefs::Code::kResourceExhausted,
                            fmt::format("event subscriber too slow: {} events ({} bytes) queued",
                                        queue.size(), bytes));
    } else {
      queue.push_back({env, size});
      bytes += size;
    }
    *gone = ended;
    if (waiters) cv.notify_all();
    return std::exchange(armed, false);
  }

  // Ends the subscription from the exchange's side (overflow handled in Push).
  bool End(errdefs::Error why) {
    std::lock_guard lk(mu);
    if (ended) return false;
    ended = true;
    error = std::move(why);
    cv.notify_all();
    return std::exchange(armed, false);
  }

  void Notify() {
    std::function<void()> fn;
    {
      std::lock_guard lk(mu);
      if (!notify) return;
      fn = notify;
      ++notifying;
    }
    const State* prev = std::exchange(tls_notifying, this);
    try {
      fn();
    } catch (const std::exception& e) {
      log::Error("event subscriber notify failed", {{"error", e.what()}});
    }
    tls_notifying = prev;
    std::lock_guard lk(mu);
    --notifying;
    if (waiters) cv.notify_all();
  }

  EnvelopePtr PopLocked() {
    if (queue.empty()) return nullptr;
    Item it = std::move(queue.front());
    queue.pop_front();
    bytes -= it.bytes;
    return std::move(it.env);
  }
};

void PackEvent(const google::protobuf::Message& event, google::protobuf::Any* any) {
  if (event.GetDescriptor()->full_name() == google::protobuf::Any::descriptor()->full_name()) {
    // Already packed (a client's Publish): containerd's typeurl keeps it as is.
    any->CopyFrom(event);
    return;
  }
  any->set_type_url(event.GetDescriptor()->full_name());
  event.SerializeToString(any->mutable_value());
}

void ValidateTopic(const std::string& topic) {
  if (topic.empty()) throw errdefs::InvalidArgument("must not be empty");
  if (topic[0] != '/') throw errdefs::InvalidArgument("must start with '/'");
  if (topic.size() == 1) throw errdefs::InvalidArgument("must have at least one component");
  size_t start = 1;
  while (true) {
    const size_t end = topic.find('/', start);
    const std::string part =
        topic.substr(start, end == std::string::npos ? std::string::npos : end - start);
    try {
      identifiers::Validate(part);
    } catch (const errdefs::Error& e) {
      throw Wrap(fmt::format("failed validation on component {:?}", part), e);
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

void ValidateEnvelope(const Envelope& env) {
  try {
    identifiers::Validate(env.namespace_());
  } catch (const errdefs::Error& e) {
    throw Wrap("event envelope has invalid namespace", e);
  }
  try {
    ValidateTopic(env.topic());
  } catch (const errdefs::Error& e) {
    throw Wrap(fmt::format("envelope topic {:?}", env.topic()), e);
  }
  // Go's time.Time.IsZero: no timestamp, or the zero time the Go client sends.
  if (!env.has_timestamp() || IsGoZero(env.timestamp())) {
    throw errdefs::InvalidArgument("timestamp must be set on forwarded event");
  }
}

Exchange::Exchange() : core_(std::make_shared<Core>()) {}

Exchange::~Exchange() {
  std::vector<std::shared_ptr<Subscription::State>> subs;
  {
    std::lock_guard lk(core_->mu);
    subs.swap(core_->subs);
  }
  for (auto& s : subs) {
    if (s->End(errdefs::Unavailable("event exchange closed"))) s->Notify();
  }
}

void Exchange::Publish(const Context& ctx, const std::string& topic,
                       const google::protobuf::Message& event) {
  auto env = std::make_shared<Envelope>();
  try {
    env->set_namespace_(ctx.Namespace());
  } catch (const errdefs::Error& e) {
    throw Wrap("failed publishing event", e);
  }
  try {
    ValidateTopic(topic);
  } catch (const errdefs::Error& e) {
    throw Wrap(fmt::format("envelope topic {:?}", topic), e);
  }
  env->set_topic(topic);
  *env->mutable_timestamp() = ToTimestamp(std::chrono::system_clock::now());
  PackEvent(event, env->mutable_event());
  log::Debug("event published",
             {{"ns", env->namespace_()}, {"topic", topic}, {"type", env->event().type_url()}});
  Broadcast(std::move(env));
}

void Exchange::Forward(const Envelope& env) {
  ValidateEnvelope(env);
  log::Debug("event forwarded",
             {{"ns", env.namespace_()}, {"topic", env.topic()}, {"type", env.event().type_url()}});
  Broadcast(std::make_shared<const Envelope>(env));
}

std::shared_ptr<Subscription> Exchange::Subscribe(const std::vector<std::string>& filters,
                                                  SubscribeOptions opts) {
  auto st = std::make_shared<Subscription::State>();
  try {
    st->filter = filters::ParseAll(filters);
  } catch (const errdefs::Error& e) {
    throw Wrap("failed parsing subscription filters", e);
  }
  st->core = core_;
  st->opts = opts;
  size_t n = 0;
  {
    std::lock_guard lk(core_->mu);
    core_->subs.push_back(st);
    n = core_->subs.size();
  }
  log::Debug("event subscription added", {{"subscribers", std::to_string(n)}});
  return std::shared_ptr<Subscription>(new Subscription(std::move(st)));
}

std::shared_ptr<Subscription> Exchange::Subscribe(const std::vector<std::string>& filters,
                                                  Callback cb) {
  auto sub = Subscribe(filters, SubscribeOptions{});
  // Drain on the waking publisher's thread: only one thread drains at a time
  // (the hook is re-armed only when the queue is found empty), so cb sees
  // events one at a time, in order.
  Subscription::State* st = sub->state_.get();
  sub->SetNotify([st, cb = std::move(cb)] {
    for (;;) {
      EnvelopePtr env;
      {
        std::lock_guard lk(st->mu);
        env = st->PopLocked();
        if (!env) {
          st->armed = true;
          return;
        }
      }
      cb(*env);
    }
  });
  return sub;
}

size_t Exchange::SubscriberCount() const {
  std::lock_guard lk(core_->mu);
  return core_->subs.size();
}

void Exchange::Broadcast(EnvelopePtr env) {
  const size_t size = env->ByteSizeLong();
  EnvelopeFields fields(*env);  // decodes the event once, if a filter asks
  const filters::Adaptor adaptor = [&fields](const std::vector<std::string>& path) {
    return fields(path);
  };
  std::vector<std::shared_ptr<Subscription::State>> wake;
  {
    std::lock_guard lk(core_->mu);
    bool overflowed = false;
    for (const auto& s : core_->subs) {
      bool match = false;
      try {
        match = s->filter.Match(adaptor);
      } catch (const std::exception& e) {
        log::Warn("event filter failed", {{"error", e.what()}});
      }
      if (!match) continue;
      bool gone = false;
      if (s->Push(env, size, &gone)) wake.push_back(s);
      overflowed |= gone;
    }
    if (overflowed) {
      std::erase_if(core_->subs, [](const auto& s) {
        std::lock_guard slk(s->mu);
        return s->ended;
      });
      log::Warn("event subscriber cut off: too slow",
                {{"subscribers", std::to_string(core_->subs.size())}});
    }
  }
  // Outside the exchange's lock: a hook may start I/O or publish again.
  for (const auto& s : wake) s->Notify();
}

Subscription::~Subscription() {
  Close();
}

EnvelopePtr Subscription::TryNext() {
  std::lock_guard lk(state_->mu);
  auto env = state_->PopLocked();
  if (!env) state_->armed = true;
  return env;
}

EnvelopePtr Subscription::Next(std::optional<std::chrono::steady_clock::time_point> deadline) {
  std::unique_lock lk(state_->mu);
  auto ready = [&] { return !state_->queue.empty() || state_->ended; };
  ++state_->waiters;
  if (deadline) {
    state_->cv.wait_until(lk, *deadline, ready);
  } else {
    state_->cv.wait(lk, ready);
  }
  --state_->waiters;
  return state_->PopLocked();
}

bool Subscription::Ended() const {
  std::lock_guard lk(state_->mu);
  return state_->ended && state_->queue.empty();
}

std::optional<errdefs::Error> Subscription::EndError() const {
  std::lock_guard lk(state_->mu);
  return state_->error;
}

void Subscription::SetNotify(std::function<void()> fn) {
  std::lock_guard lk(state_->mu);
  state_->notify = std::move(fn);
}

void Subscription::Close() {
  if (auto core = state_->core.lock()) {
    size_t removed = 0, n = 0;
    {
      std::lock_guard lk(core->mu);
      removed = std::erase(core->subs, state_);
      n = core->subs.size();
    }
    if (removed) log::Debug("event subscription removed", {{"subscribers", std::to_string(n)}});
  }
  std::unique_lock lk(state_->mu);
  state_->ended = true;
  state_->notify = nullptr;
  state_->queue.clear();
  state_->bytes = 0;
  state_->cv.notify_all();
  // A notify call in flight may still use the hook's captures: wait for it,
  // except for the call this very thread is inside.
  const int self = tls_notifying == state_.get() ? 1 : 0;
  ++state_->waiters;
  state_->cv.wait(lk, [&] { return state_->notifying <= self; });
  --state_->waiters;
}

size_t Subscription::Queued() const {
  std::lock_guard lk(state_->mu);
  return state_->queue.size();
}

namespace {
// The exchange is created by the daemon (InitContext::events); this plugin
// exposes it under containerd's event plugin name.
plugin::Registrar reg{{
    .type = plugin::kEvent,
    .id = "exchange",
    .requires_ = {},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      // Non-owning: the daemon owns the exchange and outlives every plugin.
      return std::shared_ptr<plugin::Instance>(std::shared_ptr<plugin::Instance>{}, ic.events);
    },
}};
}  // namespace

}  // namespace mcd::events
