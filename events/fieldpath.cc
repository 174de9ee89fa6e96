#include "events/fieldpath.h"

#include <google/protobuf/descriptor.h>

#include "github.com/containerd/containerd/api/events/container.pb.h"
#include "github.com/containerd/containerd/api/events/content.pb.h"
#include "github.com/containerd/containerd/api/events/image.pb.h"
#include "github.com/containerd/containerd/api/events/namespace.pb.h"
#include "github.com/containerd/containerd/api/events/snapshot.pb.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"

namespace mcd::events {
namespace {

namespace pb = google::protobuf;

// Touching one message of each events file links its generated code, which
// registers the file's types in the generated pool where type URLs are
// looked up (a static library only links what is referenced).
void LinkEventTypes() {
  static const pb::Message* const linked[] = {
      &containerd::events::ContainerCreate::default_instance(),
      &containerd::events::ContentDelete::default_instance(),
      &containerd::services::images::v1::ImageCreate::default_instance(),
      &containerd::events::NamespaceCreate::default_instance(),
      &containerd::events::SnapshotPrepare::default_instance(),
      &containerd::events::TaskExit::default_instance(),
      &containerd::services::events::ttrpc::v1::Envelope::default_instance(),
  };
  (void)linked;
}

// containerd generates adaptors for every message of api/events/*.proto
// (fieldpath_all; image.proto's package is containerd.services.images.v1)
// and for the two Envelope messages (fieldpath option).
bool HasAdaptor(const pb::Descriptor* d) {
  return d->file()->name().starts_with("github.com/containerd/containerd/api/events/") ||
         d->full_name() == "containerd.services.events.v1.Envelope" ||
         d->full_name() == "containerd.services.events.ttrpc.v1.Envelope";
}

std::string Join(std::span<const std::string> parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += '.';
    out += parts[i];
  }
  return out;
}

bool IsLabels(const pb::FieldDescriptor* f) {
  return f->is_map() && f->name() == "labels" && f->message_type()->name() == "LabelsEntry";
}

std::optional<std::string> LabelValue(const pb::Message& m, const pb::FieldDescriptor* f,
                                      const std::string& key) {
  const auto* r = m.GetReflection();
  const int n = r->FieldSize(m, f);
  if (n == 0) return std::nullopt;
  const auto* kf = f->message_type()->map_key();
  const auto* vf = f->message_type()->map_value();
  if (kf->type() != pb::FieldDescriptor::TYPE_STRING ||
      vf->type() != pb::FieldDescriptor::TYPE_STRING) {
    return std::nullopt;
  }
  for (int i = 0; i < n; ++i) {
    const auto& entry = r->GetRepeatedMessage(m, f, i);
    const auto* er = entry.GetReflection();
    if (er->GetString(entry, kf) == key) return er->GetString(entry, vf);
  }
  return std::nullopt;
}

}  // namespace

std::unique_ptr<pb::Message> DecodeEvent(const pb::Any& any) {
  LinkEventTypes();
  // containerd's typeurl looks the URL up as a message name, exactly.
  const auto* d = pb::DescriptorPool::generated_pool()->FindMessageTypeByName(any.type_url());
  if (!d || !HasAdaptor(d)) return nullptr;
  const auto* proto = pb::MessageFactory::generated_factory()->GetPrototype(d);
  if (!proto) return nullptr;
  std::unique_ptr<pb::Message> m(proto->New());
  if (!m->ParseFromString(any.value())) return nullptr;
  return m;
}

std::optional<std::string> MessageField(const pb::Message& m, std::span<const std::string> path) {
  if (path.empty() || !HasAdaptor(m.GetDescriptor())) return std::nullopt;
  const auto* f = m.GetDescriptor()->FindFieldByName(path[0]);
  if (!f) return std::nullopt;
  const auto* r = m.GetReflection();
  if (IsLabels(f)) return LabelValue(m, f, Join(path.subspan(1)));
  if (f->is_repeated()) return std::nullopt;
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      std::string v = r->GetString(m, f);
      if (v.empty()) return std::nullopt;
      return v;
    }
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      return r->GetBool(m, f) ? "true" : "false";
    case pb::FieldDescriptor::CPPTYPE_MESSAGE: {
      const auto* t = f->message_type();
      if (t->full_name() == "google.protobuf.Timestamp") return std::nullopt;
      if (t->full_name() == "google.protobuf.Any") {
        if (!r->HasField(m, f)) return std::nullopt;
        pb::Any any;
        any.CopyFrom(r->GetMessage(m, f));
        auto decoded = DecodeEvent(any);
        if (!decoded) return std::nullopt;
        return MessageField(*decoded, path.subspan(1));
      }
      if (!r->HasField(m, f)) return std::nullopt;
      return MessageField(r->GetMessage(m, f), path.subspan(1));
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::string> EnvelopeFields::operator()(const std::vector<std::string>& path) {
  if (path.empty()) return std::nullopt;
  const std::string& first = path[0];
  if (first == "namespace") {
    if (env_.namespace_().empty()) return std::nullopt;
    return env_.namespace_();
  }
  if (first == "topic") {
    if (env_.topic().empty()) return std::nullopt;
    return env_.topic();
  }
  if (first == "event") {
    if (!decoded_) {
      decoded_ = true;
      if (env_.has_event()) event_ = DecodeEvent(env_.event());
    }
    if (!event_) return std::nullopt;
    return MessageField(*event_, std::span<const std::string>(path).subspan(1));
  }
  return std::nullopt;
}

}  // namespace mcd::events
