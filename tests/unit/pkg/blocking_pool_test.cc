#include "pkg/blocking_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <stdexcept>

namespace mcd {
namespace {

// Every job blocks until all of them run: only a pool that adds a thread for
// each job that finds none idle gets through.
TEST(BlockingPool, BlockedJobsDoNotHoldUpNewOnes) {
  constexpr int kJobs = 16;
  BlockingPool pool;
  std::latch all_running(kJobs);
  for (int i = 0; i < kJobs; ++i) pool.Post([&] { all_running.arrive_and_wait(); });
  all_running.wait();
  EXPECT_GE(pool.threads(), static_cast<size_t>(kJobs));
}

TEST(BlockingPool, IdleThreadsAreReused) {
  BlockingPool pool;
  for (int i = 0; i < 20; ++i) {
    std::promise<void> ran;
    pool.Post([&] { ran.set_value(); });
    ran.get_future().wait();
  }
  // One job at a time: the first thread takes each (a thread that has just
  // finished may not yet count as idle, so allow a second).
  EXPECT_LE(pool.threads(), 2u);
}

TEST(BlockingPool, AThrowingJobLeavesThePoolWorking) {
  BlockingPool pool;
  pool.Post([] { throw std::runtime_error("boom"); });
  std::promise<void> ran;
  pool.Post([&] { ran.set_value(); });
  EXPECT_EQ(ran.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
}

TEST(BlockingPool, DestructionWaitsForQueuedAndRunningJobs) {
  std::atomic<int> done{0};
  {
    BlockingPool pool;
    for (int i = 0; i < 8; ++i) {
      pool.Post([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        ++done;
      });
    }
  }
  EXPECT_EQ(done.load(), 8);
}

TEST(BlockingPool, IdleThreadsEnd) {
  BlockingPool pool(std::chrono::milliseconds(1));
  std::promise<void> ran;
  pool.Post([&] { ran.set_value(); });
  ran.get_future().wait();
  // The thread ends on its own; the destructor then has none to wait for.
  // Checked through the count, which reaches zero with no job posted.
  for (int i = 0; i < 10000 && pool.threads() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(pool.threads(), 0u);
}

}  // namespace
}  // namespace mcd
