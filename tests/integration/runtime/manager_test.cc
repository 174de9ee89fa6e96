// The TaskManager against the real containerd-shim-runc-v2 and runc, without
// the daemon: a busybox rootfs bind-mounted by the shim, create/start/wait/
// delete, a shim killed under it, a restart that reconnects, and the
// start-up walk over fake dead bundles.
#include "runtime/v2/manager.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <map>
#include <nlohmann/json.hpp>

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "tests/integration/runtime/support.h"

namespace mcd::runtime {
namespace {

using namespace std::chrono_literals;

class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* t : {"runc", "containerd-shim-runc-v2"}) itest::Require(t);
    ASSERT_EQ(::geteuid(), 0u) << "these tests need root";
    dir_ = tmp_.path();
    // A minimal busybox rootfs.
    fs::MkdirAll(dir_ + "/rootfs/bin", 0755);
    for (const char* d : {"proc", "sys", "dev", "tmp", "etc"})
      fs::MkdirAll(dir_ + "/rootfs/" + d, 0755);
    ASSERT_EQ(std::system(("cp /bin/busybox " + dir_ + "/rootfs/bin/busybox").c_str()), 0);
    for (const char* a : {"sh", "sleep", "echo", "cat", "true"})
      ASSERT_EQ(::symlink("busybox", (dir_ + "/rootfs/bin/" + a).c_str()), 0);
    auto r = itest::Sh({"sh", "-c", "cd " + dir_ + " && runc spec && cat config.json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    spec_ = nlohmann::json::parse(r.out);
    spec_["process"]["terminal"] = false;
    spec_["root"]["readonly"] = false;
    cfg_.root = dir_ + "/root/io.containerd.runtime.v2.task";
    cfg_.state = dir_ + "/state/io.containerd.runtime.v2.task";
    // No daemon: the shim's callbacks and events have nowhere to go, which
    // the shim tolerates.
    cfg_.grpc_address = dir_ + "/none.sock";
    cfg_.ttrpc_address = dir_ + "/none.sock.ttrpc";
    cfg_.self = "/bin/true";
    sub_ = events_.Subscribe({}, [this](const events::Envelope& env) {
      std::lock_guard lk(mu_);
      topics_.push_back(env.topic());
      containerd::events::TaskDelete d;
      if (env.topic() == "/tasks/delete" && d.ParseFromString(env.event().value()))
        deletes_[d.container_id()] = d;
      cv_.notify_all();
    });
  }
  void TearDown() override {
    for (auto& m : managers_) {
      for (auto& t : m->List("")) {
        try {
          containerd::task::v2::KillRequest k;
          k.set_id(t->id());
          k.set_signal(9);
          k.set_all(true);
          google::protobuf::Empty e;
          t->Call("Kill", k, &e, 5s);
        } catch (...) {
        }
        try {
          m->Delete(MakeContext("default"), t->id());
        } catch (...) {
        }
      }
      m->Close();
    }
  }

  std::shared_ptr<TaskManager> NewManager() {
    auto m = std::make_shared<TaskManager>(cfg_, &events_);
    m->Load();
    m->Serving();
    managers_.push_back(m);
    return m;
  }

  CreateOpts Opts(std::vector<std::string> args, const std::string& out = "") {
    CreateOpts o;
    auto s = spec_;
    s["process"]["args"] = args;
    o.spec = s.dump();
    containerd::types::Mount m;
    m.set_type("bind");
    m.set_source(dir_ + "/rootfs");
    m.add_options("rbind");
    m.add_options("rw");
    o.rootfs.push_back(m);
    // The runc shim needs both streams when one is a file:// URI.
    if (!out.empty()) {
      o.stdout_path = "file://" + out;
      o.stderr_path = "file://" + out + ".err";
    }
    o.runtime = "io.containerd.runc.v2";
    return o;
  }

  // Waits (condition variable, no polling) for `n` events of a topic.
  bool WaitTopic(const std::string& topic, size_t n = 1) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, 60s, [&] {
      return static_cast<size_t>(std::count(topics_.begin(), topics_.end(), topic)) >= n;
    });
  }

  uint32_t WaitExit(Task& t) {
    containerd::task::v2::WaitRequest w;
    w.set_id(t.id());
    containerd::task::v2::WaitResponse resp;
    t.Call("Wait", w, &resp, 60s);
    return resp.exit_status();
  }

  void Start(Task& t) {
    containerd::task::v2::StartRequest s;
    s.set_id(t.id());
    containerd::task::v2::StartResponse resp;
    t.Call("Start", s, &resp);
  }

  itest::TempDir tmp_;
  std::string dir_;
  nlohmann::json spec_;
  ManagerConfig cfg_;
  events::Exchange events_;
  std::shared_ptr<events::Subscription> sub_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> topics_;
  std::map<std::string, containerd::events::TaskDelete> deletes_;  // by container id
  std::vector<std::shared_ptr<TaskManager>> managers_;
};

