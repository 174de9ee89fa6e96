#include "pkg/serial_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <vector>

namespace mcd {
namespace {

TEST(SerialQueue, RunsJobsInOrderOnItsOwnThread) {
  std::vector<int> order;
  std::thread::id ran_on;
  {
    SerialQueue q;
    for (int i = 0; i < 50; ++i) {
      q.Post([&order, &ran_on, i] {
        ran_on = std::this_thread::get_id();
        order.push_back(i);
      });
    }
    q.Drain();
    EXPECT_EQ(order.size(), 50u);
  }
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[i], i);
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST(SerialQueue, DrainWaitsForTheJobBeingRun) {
  SerialQueue q;
  std::promise<void> started;
  std::promise<void> release;
  std::atomic<bool> done{false};
  q.Post([&] {
    started.set_value();
    release.get_future().wait();
    done = true;
  });
  started.get_future().wait();  // the job is running, not queued
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    release.set_value();
  });
  q.Drain();
  EXPECT_TRUE(done);
  releaser.join();
}

TEST(SerialQueue, AThrowingJobDoesNotStopTheQueue) {
  SerialQueue q;
  bool after = false;
  q.Post([] { throw std::runtime_error("boom"); });
  q.Post([&] { after = true; });
  q.Drain();
  EXPECT_TRUE(after);
}

TEST(SerialQueue, DestructionRunsWhatIsQueued) {
  std::atomic<int> ran{0};
  {
    SerialQueue q;
    for (int i = 0; i < 20; ++i) q.Post([&] { ++ran; });
  }
  EXPECT_EQ(ran, 20);
}

TEST(SerialQueue, HeldJobsWaitForQuietOrDrain) {
  SerialQueue q(std::chrono::hours(1), std::chrono::hours(1));
  std::atomic<int> ran{0};
  for (int i = 0; i < 3; ++i) q.Post([&] { ++ran; });
  // Time for a queue that ignored the quiet period to run them.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(ran, 0);
  q.Drain();
  EXPECT_EQ(ran, 3);
}

TEST(SerialQueue, HeldJobsRunOnceTheQuietPeriodPasses) {
  SerialQueue q(std::chrono::milliseconds(5), std::chrono::hours(1));
  std::promise<void> ran;
  q.Post([&] { ran.set_value(); });
  EXPECT_EQ(ran.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready);
}

TEST(SerialQueue, PostsThatKeepComingDoNotHoldJobsPastMaxWait) {
  SerialQueue q(std::chrono::hours(1), std::chrono::milliseconds(20));
  std::promise<void> ran;
  auto f = ran.get_future();
  q.Post([&] { ran.set_value(); });
  // Posting never pauses for the quiet period, yet the first job runs.
  bool ready = false;
  for (int i = 0; i < 60000 && !ready; ++i) {
    q.Post([] {});
    ready = f.wait_for(std::chrono::milliseconds(1)) == std::future_status::ready;
  }
  EXPECT_TRUE(ready);
  q.Drain();
}

}  // namespace
}  // namespace mcd
