#pragma once
// Field paths over events for filters, as containerd's generated fieldpath
// adaptors answer them (protobuf/plugin/fieldpath), done by reflection:
//   string field   -> its value, present when non-empty
//   bool field     -> "true"/"false", always present
//   labels map     -> labels.<rest joined by ".">
//   Any field      -> decoded by type URL (the full message name) and descended
//   message field  -> descended when set (Timestamps are not handled)
//   anything else (numbers, enums, repeated) -> absent
// Only types that have adaptors in containerd (api/events/*.proto and the
// events Envelope) are descended into; others answer absent, as there.
#include <google/protobuf/any.pb.h>
#include <google/protobuf/message.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "github.com/containerd/containerd/api/services/events/v1/events.pb.h"

namespace mcd::events {

std::optional<std::string> MessageField(const google::protobuf::Message& m,
                                        std::span<const std::string> path);

// The event inside an Any when its type is one with an adaptor; null when
// the type is unknown, has none, or the bytes do not parse.
std::unique_ptr<google::protobuf::Message> DecodeEvent(const google::protobuf::Any& any);

// The filters adaptor of an envelope: topic, namespace, event.<path>. The
// event is decoded at most once, on first use.
class EnvelopeFields {
 public:
  explicit EnvelopeFields(const containerd::services::events::v1::Envelope& env) : env_(env) {}
  std::optional<std::string> operator()(const std::vector<std::string>& path);

 private:
  const containerd::services::events::v1::Envelope& env_;
  bool decoded_ = false;
  std::unique_ptr<google::protobuf::Message> event_;
};

}  // namespace mcd::events
