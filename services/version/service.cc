// grpc plugin "version": containerd.services.version.v1.Version. No local
// plugin: the answer is a constant of the build.
#include "github.com/containerd/containerd/api/services/version/v1/version.grpc.pb.h"
#include "services/grpc_util.h"

#ifndef MCD_CONTAINERD_VERSION
#define MCD_CONTAINERD_VERSION "1.6.20"
#endif
#ifndef MCD_CONTAINERD_REVISION
#define MCD_CONTAINERD_REVISION "1.6.20"
#endif

namespace mcd::services::version {
namespace {

namespace api = containerd::services::version::v1;

class Service final : public api::Version::CallbackService, public GrpcService {
 public:
  grpc::Service* service() override { return this; }
  // The containerd build whose API we serve, as that build reports itself:
  // ctr compares the revision with its own.
  grpc::ServerUnaryReactor* Version(grpc::CallbackServerContext* sc, const google::protobuf::Empty*,
                                    api::VersionResponse* resp) override {
    return Unary(sc, Runs::kInline, [resp](const Context&) {
      resp->set_version(MCD_CONTAINERD_VERSION);
      resp->set_revision(MCD_CONTAINERD_REVISION);
    });
  }
};

plugin::Registrar reg{{
    .type = plugin::kGRPC,
    .id = "version",
    .requires_ = {},
    .config = {},
    .init = [](plugin::InitContext&) -> std::shared_ptr<plugin::Instance> {
      return std::make_shared<Service>();
    },
}};

}  // namespace
}  // namespace mcd::services::version
