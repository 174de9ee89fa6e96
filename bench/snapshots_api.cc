// Snapshots API driver against any containerd-compatible socket:
//   snapshots_api <socket> <namespace> [pairs=100] [snapshotter=overlayfs]
// Times `pairs` Prepare+Remove pairs (no parent, as a container's first
// snapshot or an unpack's bottom layer) and prints the elapsed seconds. The
// calls carry a lease, as the containerd client's do, so a collection
// running between them cannot take the snapshot away. With BENCH_SPLIT set
// it also prints, on stderr, the time spent in Prepare and in Remove and that
// of as many Stat calls (the bare round trip).
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "github.com/containerd/containerd/api/services/leases/v1/leases.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/snapshots/v1/snapshots.grpc.pb.h"

namespace api = containerd::services::snapshots::v1;
namespace leases = containerd::services::leases::v1;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <socket> <namespace> [pairs] [snapshotter]\n", argv[0]);
    return 2;
  }
  std::string ns = argv[2];
  int pairs = argc > 3 ? std::stoi(argv[3]) : 100;
  std::string sn = argc > 4 ? argv[4] : "overlayfs";
  auto ch =
      grpc::CreateChannel(std::string("unix://") + argv[1], grpc::InsecureChannelCredentials());
  auto stub = api::Snapshots::NewStub(ch);
  auto fail = [](const char* what, const grpc::Status& st) {
    std::fprintf(stderr, "%s: %d %s\n", what, static_cast<int>(st.error_code()),
                 st.error_message().c_str());
    return 1;
  };
  const std::string lease = "bench-prepare-remove";
  {
    grpc::ClientContext c;
    c.AddMetadata("containerd-namespace", ns);
    leases::CreateRequest req;
    req.set_id(lease);
    leases::CreateResponse resp;
    auto st = leases::Leases::NewStub(ch)->Create(&c, req, &resp);
    if (!st.ok() && st.error_code() != grpc::StatusCode::ALREADY_EXISTS) return fail("lease", st);
  }
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  Clock::duration in_prepare{}, in_remove{};
  for (int i = 0; i < pairs; ++i) {
    auto p0 = Clock::now();
    std::string key = "bench-" + std::to_string(i);
    {
      grpc::ClientContext c;
      c.AddMetadata("containerd-namespace", ns);
      c.AddMetadata("containerd-lease", lease);
      api::PrepareSnapshotRequest req;
      req.set_snapshotter(sn);
      req.set_key(key);
      api::PrepareSnapshotResponse resp;
      auto st = stub->Prepare(&c, req, &resp);
      if (!st.ok()) return fail("prepare", st);
    }
    auto p1 = Clock::now();
    in_prepare += p1 - p0;
    {
      grpc::ClientContext c;
      c.AddMetadata("containerd-namespace", ns);
      c.AddMetadata("containerd-lease", lease);
      api::RemoveSnapshotRequest req;
      req.set_snapshotter(sn);
      req.set_key(key);
      google::protobuf::Empty resp;
      auto st = stub->Remove(&c, req, &resp);
      if (!st.ok()) return fail("remove", st);
    }
    in_remove += Clock::now() - p1;
  }
  if (std::getenv("BENCH_SPLIT")) {
    auto s0 = Clock::now();
    for (int i = 0; i < pairs; ++i) {
      grpc::ClientContext c;
      c.AddMetadata("containerd-namespace", ns);
      api::StatSnapshotRequest req;
      req.set_snapshotter(sn);
      req.set_key("missing");
      api::StatSnapshotResponse resp;
      stub->Stat(&c, req, &resp);
    }
    std::fprintf(stderr, "stat %.4f\n", std::chrono::duration<double>(Clock::now() - s0).count());
  }
  if (std::getenv("BENCH_SPLIT"))
    std::fprintf(stderr, "prepare %.4f remove %.4f\n",
                 std::chrono::duration<double>(in_prepare).count(),
                 std::chrono::duration<double>(in_remove).count());
  std::printf("%.4f\n", std::chrono::duration<double>(Clock::now() - t0).count());
  return 0;
}
