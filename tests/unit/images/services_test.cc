// The containers and images service plugins over a real database: events
// with containerd's topics and payloads, the runtime's delete check, image
// delete with sync collecting what the image held.
#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>

#include "github.com/containerd/containerd/api/events/container.pb.h"
#include "github.com/containerd/containerd/api/events/image.pb.h"
#include "metadata/gc.h"
#include "pkg/errdefs.h"
#include "services/containers/local.h"
#include "services/images/local.h"

namespace mcd {
namespace {

namespace capi = containerd::services::containers::v1;
namespace iapi = containerd::services::images::v1;

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mcd-svc-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    db_ = metadata::DB::Open(dir_.string());
    sub_ = events_.Subscribe({}, [this](const events::Envelope& e) {
      std::lock_guard lk(mu_);
      got_.push_back(e);
      cv_.notify_all();
    });
  }
  void TearDown() override {
    sub_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Events are delivered through the subscriber's queue: wait for n.
  std::vector<events::Envelope> Events(size_t n) {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return got_.size() >= n; });
    return got_;
  }
  static capi::Container Sample(const std::string& id) {
    capi::Container c;
    c.set_id(id);
    c.set_image("img");
    c.mutable_runtime()->set_name("io.containerd.runc.v2");
    c.mutable_spec()->set_type_url("spec");
    c.set_snapshotter("overlayfs");
    c.set_snapshot_key("key-" + id);
    return c;
  }

  std::filesystem::path dir_;
  std::shared_ptr<metadata::DB> db_;
  events::Exchange events_;
  std::shared_ptr<events::Subscription> sub_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<events::Envelope> got_;
  Context ctx_ = MakeContext("ns1");
};

TEST_F(ServicesTest, ContainerEvents) {
  services::containers::Local local(db_, &events_);
  capi::CreateContainerRequest creq;
  *creq.mutable_container() = Sample("c1");
  creq.mutable_container()->mutable_runtime()->mutable_options()->set_value("opts");
  capi::CreateContainerResponse cresp;
  local.Create(ctx_, creq, &cresp);
  capi::UpdateContainerRequest ureq;
  *ureq.mutable_container() = Sample("c1");
  (*ureq.mutable_container()->mutable_labels())["a"] = "b";
  ureq.mutable_update_mask()->add_paths("labels");
  capi::UpdateContainerResponse uresp;
  local.Update(ctx_, ureq, &uresp);
  capi::DeleteContainerRequest dreq;
  dreq.set_id("c1");
  local.Delete(ctx_, dreq);

  auto evs = Events(3);
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0].topic(), "/containers/create");
  EXPECT_EQ(evs[0].namespace_(), "ns1");
  EXPECT_EQ(evs[0].event().type_url(), "containerd.events.ContainerCreate");
  containerd::events::ContainerCreate create;
  ASSERT_TRUE(create.ParseFromString(evs[0].event().value()));
  EXPECT_EQ(create.id(), "c1");
  EXPECT_EQ(create.image(), "img");
  EXPECT_EQ(create.runtime().name(), "io.containerd.runc.v2");
  EXPECT_EQ(create.runtime().options().value(), "opts");
  EXPECT_EQ(evs[1].topic(), "/containers/update");
  containerd::events::ContainerUpdate update;
  ASSERT_TRUE(update.ParseFromString(evs[1].event().value()));
  EXPECT_EQ(update.id(), "c1");
  EXPECT_EQ(update.image(), "img");
  EXPECT_EQ(update.labels().at("a"), "b");
  EXPECT_EQ(update.snapshot_key(), "key-c1");
  EXPECT_EQ(evs[2].topic(), "/containers/delete");
  EXPECT_EQ(evs[2].event().type_url(), "containerd.events.ContainerDelete");
}

