// `minicontainerd publish`: as containerd 1.6's `containerd publish`, the
// event Any on stdin goes to the daemon's gRPC Events.Publish, in the given
// namespace, over the gRPC address (not ttrpc).
#include "daemon/publish.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "daemon/config.h"
#include "github.com/containerd/containerd/api/services/events/v1/events.grpc.pb.h"
#include "pkg/context.h"
#include "pkg/errdefs.h"

namespace mcd::daemon {

namespace api = containerd::services::events::v1;

namespace {
constexpr auto kDialTimeout = std::chrono::seconds(2);  // containerd's

std::string Target(const std::string& address) {
  if (address.starts_with("unix://") || address.starts_with("unix:")) return address;
  return "unix://" + address;
}
}  // namespace

int Publish(const PublishFlags& f) {
  if (f.topic.empty()) {
    throw errdefs::InvalidArgument("topic required to publish event");
  }
  std::string data((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  api::PublishRequest req;
  req.set_topic(f.topic);
  if (!req.mutable_event()->ParseFromString(data)) {
    throw errdefs::InvalidArgument("event on stdin is not a protobuf Any");
  }
  const std::string address = f.address.empty() ? Config{}.grpc.address : f.address;
  auto channel = grpc::CreateChannel(Target(address), grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + kDialTimeout)) {
    throw errdefs::Error(errdefs::Code::kUnavailable,
                         "failed to dial \"" + address + "\": context deadline exceeded");
  }
  auto stub = api::Events::NewStub(channel);
  grpc::ClientContext ctx;
  if (!f.ns.empty()) ctx.AddMetadata(kNamespaceHeader, f.ns);
  google::protobuf::Empty empty;
  grpc::Status st = stub->Publish(&ctx, req, &empty);
  if (!st.ok()) {
    throw errdefs::Error(static_cast<errdefs::Code>(st.error_code()), st.error_message());
  }
  return 0;
}

}  // namespace mcd::daemon
