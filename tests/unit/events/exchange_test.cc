#include "events/exchange.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "github.com/containerd/containerd/api/events/namespace.pb.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"

namespace mcd::events {
namespace {

using namespace std::chrono_literals;

containerd::events::NamespaceCreate NsCreate(const std::string& name) {
  containerd::events::NamespaceCreate ev;
  ev.set_name(name);
  return ev;
}

std::string ErrorOf(const std::function<void()>& fn, errdefs::Code* code = nullptr) {
  try {
    fn();
  } catch (const errdefs::Error& e) {
    if (code) *code = e.code();
    return e.what();
  }
  return "<no error>";
}

Envelope ValidEnvelope() {
  Envelope env;
  env.set_namespace_("default");
  env.set_topic("/tasks/exit");
  env.mutable_timestamp()->set_seconds(1700000000);
  containerd::events::TaskExit ev;
  ev.set_id("c1");
  PackEvent(ev, env.mutable_event());
  return env;
}

// A deadline far enough that only a broken exchange hits it; the tests do
// not measure time.
auto Soon() {
  return std::chrono::steady_clock::now() + 10s;
}

TEST(Topic, ContainerdWording) {
  errdefs::Code code{};
  EXPECT_EQ(ErrorOf([] { ValidateTopic(""); }, &code), "must not be empty: invalid argument");
  EXPECT_EQ(code, errdefs::Code::kInvalidArgument);
  EXPECT_EQ(ErrorOf([] { ValidateTopic("tasks/exit"); }), "must start with '/': invalid argument");
  EXPECT_EQ(ErrorOf([] { ValidateTopic("/"); }),
            "must have at least one component: invalid argument");
  EXPECT_EQ(ErrorOf([] { ValidateTopic("/tasks//exit"); }),
            "failed validation on component \"\": identifier must not be empty: invalid argument");
  EXPECT_EQ(ErrorOf([] { ValidateTopic("/tasks/ex it"); }),
            "failed validation on component \"ex it\": identifier \"ex it\" must match "
            "^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$: invalid argument");
  EXPECT_EQ(ErrorOf([] { ValidateTopic("/tasks/exit/"); }),
            "failed validation on component \"\": identifier must not be empty: invalid argument");
  EXPECT_NO_THROW(ValidateTopic("/tasks/exit"));
  EXPECT_NO_THROW(ValidateTopic("/a"));
}

TEST(Publish, NeedsNamespaceAndValidTopic) {
  Exchange ex;
  errdefs::Code code{};
  EXPECT_EQ(ErrorOf([&] { ex.Publish(Context{}, "/namespaces/create", NsCreate("x")); }, &code),
            "failed publishing event: namespace is required: failed precondition");
  EXPECT_EQ(code, errdefs::Code::kFailedPrecondition);
  EXPECT_EQ(ErrorOf([&] { ex.Publish(MakeContext("default"), "bad", NsCreate("x")); }, &code),
            "envelope topic \"bad\": must start with '/': invalid argument");
  EXPECT_EQ(code, errdefs::Code::kInvalidArgument);
}

TEST(Publish, EnvelopeCarriesNamespaceTopicTimeAndTypeUrl) {
  Exchange ex;
  auto sub = ex.Subscribe({});
  ex.Publish(MakeContext("ns1"), "/namespaces/create", NsCreate("ns1"));
  auto env = sub->Next(Soon());
  ASSERT_TRUE(env);
  EXPECT_EQ(env->namespace_(), "ns1");
  EXPECT_EQ(env->topic(), "/namespaces/create");
  EXPECT_GT(env->timestamp().seconds(), 1600000000);
  EXPECT_EQ(env->event().type_url(), "containerd.events.NamespaceCreate");
  containerd::events::NamespaceCreate got;
  ASSERT_TRUE(got.ParseFromString(env->event().value()));
  EXPECT_EQ(got.name(), "ns1");
}

TEST(Publish, AnyIsKeptAsIs) {
  Exchange ex;
  auto sub = ex.Subscribe({});
  google::protobuf::Any any;
  any.set_type_url("some.Custom");
  any.set_value("raw");
  ex.Publish(MakeContext("default"), "/custom/thing", any);
  auto env = sub->Next(Soon());
  ASSERT_TRUE(env);
  EXPECT_EQ(env->event().type_url(), "some.Custom");
  EXPECT_EQ(env->event().value(), "raw");
}

TEST(Forward, KeepsEnvelope) {
  Exchange ex;
  auto sub = ex.Subscribe({});
  auto in = ValidEnvelope();
  ex.Forward(in);
  auto env = sub->Next(Soon());
  ASSERT_TRUE(env);
  EXPECT_EQ(env->SerializeAsString(), in.SerializeAsString());
}

TEST(Forward, Validation) {
  Exchange ex;
  errdefs::Code code{};
  auto env = ValidEnvelope();
  env.set_namespace_("");
  EXPECT_EQ(ErrorOf([&] { ex.Forward(env); }, &code),
            "event envelope has invalid namespace: identifier must not be empty: invalid argument");
  EXPECT_EQ(code, errdefs::Code::kInvalidArgument);
  env.set_namespace_("bad ns");
  EXPECT_EQ(ErrorOf([&] { ex.Forward(env); }),
            "event envelope has invalid namespace: identifier \"bad ns\" must match "
            "^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$: invalid argument");

  env = ValidEnvelope();
  env.set_topic("/tasks/");
  EXPECT_EQ(ErrorOf([&] { ex.Forward(env); }, &code),
            "envelope topic \"/tasks/\": failed validation on component \"\": identifier must "
            "not be empty: invalid argument");
  EXPECT_EQ(code, errdefs::Code::kInvalidArgument);

  env = ValidEnvelope();
  env.clear_timestamp();
  EXPECT_EQ(ErrorOf([&] { ex.Forward(env); }, &code),
            "timestamp must be set on forwarded event: invalid argument");
  EXPECT_EQ(code, errdefs::Code::kInvalidArgument);
  // Go's zero time.Time, as a Go client encodes an unset timestamp.
  env.mutable_timestamp()->set_seconds(-62135596800);
  EXPECT_EQ(ErrorOf([&] { ex.Forward(env); }),
            "timestamp must be set on forwarded event: invalid argument");
}

TEST(Subscribe, OrderIsKeptPerSubscriber) {
  Exchange ex;
  auto a = ex.Subscribe({});
  auto b = ex.Subscribe({});
  for (int i = 0; i < 50; ++i) {
    ex.Publish(MakeContext("default"), "/n/" + std::to_string(i), NsCreate("x"));
  }
  for (auto* s : {a.get(), b.get()}) {
    for (int i = 0; i < 50; ++i) {
      auto env = s->Next(Soon());
      ASSERT_TRUE(env);
      EXPECT_EQ(env->topic(), "/n/" + std::to_string(i));
    }
    EXPECT_EQ(s->TryNext(), nullptr);
  }
}

TEST(Subscribe, SlowSubscriberBlocksNobodyAndIsCutOff) {
  Exchange ex;
  // Never read: its queue fills up to the limit, then it is cut off.
  auto slow = ex.Subscribe({}, SubscribeOptions{.max_events = 8});
  std::atomic<int> fast_seen{0};
  auto fast = ex.Subscribe({}, [&](const Envelope&) { fast_seen++; });
  EXPECT_EQ(ex.SubscriberCount(), 2u);
  for (int i = 0; i < 100; ++i) ex.Publish(MakeContext("default"), "/t/x", NsCreate("x"));
  // Publishing returned for all 100 while `slow` read nothing.
  EXPECT_EQ(fast_seen.load(), 100);
  EXPECT_EQ(ex.SubscriberCount(), 1u);  // slow was removed
  // The slow one still gets what was queued, then the reason it ended.
  int got = 0;
  while (slow->Next(Soon())) ++got;
  EXPECT_EQ(got, 8);
  EXPECT_TRUE(slow->Ended());
  auto err = slow->EndError();
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code(), errdefs::Code::kResourceExhausted);
}

TEST(Subscribe, ByteLimitCutsOff) {
  Exchange ex;
  auto slow = ex.Subscribe({}, SubscribeOptions{.max_events = 1000, .max_bytes = 200});
  for (int i = 0; i < 10; ++i) {
    ex.Publish(MakeContext("default"), "/t/x", NsCreate(std::string(60, 'a')));
  }
  EXPECT_EQ(ex.SubscriberCount(), 0u);
  int got = 0;
  while (slow->Next(Soon())) ++got;
  EXPECT_GE(got, 1);
  EXPECT_LT(got, 10);
  EXPECT_EQ(slow->EndError()->code(), errdefs::Code::kResourceExhausted);
}

TEST(Subscribe, BlockedConsumerDoesNotBlockPublisher) {
  Exchange ex;
  // This subscriber's callback blocks until released: it runs on the first
  // publisher's thread, and a second publisher must still get through to
  // another subscriber.
  std::mutex mu;
  std::condition_variable cv;
  bool release = false, entered = false;
  auto blocker = ex.Subscribe({}, [&](const Envelope&) {
    std::unique_lock lk(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lk, [&] { return release; });
  });
  auto other = ex.Subscribe({});
  std::thread t([&] { ex.Publish(MakeContext("default"), "/block", NsCreate("x")); });
  {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return entered; });
  }
  ex.Publish(MakeContext("default"), "/after", NsCreate("x"));
  EXPECT_TRUE(other->Next(Soon()));
  auto second = other->Next(Soon());
  ASSERT_TRUE(second);
  EXPECT_EQ(second->topic(), "/after");
  {
    std::lock_guard lk(mu);
    release = true;
  }
  cv.notify_all();
  t.join();
}