TEST_F(ManagerTest, CreateStartWaitDelete) {
  auto m = NewManager();
  Context ctx = MakeContext("default");
  std::string out = dir_ + "/out.txt";
  auto t = m->Create(ctx, "t1", Opts({"sh", "-c", "echo hello; exit 3"}, out));
  EXPECT_GT(t->pid(), 0u);
  std::string bundle = cfg_.state + "/default/t1";
  EXPECT_EQ(fs::ReadFile(bundle + "/shim-binary-path"),
            process::LookPath("containerd-shim-runc-v2"));
  EXPECT_TRUE(fs::Exists(bundle + "/address"));
  EXPECT_EQ(m->List("default").size(), 1u);
  EXPECT_TRUE(m->HasTasks("default"));
  EXPECT_THROW(m->Create(ctx, "t1", Opts({"true"})), errdefs::Error);
  Start(*t);
  EXPECT_EQ(WaitExit(*t), 3u);
  Exit e = m->Delete(ctx, "t1");
  EXPECT_EQ(e.status, 3u);
  EXPECT_EQ(fs::ReadFile(out), "hello\n");
  EXPECT_FALSE(fs::Exists(bundle));
  EXPECT_FALSE(fs::Exists(cfg_.root + "/default/t1"));
  EXPECT_FALSE(m->HasTasks("default"));
  EXPECT_THROW(m->Get("default", "t1"), errdefs::Error);
}

// Delete answers once the shim deleted the process and the rootfs is
// unmounted; the shim's shutdown and the bundle's files finish in the
// background. The id is free at once (a new shim for it waits for the old
// one's shutdown: same socket address), and Close waits for the rest.
TEST_F(ManagerTest, DeleteFreesTheIdAtOnce) {
  auto m = NewManager();
  Context ctx = MakeContext("default");
  for (int round = 0; round < 3; ++round) {
    auto t = m->Create(ctx, "again", Opts({"true"}));
    Start(*t);
    EXPECT_EQ(WaitExit(*t), 0u);
    EXPECT_EQ(m->Delete(ctx, "again").status, 0u);
    EXPECT_FALSE(fs::Exists(cfg_.state + "/default/again"));
    EXPECT_FALSE(fs::Exists(cfg_.root + "/default/again"));
    EXPECT_FALSE(m->HasTasks("default"));
    EXPECT_THROW(m->Get("default", "again"), errdefs::Error);
  }
  m->Close();
  EXPECT_EQ(m->PendingCleanups(), 0u);
  EXPECT_TRUE(std::filesystem::is_empty(cfg_.state + "/default"));
  EXPECT_TRUE(std::filesystem::is_empty(cfg_.root + "/default"));
}