TEST_F(ServicesTest, DeleteCheckRefusesLiveTask) {
  services::containers::Local local(db_, &events_);
  capi::CreateContainerRequest creq;
  *creq.mutable_container() = Sample("c1");
  capi::CreateContainerResponse cresp;
  local.Create(ctx_, creq, &cresp);
  local.SetDeleteCheck([](const Context&, const std::string& id) {
    throw errdefs::FailedPrecondition("cannot delete container " + id + " with a live task");
  });
  capi::DeleteContainerRequest dreq;
  dreq.set_id("c1");
  try {
    local.Delete(ctx_, dreq);
    FAIL() << "delete went through";
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kFailedPrecondition);
  }
  capi::GetContainerRequest greq;
  greq.set_id("c1");
  capi::GetContainerResponse gresp;
  local.Get(ctx_, greq, &gresp);  // still there
  local.SetDeleteCheck(nullptr);
  local.Delete(ctx_, dreq);
  EXPECT_THROW(local.Get(ctx_, greq, &gresp), errdefs::Error);
}

TEST_F(ServicesTest, ImageEventsAndSyncDelete) {
  metadata::gc::SchedulerConfig cfg;
  cfg.startup_delay = std::chrono::nanoseconds(0);
  auto sched = metadata::gc::Scheduler::Start(db_, cfg);
  // A stand-in content owner: records under content/blob/, removed when
  // unreferenced.
  std::vector<std::string> removed;
  metadata::gc::Resource r;
  r.name = "blobs";
  r.kinds = {metadata::gc::Kind::kContent};
  r.all = [](metadata::Txn& t, const std::string& ns, const metadata::gc::Emit& emit) {
    t.Scan(metadata::BucketPrefix(ns, "content") + "blob/",
           [&](std::string_view k, std::string_view) {
             emit({metadata::gc::Kind::kContent, ns, std::string(k.substr(k.rfind('/') + 1))});
             return true;
           });
  };
  r.remove = [](metadata::Txn& t, const metadata::gc::Node& n) {
    t.Delete(metadata::BucketPrefix(n.ns, "content") + "blob/" + n.key);
  };
  r.cleanup = [&](const std::vector<metadata::gc::Node>& nodes) {
    for (const auto& n : nodes) removed.push_back(n.key);
  };
  db_->collector().Register(r);
  const std::string dgst = "sha256:" + std::string(64, 'a');
  db_->Update([&](metadata::Txn& t) {
    t.Put(metadata::BucketPrefix("ns1", "content") + "blob/" + dgst, "");
  });

  services::images::Local local(db_, sched, &events_);
  iapi::CreateImageRequest creq;
  creq.mutable_image()->set_name("docker.io/library/busybox:latest");
  (*creq.mutable_image()->mutable_labels())["l"] = "v";
  creq.mutable_image()->mutable_target()->set_digest(dgst);
  creq.mutable_image()->mutable_target()->set_size(10);
  creq.mutable_image()->mutable_target()->set_media_type("application/vnd.oci.image.index.v1+json");
  iapi::CreateImageResponse cresp;
  local.Create(ctx_, creq, &cresp);
  sched->ScheduleAndWait();
  EXPECT_TRUE(removed.empty());  // the image holds it

  iapi::DeleteImageRequest dreq;
  dreq.set_name("docker.io/library/busybox:latest");
  dreq.set_sync(true);
  local.Delete(ctx_, dreq);
  // sync: collected before Delete returned.
  EXPECT_EQ(removed, (std::vector<std::string>{dgst}));

  auto evs = Events(2);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].topic(), "/images/create");
  EXPECT_EQ(evs[0].event().type_url(), "containerd.services.images.v1.ImageCreate");
  containerd::services::images::v1::ImageCreate ic;
  ASSERT_TRUE(ic.ParseFromString(evs[0].event().value()));
  EXPECT_EQ(ic.name(), "docker.io/library/busybox:latest");
  EXPECT_EQ(ic.labels().at("l"), "v");
  EXPECT_EQ(evs[1].topic(), "/images/delete");
  sched->Close();
}

}  // namespace
}  // namespace mcd
