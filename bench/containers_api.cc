// Container API driver against any containerd-compatible socket.
//   containers_api <socket> bench [n]   create/get/list/delete n containers, timed
//   containers_api <socket> probe       the error cases, one "code message" line each
// The probe output of minicontainerd and containerd 1.6.20 is diffed by
// bench/run.sh to keep the wording identical.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "github.com/containerd/containerd/api/services/containers/v1/containers.grpc.pb.h"

namespace api = containerd::services::containers::v1;

namespace {

std::unique_ptr<api::Containers::Stub> Dial(const std::string& sock) {
  auto ch = grpc::CreateChannel("unix://" + sock, grpc::InsecureChannelCredentials());
  return api::Containers::NewStub(ch);
}

void Ns(grpc::ClientContext& c, const std::string& ns) {
  c.AddMetadata("containerd-namespace", ns);
}

api::Container Sample(const std::string& id) {
  api::Container c;
  c.set_id(id);
  c.mutable_runtime()->set_name("io.containerd.runc.v2");
  c.mutable_spec()->set_type_url("types.containerd.io/opencontainers/runtime-spec/1/Spec");
  c.mutable_spec()->set_value(R"({"ociVersion":"1.0.2","process":{"args":["sh"]}})");
  (*c.mutable_labels())["bench"] = "yes";
  return c;
}

void Print(const char* what, const grpc::Status& st) {
  std::printf("%s: %d %s\n", what, static_cast<int>(st.error_code()), st.error_message().c_str());
}

int Bench(const std::string& sock, int n) {
  auto stub = Dial(sock);
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    grpc::ClientContext c;
    Ns(c, "bench");
    api::CreateContainerRequest req;
    *req.mutable_container() = Sample("c" + std::to_string(i));
    api::CreateContainerResponse resp;
    auto st = stub->Create(&c, req, &resp);
    if (!st.ok()) return Print("create", st), 1;
  }
  auto t1 = Clock::now();
  for (int i = 0; i < n; ++i) {
    grpc::ClientContext c;
    Ns(c, "bench");
    api::ListContainersRequest req;
    req.add_filters("labels.bench==yes,id==c" + std::to_string(i));
    api::ListContainersResponse resp;
    auto st = stub->List(&c, req, &resp);
    if (!st.ok() || resp.containers_size() != 1) return Print("list", st), 1;
  }
  auto t2 = Clock::now();
  for (int i = 0; i < n; ++i) {
    grpc::ClientContext c;
    Ns(c, "bench");
    api::DeleteContainerRequest req;
    req.set_id("c" + std::to_string(i));
    google::protobuf::Empty resp;
    auto st = stub->Delete(&c, req, &resp);
    if (!st.ok()) return Print("delete", st), 1;
  }
  auto t3 = Clock::now();
  auto s = [](auto d) { return std::chrono::duration<double>(d).count(); };
  std::printf("create %d: %.3fs (%.0f/s)\n", n, s(t1 - t0), n / s(t1 - t0));
  std::printf("list %d: %.3fs (%.0f/s)\n", n, s(t2 - t1), n / s(t2 - t1));
  std::printf("delete %d: %.3fs (%.0f/s)\n", n, s(t3 - t2), n / s(t3 - t2));
  std::printf("total %d calls: %.3fs (%.0f calls/s)\n", 3 * n, s(t3 - t0), 3 * n / s(t3 - t0));
  return 0;
}

int Probe(const std::string& sock) {
  auto stub = Dial(sock);
  auto create = [&](const char* what, const api::Container& ct, const std::string& ns = "probe") {
    grpc::ClientContext c;
    if (!ns.empty()) Ns(c, ns);
    api::CreateContainerRequest req;
    *req.mutable_container() = ct;
    api::CreateContainerResponse resp;
    Print(what, stub->Create(&c, req, &resp));
  };
  auto get = [&](const char* what, const std::string& id) {
    grpc::ClientContext c;
    Ns(c, "probe");
    api::GetContainerRequest req;
    req.set_id(id);
    api::GetContainerResponse resp;
    Print(what, stub->Get(&c, req, &resp));
  };
  auto update = [&](const char* what, const api::Container& ct, std::vector<std::string> paths) {
    grpc::ClientContext c;
    Ns(c, "probe");
    api::UpdateContainerRequest req;
    *req.mutable_container() = ct;
    for (auto& p : paths) req.mutable_update_mask()->add_paths(p);
    api::UpdateContainerResponse resp;
    Print(what, stub->Update(&c, req, &resp));
  };
  auto del = [&](const char* what, const std::string& id, const std::string& ns = "probe") {
    grpc::ClientContext c;
    Ns(c, ns);
    api::DeleteContainerRequest req;
    req.set_id(id);
    google::protobuf::Empty resp;
    Print(what, stub->Delete(&c, req, &resp));
  };
  auto list = [&](const char* what, const std::string& filter) {
    grpc::ClientContext c;
    Ns(c, "probe");
    api::ListContainersRequest req;
    req.add_filters(filter);
    api::ListContainersResponse resp;
    auto st = stub->List(&c, req, &resp);
    std::printf("%s: %d %s n=%d\n", what, static_cast<int>(st.error_code()),
                st.error_message().c_str(), resp.containers_size());
  };

  del("delete in empty namespace", "nope", "probe-empty");
  create("create no namespace", Sample("x"), "");
  create("create ok", Sample("p1"));
  create("create duplicate", Sample("p1"));
  auto bad = Sample("bad id");
  create("create bad id", bad);
  auto empty = Sample("");
  create("create empty id", empty);
  auto noruntime = Sample("p2");
  noruntime.clear_runtime();
  create("create no runtime", noruntime);
  auto nospec = Sample("p2");
  nospec.clear_spec();
  create("create no spec", nospec);
  auto nosn = Sample("p2");
  nosn.set_snapshot_key("k");
  create("create key without snapshotter", nosn);
  auto biglabel = Sample("p2");
  (*biglabel.mutable_labels())["k"] = std::string(5000, 'v');
  create("create big label", biglabel);
  auto emptyext = Sample("p2");
  (*emptyext.mutable_extensions())[""].set_type_url("x");
  create("create empty extension key", emptyext);
  get("get unknown", "nope");
  del("delete unknown", "nope");
  update("update unknown", Sample("nope"), {"labels"});
  update("update no id", Sample(""), {"labels"});
  update("update bad path", Sample("p1"), {"runtime"});
  update("update snapshotter path", Sample("p1"), {"snapshotter"});
  auto other = Sample("p1");
  other.mutable_runtime()->set_name("io.containerd.other");
  update("update full runtime change", other, {});
  auto sn = Sample("p1");
  sn.set_snapshotter("overlayfs");
  update("update full snapshotter change", sn, {});
  auto nospec2 = Sample("p1");
  nospec2.clear_spec();
  update("update spec removed", nospec2, {"spec"});
  update("update label ok", Sample("p1"), {"labels.bench"});
  list("list label filter", "labels.bench==yes");
  list("list quoted label filter", "labels.\"bench\"==yes");
  list("list runtime filter", "runtime.name==io.containerd.runc.v2");
  list("list bad filter", "labels.bench==");
  list("list regexp filter", "id~=^p");
  del("delete ok", "p1");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <socket> bench [n] | probe\n", argv[0]);
    return 2;
  }
  std::string mode = argv[2];
  if (mode == "bench") return Bench(argv[1], argc > 3 ? std::stoi(argv[3]) : 200);
  if (mode == "probe") return Probe(argv[1]);
  return 2;
}
