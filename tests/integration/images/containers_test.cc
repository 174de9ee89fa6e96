// The containers service through the gRPC API (a generated stub), as the Go
// client uses it: create, label, update spec, filtered list, list stream,
// delete, the errors with containerd 1.6.20's codes and words, and records
// surviving a crash and restart.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <set>

#include "github.com/containerd/containerd/api/services/containers/v1/containers.grpc.pb.h"
#include "tests/integration/support/harness.h"

namespace mcd::itest {
namespace {

namespace api = containerd::services::containers::v1;

class Client {
 public:
  explicit Client(const Daemon& d, std::string ns = "default")
      : stub_(api::Containers::NewStub(
            grpc::CreateChannel("unix://" + d.socket(), grpc::InsecureChannelCredentials()))),
        ns_(std::move(ns)) {}

  grpc::Status Create(const api::Container& c, api::Container* out = nullptr) {
    grpc::ClientContext ctx;
    Ns(ctx);
    api::CreateContainerRequest req;
    *req.mutable_container() = c;
    api::CreateContainerResponse resp;
    auto st = stub_->Create(&ctx, req, &resp);
    if (out) *out = resp.container();
    return st;
  }
  grpc::Status Get(const std::string& id, api::Container* out = nullptr) {
    grpc::ClientContext ctx;
    Ns(ctx);
    api::GetContainerRequest req;
    req.set_id(id);
    api::GetContainerResponse resp;
    auto st = stub_->Get(&ctx, req, &resp);
    if (out) *out = resp.container();
    return st;
  }
  grpc::Status Update(const api::Container& c, const std::vector<std::string>& paths,
                      api::Container* out = nullptr) {
    grpc::ClientContext ctx;
    Ns(ctx);
    api::UpdateContainerRequest req;
    *req.mutable_container() = c;
    for (const auto& p : paths) req.mutable_update_mask()->add_paths(p);
    api::UpdateContainerResponse resp;
    auto st = stub_->Update(&ctx, req, &resp);
    if (out) *out = resp.container();
    return st;
  }
  std::set<std::string> List(const std::vector<std::string>& filters, grpc::Status* st = nullptr) {
    grpc::ClientContext ctx;
    Ns(ctx);
    api::ListContainersRequest req;
    for (const auto& f : filters) req.add_filters(f);
    api::ListContainersResponse resp;
    auto s = stub_->List(&ctx, req, &resp);
    if (st) *st = s;
    std::set<std::string> ids;
    for (const auto& c : resp.containers()) ids.insert(c.id());
    return ids;
  }
  std::vector<std::string> ListStream(const std::vector<std::string>& filters) {
    grpc::ClientContext ctx;
    Ns(ctx);
    api::ListContainersRequest req;
    for (const auto& f : filters) req.add_filters(f);
    auto reader = stub_->ListStream(&ctx, req);
    api::ListContainerMessage msg;
    std::vector<std::string> ids;
    while (reader->Read(&msg)) ids.push_back(msg.container().id());
    auto st = reader->Finish();
    EXPECT_TRUE(st.ok()) << st.error_message();
    return ids;
  }
  grpc::Status Delete(const std::string& id) {
    grpc::ClientContext ctx;
    Ns(ctx);
    api::DeleteContainerRequest req;
    req.set_id(id);
    google::protobuf::Empty resp;
    return stub_->Delete(&ctx, req, &resp);
  }

