// Interop with a real ttrpc peer: the real containerd-shim-runc-v2, started
// as containerd 1.6 starts it, driven by the project's ttrpc client; and the
// events it forwards received by the project's ttrpc server.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>

#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "pkg/errdefs.h"
#include "pkg/fd.h"
#include "pkg/fs.h"
#include "pkg/process.h"
#include "tests/integration/support/harness.h"
#include "ttrpc/client.h"
#include "ttrpc/server.h"

namespace mcd {
namespace {

namespace task = containerd::task::v2;
namespace tev = containerd::services::events::ttrpc::v1;
using errdefs::Code;

constexpr const char* kTask = "containerd.task.v2.Task";
constexpr const char* kNs = "mcd-ttrpc-itest";
constexpr auto kBound = std::chrono::seconds(60);  // hang guard, not a timing check

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
  return s;
}

// The events the shim forwards to our ttrpc server at <address>.ttrpc.
class EventSink {
 public:
  explicit EventSink(const std::string& path) : server_(ttrpc::Server::Create(SameUser())) {
    server_->Register("containerd.services.events.ttrpc.v1.Events", "Forward",
                      [this](const Context&, const std::string& payload) {
                        tev::ForwardRequest req;
                        if (!req.ParseFromString(payload))
                          throw errdefs::InvalidArgument("bad request");
                        std::lock_guard lock(mu_);
                        got_.push_back(req.envelope());
                        cv_.notify_all();
                        return std::string();
                      });
    server_->Listen(path);
  }
  ~EventSink() { server_->Shutdown(); }

  // The first envelope of `topic`, waiting for it to arrive.
  tev::Envelope WaitFor(const std::string& topic) {
    std::unique_lock lock(mu_);
    tev::Envelope out;
    bool ok = cv_.wait_for(lock, kBound, [&] {
      for (const auto& e : got_) {
        if (e.topic() == topic) {
          out = e;
          return true;
        }
      }
      return false;
    });
    if (!ok) throw std::runtime_error("no " + topic + " event arrived");
    return out;
  }