TEST(Subscribe, CloseUnsubscribesAndWakesWaiter) {
  Exchange ex;
  auto sub = ex.Subscribe({});
  EXPECT_EQ(ex.SubscriberCount(), 1u);
  std::thread waiter([&] { EXPECT_EQ(sub->Next(), nullptr); });
  sub->Close();
  waiter.join();
  EXPECT_EQ(ex.SubscriberCount(), 0u);
  EXPECT_TRUE(sub->Ended());
  EXPECT_FALSE(sub->EndError());
  ex.Publish(MakeContext("default"), "/t/x", NsCreate("x"));
  EXPECT_EQ(sub->TryNext(), nullptr);
}

TEST(Subscribe, DroppingSubscriptionUnsubscribes) {
  Exchange ex;
  {
    auto a = ex.Subscribe({});
    auto b = ex.Subscribe({}, [](const Envelope&) {});
    EXPECT_EQ(ex.SubscriberCount(), 2u);
  }
  EXPECT_EQ(ex.SubscriberCount(), 0u);
  ex.Publish(MakeContext("default"), "/t/x", NsCreate("x"));
}

TEST(Subscribe, NotifyFiresOncePerIdlePeriod) {
  Exchange ex;
  auto sub = ex.Subscribe({});
  std::atomic<int> calls{0};
  sub->SetNotify([&] { calls++; });
  EXPECT_EQ(sub->TryNext(), nullptr);  // arms
  ex.Publish(MakeContext("default"), "/t/a", NsCreate("x"));
  ex.Publish(MakeContext("default"), "/t/b", NsCreate("x"));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_TRUE(sub->TryNext());
  EXPECT_TRUE(sub->TryNext());
  EXPECT_EQ(sub->TryNext(), nullptr);  // re-arms
  ex.Publish(MakeContext("default"), "/t/c", NsCreate("x"));
  EXPECT_EQ(calls.load(), 2);
}