 private:
  void Ns(grpc::ClientContext& ctx) {
    if (!ns_.empty()) ctx.AddMetadata("containerd-namespace", ns_);
  }
  std::unique_ptr<api::Containers::Stub> stub_;
  std::string ns_;
};

api::Container Sample(const std::string& id) {
  api::Container c;
  c.set_id(id);
  c.set_image("docker.io/library/busybox:latest");
  c.mutable_runtime()->set_name("io.containerd.runc.v2");
  c.mutable_runtime()->mutable_options()->set_type_url("containerd.runc.v1.Options");
  c.mutable_runtime()->mutable_options()->set_value(
      "\x0a\x03"
      "abc");
  c.mutable_spec()->set_type_url("types.containerd.io/opencontainers/runtime-spec/1/Spec");
  c.mutable_spec()->set_value(R"({"ociVersion":"1.0.2"})");
  c.set_snapshotter("overlayfs");
  c.set_snapshot_key(id + "-snapshot");
  (*c.mutable_extensions())["ext"].set_type_url("x.y/Z");
  (*c.mutable_extensions())["ext"].set_value("ext-bytes");
  return c;
}

#define EXPECT_STATUS(st, code, msg)                                          \
  do {                                                                        \
    auto s_ = (st);                                                           \
    EXPECT_EQ(s_.error_code(), grpc::StatusCode::code) << s_.error_message(); \
    EXPECT_EQ(s_.error_message(), msg);                                       \
  } while (0)

class ContainersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<Daemon>(dir_.path());
    daemon_->Start();
  }
  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(ContainersTest, CreateGetKeepsEveryField) {
  Client c(*daemon_);
  api::Container created;
  ASSERT_TRUE(c.Create(Sample("c1"), &created).ok());
  EXPECT_TRUE(created.has_created_at());
  EXPECT_EQ(created.created_at().seconds(), created.updated_at().seconds());
  api::Container got;
  ASSERT_TRUE(c.Get("c1", &got).ok());
  EXPECT_EQ(got.SerializeAsString(), created.SerializeAsString());
  EXPECT_EQ(got.image(), "docker.io/library/busybox:latest");
  EXPECT_EQ(got.runtime().name(), "io.containerd.runc.v2");
  EXPECT_EQ(got.runtime().options().value(),
            "\x0a\x03"
            "abc");
  EXPECT_EQ(got.spec().value(), R"({"ociVersion":"1.0.2"})");
  EXPECT_EQ(got.snapshotter(), "overlayfs");
  EXPECT_EQ(got.snapshot_key(), "c1-snapshot");
  EXPECT_EQ(got.extensions().at("ext").value(), "ext-bytes");
}

TEST_F(ContainersTest, ErrorsMatchContainerd) {
  Client c(*daemon_);
  EXPECT_STATUS(c.Delete("nope"), NOT_FOUND,
                "cannot delete container \"nope\" in namespace \"default\": not found");
  ASSERT_TRUE(c.Create(Sample("c1")).ok());
  EXPECT_STATUS(c.Create(Sample("c1")), ALREADY_EXISTS, "container \"c1\": already exists");
  EXPECT_STATUS(c.Get("nope"), NOT_FOUND, "container \"nope\" in namespace \"default\": not found");
  EXPECT_STATUS(c.Delete("nope"), NOT_FOUND, "container nope: not found");
  EXPECT_STATUS(c.Update(Sample("nope"), {"labels"}), NOT_FOUND, "container \"nope\": not found");
  auto norun = Sample("c2");
  norun.clear_runtime();
  EXPECT_STATUS(c.Create(norun), INVALID_ARGUMENT,
                "create container failed validation: container.Runtime.Name must be set: invalid "
                "argument");
  auto nospec = Sample("c2");
  nospec.clear_spec();
  EXPECT_STATUS(c.Create(nospec), INVALID_ARGUMENT,
                "create container failed validation: container.Spec must be set: invalid argument");
  EXPECT_STATUS(
      c.Create(Sample("bad id")), INVALID_ARGUMENT,
      "create container failed validation: container.ID: identifier \"bad id\" must match "
      "^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$: invalid argument");
  EXPECT_STATUS(c.Update(Sample("c1"), {"runtime"}), INVALID_ARGUMENT,
                "cannot update \"runtime\" field on \"c1\": invalid argument");
  auto other = Sample("c1");
  other.mutable_runtime()->set_name("io.containerd.other");
  EXPECT_STATUS(c.Update(other, {}), INVALID_ARGUMENT,
                "container.Runtime.Name field is immutable: invalid argument");
  Client nons(*daemon_, "");
  EXPECT_STATUS(nons.Create(Sample("c3")), FAILED_PRECONDITION,
                "namespace is required: failed precondition");
  grpc::Status st;
  c.List({"labels.x=="}, &st);
  EXPECT_STATUS(st, INVALID_ARGUMENT,
                "filters: parse error: [labels.x==]: expected value or quoted: invalid argument: "
                "invalid argument");
}

TEST_F(ContainersTest, LabelsSpecAndFilters) {
  Client c(*daemon_);
  ASSERT_TRUE(c.Create(Sample("a")).ok());
  ASSERT_TRUE(c.Create(Sample("b")).ok());
  auto lab = Sample("a");
  (*lab.mutable_labels())["x"] = "y";
  (*lab.mutable_labels())["other"] = "ignored";
  api::Container updated;
  ASSERT_TRUE(c.Update(lab, {"labels.x"}, &updated).ok());
  EXPECT_EQ(updated.labels().size(), 1u);
  EXPECT_EQ(updated.labels().at("x"), "y");
  EXPECT_EQ(c.List({"labels.\"x\"==y"}), (std::set<std::string>{"a"}));
  EXPECT_EQ(c.List({"labels.x"}), (std::set<std::string>{"a"}));
  EXPECT_EQ(c.List({"labels.x==z"}), (std::set<std::string>{}));
  EXPECT_EQ(c.List({"id==b", "labels.x==y"}), (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(c.List({"runtime.name==io.containerd.runc.v2,id~=^b$"}), (std::set<std::string>{"b"}));
  EXPECT_EQ(c.List({"image==docker.io/library/busybox:latest"}), (std::set<std::string>{"a", "b"}));

  auto spec = Sample("a");
  spec.mutable_spec()->set_value(R"({"ociVersion":"1.1.0"})");
  ASSERT_TRUE(c.Update(spec, {"spec"}, &updated).ok());
  EXPECT_EQ(updated.spec().value(), R"({"ociVersion":"1.1.0"})");
  EXPECT_EQ(updated.labels().at("x"), "y");  // untouched
  EXPECT_GE(updated.updated_at().seconds() * 1000000000LL + updated.updated_at().nanos(),
            updated.created_at().seconds() * 1000000000LL + updated.created_at().nanos());

  // An empty value removes the label.
  auto unlabel = Sample("a");
  ASSERT_TRUE(c.Update(unlabel, {"labels.x"}, &updated).ok());
  EXPECT_EQ(updated.labels().count("x"), 0u);

  auto streamed = c.ListStream({});
  EXPECT_EQ(std::set<std::string>(streamed.begin(), streamed.end()),
            (std::set<std::string>{"a", "b"}));

  // Namespaces are separate.
  Client other(*daemon_, "other");
  EXPECT_TRUE(other.List({}).empty());
  EXPECT_EQ(other.Get("a").error_code(), grpc::StatusCode::NOT_FOUND);

  ASSERT_TRUE(c.Delete("a").ok());
  EXPECT_EQ(c.List({}), (std::set<std::string>{"b"}));
  EXPECT_EQ(c.Get("a").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ContainersTest, RestartKeepsContainers) {
  {
    Client c(*daemon_);
    for (auto id : {"r1", "r2", "r3"}) ASSERT_TRUE(c.Create(Sample(id)).ok());
    ASSERT_TRUE(c.Delete("r2").ok());
  }
  daemon_->Kill();  // a crash: every acknowledged write must be on disk
  daemon_->Start();
  Client c(*daemon_);
  EXPECT_EQ(c.List({}), (std::set<std::string>{"r1", "r3"}));
  api::Container got;
  ASSERT_TRUE(c.Get("r1", &got).ok());
  EXPECT_EQ(got.spec().value(), R"({"ociVersion":"1.0.2"})");
}

TEST_F(ContainersTest, NamespaceWithContainersCannotBeDeleted) {
  Client c(*daemon_, "busy");
  ASSERT_TRUE(c.Create(Sample("x")).ok());
  auto r = Ctr(*daemon_, {"namespaces", "rm", "busy"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("namespace \"busy\" must be empty, but it still has containers: failed "
                       "precondition"),
            std::string::npos)
      << r.err;
  ASSERT_TRUE(c.Delete("x").ok());
  r = Ctr(*daemon_, {"namespaces", "rm", "busy"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace mcd::itest