 private:
  static ttrpc::Server::Options SameUser() {
    ttrpc::Server::Options o;
    o.require_same_user = true;  // as containerd's listener
    return o;
  }
  std::unique_ptr<ttrpc::Server> server_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<tev::Envelope> got_;
};

// A bundle: config.json from `runc spec` adjusted, rootfs from busybox-static.
std::string MakeBundle(const std::string& dir, bool with_rootfs) {
  const std::string bundle = dir + "/bundle";
  fs::MkdirAll(bundle, 0711);
  auto r = itest::Sh({"runc", "spec", "--bundle", bundle});
  if (r.exit_code != 0) throw std::runtime_error("runc spec: " + r.err);
  auto spec = nlohmann::json::parse(fs::ReadFile(bundle + "/config.json"));
  spec["process"]["terminal"] = false;
  spec["process"]["args"] = {"/bin/sleep", "300"};
  spec["root"]["path"] = "rootfs";
  spec["root"]["readonly"] = true;
  fs::WriteFileAtomic(bundle + "/config.json", spec.dump());
  if (with_rootfs) {
    fs::MkdirAll(bundle + "/rootfs/bin", 0755);
    std::filesystem::copy_file("/bin/busybox", bundle + "/rootfs/bin/busybox");
    for (const char* d : {"proc", "sys", "dev", "tmp", "etc"})
      fs::MkdirAll(bundle + "/rootfs/" + d, 0755);
    auto i = itest::Sh({"chroot", bundle + "/rootfs", "/bin/busybox", "--install", "-s", "/bin"});
    if (i.exit_code != 0) throw std::runtime_error("busybox --install: " + i.err);
    ::chmod((bundle + "/rootfs").c_str(), 0711);
  }
  return bundle;
}

// A shim started with `start`; killed and cleaned up if still there at the end.
class Shim {
 public:
  Shim(const std::string& grpc_address, const std::string& bundle, const std::string& id)
      : id_(id) {
    // The shim writes its log to the bundle's `log` fifo and exits when it
    // is missing; the daemon is its reader. Held open read-write here so the
    // shim's open never waits (a short test logs far less than a pipe holds).
    const std::string log = bundle + "/log";
    if (::mkfifo(log.c_str(), 0700) != 0) throw std::runtime_error("mkfifo " + log);
    log_ = UniqueFd(::open(log.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
    process::Options o;
    o.argv = {"containerd-shim-runc-v2", "-namespace",      kNs,   "-address", grpc_address,
              "-publish-binary",         MCD_DAEMON_BINARY, "-id", id,         "start"};
    o.cwd = bundle;
    o.extra_env = {"TTRPC_ADDRESS=" + grpc_address + ".ttrpc"};
    o.merge_stderr = true;
    o.new_process_group = true;
    o.timeout = std::chrono::seconds(60);
    auto r = process::Run(o);
    address_ = Trim(r.out);
    if (r.exit_code != 0) throw std::runtime_error("shim start failed: " + r.out);
    if (!address_.starts_with("unix:///run/containerd/s/")) {
      throw std::runtime_error("unexpected shim address: " + address_);
    }
    socket_file_ = address_.substr(std::string("unix://").size());
  }
  ~Shim() {
    if (pid_ > 0 && ::kill(pid_, 0) == 0) {
      ::kill(pid_, SIGKILL);
      WaitExit();
    }
    const std::string runc_root = std::string("/run/containerd/runc/") + kNs;
    itest::Sh({"runc", "--root", runc_root, "delete", "-f", id_});
    ::rmdir(runc_root.c_str());  // only if no other test's container is left in it
    ::unlink(socket_file_.c_str());
  }
  const std::string& address() const { return address_; }
  const std::string& socket_file() const { return socket_file_; }
  void set_pid(pid_t p) {
    pid_ = p;
    pidfd_ = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, p, 0)));
  }
  // Waits (pidfd, no polling loop) until the shim process is gone.
  bool WaitExit() {
    if (!pidfd_) return true;
    pollfd p{pidfd_.get(), POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kBound).count())) == 1;
  }

 private:
  std::string id_, address_, socket_file_;
  pid_t pid_ = -1;
  UniqueFd pidfd_, log_;
};

std::string UniqueId(const char* what) {
  return std::string(what) + "-" + std::to_string(::getpid());
}

template <class Resp>
Code CallCode(ttrpc::Client& c, const char* method, const google::protobuf::Message& req,
              Resp* resp, std::string* msg = nullptr) {
  try {
    c.Call(kTask, method, req, resp, ttrpc::CallOptions{.ns = kNs});
  } catch (const errdefs::Error& e) {
    if (msg) *msg = e.what();
    return e.code();
  }
  return Code::kOk;
}

