#pragma once
// The grpc layer's only helpers: the request context from gRPC metadata and
// errdefs errors to gRPC status. Service files stay free of logic.
#include <grpcpp/grpcpp.h>

#include <functional>

#include "pkg/context.h"
#include "plugins/plugin.h"

namespace mcd::services {

// A grpc plugin instance: the service object the daemon registers.
class GrpcService : public virtual plugin::Instance {
 public:
  virtual grpc::Service* service() = 0;
};

// Namespace and lease from the containerd-namespace / containerd-lease headers;
// an invalid namespace throws InvalidArgument.
Context ContextFrom(const grpc::ServerContextBase& sc);

grpc::Status ToStatus(const std::exception& e);

// Runs fn(ctx) and maps any exception to a gRPC status.
grpc::Status Handle(const grpc::ServerContextBase* sc,
                    const std::function<void(const Context&)>& fn);

}  // namespace mcd::services
