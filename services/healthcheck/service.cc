// grpc plugin "healthcheck": grpc.health.v1.Health, served by gRPC's own
// implementation (SERVING for "" once the daemon listens).
#include <grpcpp/health_check_service_interface.h>

#include "services/grpc_util.h"

namespace mcd::services::healthcheck {
namespace {

// Not a grpc::Service of ours: enabling the default service makes every
// server built afterwards carry grpc.health.v1.Health.
class Health final : public GrpcService {
 public:
  grpc::Service* service() override { return nullptr; }
};

plugin::Registrar reg{{
    .type = plugin::kGRPC,
    .id = "healthcheck",
    .requires_ = {},
    .config = {},
    .init = [](plugin::InitContext&) -> std::shared_ptr<plugin::Instance> {
      grpc::EnableDefaultHealthCheckService(true);
      return std::make_shared<Health>();
    },
}};

}  // namespace
}  // namespace mcd::services::healthcheck