TEST_F(ManagerTest, BadRuntimeAndBadSpecLeaveNothing) {
  auto m = NewManager();
  Context ctx = MakeContext("default");
  auto o = Opts({"true"});
  o.runtime = "io.containerd.nosuch.v1";
  try {
    m->Create(ctx, "t2", o);
    FAIL();
  } catch (const errdefs::Error& e) {
    EXPECT_NE(std::string(e.what()).find("containerd-shim-nosuch-v1"), std::string::npos);
  }
  // runc rejects a process that cannot be executed: the shim's error comes back.
  try {
    m->Create(ctx, "t3", Opts({"/nonexistent"}));
    auto t = m->Get("default", "t3");
    Start(*t);
    FAIL() << "start of a missing binary succeeded";
  } catch (const errdefs::Error& e) {
    EXPECT_NE(std::string(e.what()).find("nonexistent"), std::string::npos) << e.what();
  }
  try {
    m->Delete(ctx, "t3");
  } catch (...) {
  }
  EXPECT_TRUE(itest::rt::AwaitExit("-address " + cfg_.grpc_address + " ").empty());
  EXPECT_FALSE(fs::Exists(cfg_.state + "/default/t2"));
  EXPECT_FALSE(fs::Exists(cfg_.state + "/default/t3"));
}

// A shim's Create error reaches clients as containerd sends it over gRPC:
// errdefs.FromGRPC's text (": unknown" at the end), wrapped. Go clients hide
// a missing suffix (they add it back); any other gRPC client sees it.
TEST_F(ManagerTest, CreateErrorIsTheShimsAsContainerdSendsIt) {
  auto m = NewManager();
  try {
    m->Create(MakeContext("default"), "ce1", Opts({"/nonexistent"}));
    FAIL() << "create of a missing binary succeeded";
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kUnknown);
    EXPECT_EQ(std::string(e.what()),
              "failed to create shim task: OCI runtime create failed: runc create failed: unable "
              "to start container process: exec: \"/nonexistent\": stat /nonexistent: no such "
              "file or directory: unknown");
  }
  EXPECT_FALSE(fs::Exists(cfg_.state + "/default/ce1"));
}