TEST(Subscribe, CloseFromInsideNotify) {
  Exchange ex;
  std::shared_ptr<Subscription> sub = ex.Subscribe({});
  sub->SetNotify([&] { sub->Close(); });
  EXPECT_EQ(sub->TryNext(), nullptr);
  ex.Publish(MakeContext("default"), "/t/a", NsCreate("x"));
  EXPECT_EQ(ex.SubscriberCount(), 0u);
}

TEST(Subscribe, ConcurrentPublishersAndChurn) {
  Exchange ex;
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    while (!stop) {
      auto s = ex.Subscribe({});
      s->SetNotify([] {});
      s->TryNext();
    }
  });
  auto keep = ex.Subscribe({}, SubscribeOptions{.max_events = 100000});
  std::vector<std::thread> pubs;
  for (int p = 0; p < 4; ++p) {
    pubs.emplace_back([&] {
      for (int i = 0; i < 500; ++i) ex.Publish(MakeContext("default"), "/t/x", NsCreate("x"));
    });
  }
  for (auto& t : pubs) t.join();
  stop = true;
  churn.join();
  EXPECT_EQ(keep->Queued(), 2000u);
  EXPECT_EQ(ex.SubscriberCount(), 1u);
}

TEST(Subscribe, ExchangeGoneEndsSubscriptions) {
  std::shared_ptr<Subscription> sub;
  {
    Exchange ex;
    sub = ex.Subscribe({});
  }
  EXPECT_EQ(sub->Next(), nullptr);
  EXPECT_TRUE(sub->Ended());
  sub->Close();
}

}  // namespace
}  // namespace mcd::events