TEST(ShimInterop, ConnectStateUnknownShutdown) {
  itest::Require("containerd-shim-runc-v2");
  itest::Require("runc");
  itest::TempDir dir;
  const std::string bundle = MakeBundle(dir.path(), false);
  const std::string id = UniqueId("ttrpc-interop");
  EventSink sink(dir.path() + "/c.sock.ttrpc");
  Shim shim(dir.path() + "/c.sock", bundle, id);
  EXPECT_EQ(fs::ReadFile(bundle + "/address"), shim.address());  // the shim records it

  auto client = ttrpc::Client::Connect(shim.address());
  // Shared: the callback may run after this scope on a failure path.
  auto closed = std::make_shared<std::promise<void>>();
  client->OnClose([closed] { closed->set_value(); });

  task::ConnectRequest creq;
  creq.set_id(id);
  task::ConnectResponse cresp;
  ASSERT_EQ(CallCode(*client, "Connect", creq, &cresp), Code::kOk);
  EXPECT_GT(cresp.shim_pid(), 0u);
  EXPECT_EQ(cresp.task_pid(), 0u);  // nothing created yet
  shim.set_pid(static_cast<pid_t>(cresp.shim_pid()));

  task::StateRequest sreq;
  sreq.set_id("no-such-task");
  task::StateResponse sresp;
  std::string msg;
  EXPECT_EQ(CallCode(*client, "State", sreq, &sresp, &msg), Code::kNotFound) << msg;
  EXPECT_NE(msg.find("not found"), std::string::npos) << msg;

  // An unknown method: the Go ttrpc server's own wording.
  EXPECT_EQ(CallCode(*client, "NoSuchMethod", sreq, &sresp, &msg), Code::kUnimplemented);
  EXPECT_EQ(msg, "method NoSuchMethod");

  task::ShutdownRequest down;
  down.set_id(id);
  google::protobuf::Empty empty;
  Code c = CallCode(*client, "Shutdown", down, &empty, &msg);
  // The shim may exit before its answer leaves: both are a clean shutdown.
  EXPECT_TRUE(c == Code::kOk || c == Code::kUnavailable) << msg;
  auto cf = closed->get_future();
  ASSERT_EQ(cf.wait_for(kBound), std::future_status::ready) << "connection not closed";
  EXPECT_TRUE(shim.WaitExit());
  EXPECT_FALSE(std::filesystem::exists(shim.socket_file())) << "the shim removes its socket";
  EXPECT_TRUE(client->closed());
  // A call on the dead connection fails at once with Unavailable.
  EXPECT_EQ(CallCode(*client, "State", sreq, &sresp), Code::kUnavailable);
}

TEST(ShimInterop, ForwardsTaskEventsToOurServer) {
  itest::Require("containerd-shim-runc-v2");
  itest::Require("runc");
  itest::Require("chroot");
  itest::TempDir dir;
  const std::string bundle = MakeBundle(dir.path(), true);
  const std::string id = UniqueId("ttrpc-events");
  EventSink sink(dir.path() + "/c.sock.ttrpc");
  Shim shim(dir.path() + "/c.sock", bundle, id);
  auto client = ttrpc::Client::Connect(shim.address());

  task::ConnectRequest creq;
  creq.set_id(id);
  task::ConnectResponse cresp;
  ASSERT_EQ(CallCode(*client, "Connect", creq, &cresp), Code::kOk);
  shim.set_pid(static_cast<pid_t>(cresp.shim_pid()));

  task::CreateTaskRequest create;
  create.set_id(id);
  create.set_bundle(bundle);
  task::CreateTaskResponse created;
  std::string msg;
  ASSERT_EQ(CallCode(*client, "Create", create, &created, &msg), Code::kOk) << msg;
  EXPECT_GT(created.pid(), 0u);

  auto env = sink.WaitFor("/tasks/create");
  EXPECT_EQ(env.namespace_(), kNs);
  EXPECT_TRUE(env.timestamp().seconds() > 0);
  EXPECT_EQ(env.event().type_url(), "containerd.events.TaskCreate");
  containerd::events::TaskCreate ev;
  ASSERT_TRUE(ev.ParseFromString(env.event().value()));
  EXPECT_EQ(ev.container_id(), id);
  EXPECT_EQ(ev.bundle(), bundle);
  EXPECT_EQ(ev.pid(), created.pid());

  task::DeleteRequest del;
  del.set_id(id);
  task::DeleteResponse deleted;
  ASSERT_EQ(CallCode(*client, "Delete", del, &deleted, &msg), Code::kOk) << msg;
  auto denv = sink.WaitFor("/tasks/delete");
  containerd::events::TaskDelete dev;
  ASSERT_TRUE(dev.ParseFromString(denv.event().value()));
  EXPECT_EQ(dev.container_id(), id);

  task::ShutdownRequest down;
  down.set_id(id);
  google::protobuf::Empty empty;
  Code c = CallCode(*client, "Shutdown", down, &empty, &msg);
  EXPECT_TRUE(c == Code::kOk || c == Code::kUnavailable) << msg;
  EXPECT_TRUE(shim.WaitExit());
}

}  // namespace
}  // namespace mcd
