#include "pkg/blocking_pool.h"

#include "pkg/errdefs.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <stdexcept>
#include <system_error>
#include <thread>

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

// Waits (bounded) until every thread of the pool waits for a job.
bool AllIdle(const BlockingPool& pool) {
  for (int i = 0; i < 30000; ++i) {
    if (pool.idle() == pool.threads()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

TEST(BlockingPool, AnIdleThreadTakesTheNextJob) {
  BlockingPool pool;
  for (int i = 0; i < 5; ++i) {
    std::promise<void> ran;
    pool.Post([&] { ran.set_value(); });
    ran.get_future().wait();
    ASSERT_TRUE(AllIdle(pool));
    EXPECT_EQ(pool.threads(), 1u);
  }
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
  // The thread ends on its own: the count reaches zero with no job posted.
  for (int i = 0; i < 30000 && pool.threads() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(pool.threads(), 0u);
}

// A starter that starts `allowed` threads, then fails as a process at its
// thread limit does.
BlockingPool::ThreadStarter Limited(std::atomic<int>& allowed) {
  return [&allowed](std::function<void()> fn) {
    if (allowed.fetch_sub(1) <= 0) throw std::system_error(EAGAIN, std::generic_category());
    BlockingPool::StartDetached(std::move(fn));
  };
}

TEST(BlockingPool, NoThreadAtAllIsUnavailableAndKeepsNoJob) {
  std::atomic<int> allowed{0};
  BlockingPool pool(std::chrono::minutes(1), Limited(allowed));
  bool ran = false;
  try {
    pool.Post([&] { ran = true; });
    FAIL() << "Post did not throw";
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kUnavailable) << e.what();
  }
  EXPECT_EQ(pool.threads(), 0u);
  EXPECT_FALSE(ran);
}

TEST(BlockingPool, AtTheThreadLimitJobsWaitForABusyThread) {
  std::atomic<int> allowed{1};
  std::atomic<int> done{0};
  {
    BlockingPool pool(std::chrono::minutes(1), Limited(allowed));
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    pool.Post([&, released] {
      released.wait();
      ++done;
    });
    // No second thread can start: these queue behind the first job.
    for (int i = 0; i < 3; ++i) pool.Post([&] { ++done; });
    EXPECT_EQ(pool.threads(), 1u);
    EXPECT_EQ(done.load(), 0);
    release.set_value();
  }
  EXPECT_EQ(done.load(), 4);
}

}  // namespace
}  // namespace mcd