// A shim whose `start` fails: its output is the error, the bundle is gone.
TEST_F(ManagerTest, FailingShimStartReportsItsOutput) {
  auto m = NewManager();
  std::string shim = dir_ + "/failing-shim";
  fs::WriteFileAtomic(shim,
                      "#!/bin/sh\necho \"$PWD|$*|$TTRPC_ADDRESS\" > " + dir_ +
                          "/start-args\necho 'boom: no way' >&2\nexit 3\n",
                      0755);
  ::chmod(shim.c_str(), 0755);
  auto o = Opts({"true"});
  o.runtime = shim;
  try {
    m->Create(MakeContext("default"), "f1", o);
    FAIL();
  } catch (const errdefs::Error& e) {
    EXPECT_NE(std::string(e.what()).find("boom: no way"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("exit status 3"), std::string::npos) << e.what();
  }
  EXPECT_EQ(fs::ReadFile(dir_ + "/start-args"),
            cfg_.state + "/default/f1|-namespace default -address " + cfg_.grpc_address +
                " -publish-binary /bin/true -id f1 start|" + cfg_.ttrpc_address + "\n");
  EXPECT_FALSE(fs::Exists(cfg_.state + "/default/f1"));
  EXPECT_FALSE(fs::Exists(cfg_.root + "/default/f1"));
}

// Debian's runc shim (1.6.20) crashes when stdout is a file:// URI and
// stderr is empty: a real shim dying in the middle of Create. Nothing may be
// left: no runc container, no bundle, no shim.
TEST_F(ManagerTest, ShimDyingDuringCreateLeavesNothing) {
  auto m = NewManager();
  auto o = Opts({"true"});
  o.stdout_path = "file://" + dir_ + "/only-stdout";
  EXPECT_THROW(m->Create(MakeContext("default"), "crash1", o), errdefs::Error);
  auto r = itest::Sh({"runc", "--root", "/run/containerd/runc/default", "state", "crash1"});
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_FALSE(fs::Exists(cfg_.state + "/default/crash1"));
  EXPECT_FALSE(fs::Exists(cfg_.root + "/default/crash1"));
  // The shim exits just after answering Shutdown: wait (pidfd) for it.
  EXPECT_TRUE(itest::rt::AwaitExit("-id crash1 ").empty());
}

TEST_F(ManagerTest, ShimKilledIsNoticedAndCleanedUp) {
  auto m = NewManager();
  Context ctx = MakeContext("default");
  auto t = m->Create(ctx, "k1", Opts({"sleep", "1000"}));
  Start(*t);
  auto shims = itest::rt::ProcessesMentioning("-id k1 ");
  ASSERT_EQ(shims.size(), 1u);
  // A waiter blocked in the shim gets the exit from the cleanup.
  std::promise<uint32_t> waited;
  t->OnStopped([&](const Exit& e) { waited.set_value(e.status); });
  ASSERT_EQ(::kill(shims[0], SIGKILL), 0);
  ASSERT_TRUE(WaitTopic("/tasks/exit"));
  ASSERT_TRUE(WaitTopic("/tasks/delete"));
  auto f = waited.get_future();
  ASSERT_EQ(f.wait_for(60s), std::future_status::ready);
  // Then the task is gone, as containerd's: no stopped task is left.
  EXPECT_THROW(m->Get("default", "k1"), errdefs::Error);
  EXPECT_TRUE(m->List("default").empty());
  EXPECT_THROW(m->Delete(ctx, "k1"), errdefs::Error);
  {
    std::lock_guard lk(mu_);
    EXPECT_EQ(deletes_["k1"].exit_status(), f.get());
  }
  EXPECT_FALSE(fs::Exists(cfg_.state + "/default/k1"));
  // runc's container is gone too: the shim's delete killed it.
  auto r = itest::Sh({"runc", "--root", "/run/containerd/runc/default", "state", "k1"});
  EXPECT_NE(r.exit_code, 0);
}

TEST_F(ManagerTest, RestartReconnectsToLiveShims) {
  auto m1 = NewManager();
  Context ctx = MakeContext("default");
  auto t = m1->Create(ctx, "live1", Opts({"sleep", "1000"}));
  Start(*t);
  uint32_t pid = t->pid();
  t.reset();
  m1->Close();  // as a daemon exit: shims keep running
  managers_.clear();

  auto m2 = NewManager();
  auto t2 = m2->Get("default", "live1");
  EXPECT_EQ(t2->phase(), Task::Phase::kLive);
  EXPECT_EQ(t2->pid(), pid);
  containerd::task::v2::KillRequest k;
  k.set_id("live1");
  k.set_signal(9);
  google::protobuf::Empty empty;
  t2->Call("Kill", k, &empty);
  EXPECT_EQ(WaitExit(*t2), 137u);
  EXPECT_EQ(m2->Delete(ctx, "live1").status, 137u);
  EXPECT_FALSE(fs::Exists(cfg_.state + "/default/live1"));
}

// Fake bundles: dead shims (missing socket, refused socket, a shim whose
// delete hangs) are all cleaned at Serving(), in parallel, with events.
TEST_F(ManagerTest, StartupWalkCleansDeadBundles) {
  std::string shim = dir_ + "/fake-shim";
  // `delete` prints a DeleteResponse{pid: 7, exit_status: 9}; for id "slow"
  // it hangs until killed by the delete timeout.
  fs::WriteFileAtomic(shim,
                      "#!/bin/sh\ncase \"$*\" in *'-id slow '*) exec sleep 1000;; esac\n"
                      "echo \"$PWD $*\" >> " +
                          dir_ + "/calls\nprintf '\\010\\007\\020\\011'\n",
                      0755);
  ::chmod(shim.c_str(), 0755);
  for (const char* id : {"missing", "refused", "slow"}) {
    std::string b = cfg_.state + "/default/" + id;
    fs::MkdirAll(b + "/rootfs", 0711);
    fs::MkdirAll(cfg_.root + "/default/" + id, 0711);
    ::symlink((cfg_.root + "/default/" + id).c_str(), (b + "/work").c_str());
    fs::WriteFileAtomic(b + "/shim-binary-path", shim);
  }
  fs::WriteFileAtomic(cfg_.state + "/default/refused/address", "unix://" + dir_ + "/stale.sock");
  ASSERT_EQ(std::system(("python3 -c \"import socket; s=socket.socket(socket.AF_UNIX); s.bind('" +
                         dir_ + "/stale.sock')\"")
                            .c_str()),
            0);  // a socket file nobody listens on
  // A bundle without a shim and an interrupted atomic delete.
  fs::MkdirAll(cfg_.state + "/default/noshim/rootfs", 0711);
  fs::MkdirAll(cfg_.state + "/default/.gone/x", 0711);
  fs::MkdirAll(cfg_.root + "/default/orphan-work", 0711);

  cfg_.delete_timeout = 3s;
  auto m = std::make_shared<TaskManager>(cfg_, &events_);
  m->Load();
  managers_.push_back(m);
  // Dead tasks are kept until cleaned up (the tasks service lists none);
  // nothing ran before Serving.
  EXPECT_EQ(m->List("default").size(), 3u);
  EXPECT_FALSE(fs::Exists(dir_ + "/calls"));
  EXPECT_FALSE(fs::Exists(cfg_.state + "/default/noshim"));
  EXPECT_FALSE(fs::Exists(cfg_.state + "/default/.gone"));
  EXPECT_FALSE(fs::Exists(cfg_.root + "/default/orphan-work"));
  std::map<std::string, std::promise<Exit>> stopped;
  std::map<std::string, std::future<Exit>> exits;
  for (const char* id : {"missing", "refused", "slow"}) {
    exits[id] = stopped[id].get_future();
    m->Get("default", id)->OnStopped([&stopped, id](const Exit& e) { stopped[id].set_value(e); });
  }
  m->Serving();
  // The two quick ones finish although "slow" hangs.
  ASSERT_EQ(exits["missing"].wait_for(60s), std::future_status::ready);
  Exit e = exits["missing"].get();
  EXPECT_EQ(e.pid, 7u);
  EXPECT_EQ(e.status, 9u);
  ASSERT_EQ(exits["refused"].wait_for(60s), std::future_status::ready);
  EXPECT_EQ(exits["refused"].get().status, 9u);
  std::string calls = fs::ReadFile(dir_ + "/calls");
  EXPECT_NE(calls.find(cfg_.state + "/default/missing -namespace default -address " +
                       cfg_.grpc_address + " -publish-binary /bin/true -id missing -bundle " +
                       cfg_.state + "/default/missing delete"),
            std::string::npos)
      << calls;
  // The hung one is killed at the timeout and reported with 255.
  ASSERT_EQ(exits["slow"].wait_for(60s), std::future_status::ready);
  EXPECT_EQ(exits["slow"].get().status, 255u);
  // Close waits for the cleanups' ends: then the tasks are gone and, as in
  // containerd (whose cleanup finds no task to report), nothing was published.
  m->Close();
  EXPECT_TRUE(m->List("default").empty());
  {
    std::lock_guard lk(mu_);
    EXPECT_TRUE(topics_.empty()) << topics_.front();
  }
  for (const char* id : {"missing", "refused", "slow"}) {
    EXPECT_FALSE(fs::Exists(cfg_.state + "/default/" + id));
    EXPECT_FALSE(fs::Exists(cfg_.root + "/default/" + id));
  }
}

}  // namespace
}  // namespace mcd::runtime
