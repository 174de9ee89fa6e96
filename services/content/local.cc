#include "services/content/local.h"

#include <fmt/format.h>

#include "content/digest.h"
#include "github.com/containerd/containerd/api/events/content.pb.h"
#include "metadata/content.h"
#include "metadata/db.h"
#include "pkg/errdefs.h"
#include "pkg/log.h"
#include "pkg/timestamp.h"

namespace mcd::services::content {
namespace {

namespace mc = mcd::content;

// containerd's `"%q failed validation"` for Info and Update.
void RequireDigest(const std::string& d) {
  if (!mc::DigestError(d).empty()) {
    throw errdefs::Error(errdefs::Code::kInvalidArgument, fmt::format("{:?} failed validation", d));
  }
}

}  // namespace

void ToProto(const mc::Info& in, api::Info* out) {
  out->set_digest(in.digest);
  out->set_size(in.size);
  *out->mutable_created_at() = ToTimestamp(in.created_at);
  *out->mutable_updated_at() = ToTimestamp(in.updated_at);
  for (const auto& [k, v] : in.labels) (*out->mutable_labels())[k] = v;
}

void ToProto(const mc::Status& in, api::Status* out) {
  *out->mutable_started_at() = ToTimestamp(in.started_at);
  *out->mutable_updated_at() = ToTimestamp(in.updated_at);
  out->set_ref(in.ref);
  out->set_offset(in.offset);
  out->set_total(in.total);
  out->set_expected(in.expected);
}

void Local::Info(const Context& ctx, const api::InfoRequest& req, api::InfoResponse* resp) {
  RequireDigest(req.digest());
  ToProto(store_->GetInfo(ctx, req.digest()), resp->mutable_info());
}

void Local::Update(const Context& ctx, const api::UpdateRequest& req, api::UpdateResponse* resp) {
  RequireDigest(req.info().digest());
  mc::Info info;
  info.digest = req.info().digest();
  info.size = req.info().size();
  info.created_at = FromTimestamp(req.info().created_at());
  info.updated_at = FromTimestamp(req.info().updated_at());
  info.labels = mc::Labels(req.info().labels().begin(), req.info().labels().end());
  std::vector<std::string> paths(req.update_mask().paths().begin(),
                                 req.update_mask().paths().end());
  ToProto(store_->Update(ctx, info, paths), resp->mutable_info());
}

std::vector<api::ListContentResponse> Local::List(const Context& ctx,
                                                  const api::ListContentRequest& req) {
  std::vector<api::ListContentResponse> out;
  std::vector<std::string> filters(req.filters().begin(), req.filters().end());
  store_->Walk(
      ctx,
      [&](const mc::Info& info) {
        if (out.empty() || out.back().info_size() >= kListBlock) out.emplace_back();
        // containerd's List leaves updated_at out.
        auto* i = out.back().add_info();
        i->set_digest(info.digest);
        i->set_size(info.size);
        *i->mutable_created_at() = ToTimestamp(info.created_at);
        for (const auto& [k, v] : info.labels) (*i->mutable_labels())[k] = v;
      },
      filters);
  return out;
}

void Local::Delete(const Context& ctx, const api::DeleteContentRequest& req) {
  if (auto err = mc::DigestError(req.digest()); !err.empty()) {
    throw errdefs::Error(errdefs::Code::kInvalidArgument, err);
  }
  store_->Delete(ctx, req.digest());
  containerd::events::ContentDelete ev;
  ev.set_digest(req.digest());
  events_->Publish(ctx, "/content/delete", ev);
}

std::unique_ptr<ReadSession> Local::Read(const Context& ctx, const api::ReadContentRequest& req) {
  if (auto err = mc::DigestError(req.digest()); !err.empty()) {
    throw errdefs::Error(errdefs::Code::kInvalidArgument, req.digest() + ": " + err);
  }
  auto info = store_->GetInfo(ctx, req.digest());
  auto r = store_->OpenReader(ctx, req.digest());
  int64_t offset = std::max<int64_t>(req.offset(), 0);
  int64_t size = req.size();
  if (offset > info.size) {
    throw errdefs::Error(errdefs::Code::kOutOfRange,
                         fmt::format("read past object length {} bytes", info.size));
  }
  if (size <= 0 || offset + size > info.size) size = info.size - offset;
  return std::make_unique<ReadSession>(std::move(r), offset, offset + size);
}

bool ReadSession::Next(api::ReadContentResponse* out) {
  if (offset_ >= end_) return false;
  size_t want = static_cast<size_t>(std::min<int64_t>(end_ - offset_, kReadChunk));
  std::string* data = out->mutable_data();
  data->resize(want);
  size_t got = r_->ReadAt(data->data(), want, offset_);
  if (got == 0) throw errdefs::Internal("unexpected end of blob");
  data->resize(got);
  out->set_offset(offset_);
  offset_ += static_cast<int64_t>(got);
  return true;
}

void Local::Status(const Context& ctx, const api::StatusRequest& req, api::StatusResponse* resp) {
  try {
    ToProto(store_->GetStatus(ctx, req.ref()), resp->mutable_status());
  } catch (const errdefs::Error& e) {
    throw errdefs::Error(e.code(),
                         fmt::format("could not get status for ref {:?}: {}", req.ref(), e.what()));
  }
}

void Local::ListStatuses(const Context& ctx, const api::ListStatusesRequest& req,
                         api::ListStatusesResponse* resp) {
  std::vector<std::string> filters(req.filters().begin(), req.filters().end());
  for (const auto& st : store_->ListStatuses(ctx, filters)) ToProto(st, resp->add_statuses());
}

std::unique_ptr<WriteSession> Local::Write(const Context& ctx) {
  ctx.Namespace();  // fail before the first message when missing
  return std::make_unique<WriteSession>(*store_, ctx);
}

void Local::Abort(const Context& ctx, const api::AbortRequest& req) {
  store_->Abort(ctx, req.ref());
}

WriteSession::~WriteSession() {
  if (w_) {
    try {
      w_->Close();
    } catch (const std::exception& e) {
      log::Warn("closing content writer", {{"ref", ref_}, {"error", e.what()}});
    }
  }
}

// containerd's contentserver Write loop, one request at a time.
bool WriteSession::Handle(const api::WriteContentRequest& req, api::WriteContentResponse* msg) {
  if (!w_) {
    if (req.ref().empty()) {
      throw errdefs::Error(errdefs::Code::kInvalidArgument, "first message must have a reference");
    }
    ref_ = req.ref();
    total_ = req.total();
    expected_ = req.expected();
    if (!expected_.empty()) {
      if (auto err = mc::DigestError(expected_); !err.empty()) {
        throw errdefs::Error(errdefs::Code::kInvalidArgument, expected_ + ": " + err);
      }
    }
    w_ = store_.OpenWriter(ctx_, {.ref = ref_, .total = total_, .expected = expected_});
  }
  msg->Clear();
  msg->set_action(req.action());
  auto ws = w_->GetStatus();
  msg->set_offset(ws.offset);  // always set the offset

  if (!req.expected().empty()) {
    if (auto err = mc::DigestError(req.expected()); !err.empty()) {
      throw errdefs::Error(errdefs::Code::kInvalidArgument, req.expected() + ": " + err);
    }
    expected_ = req.expected();
    bool exists = true;
    try {
      store_.GetInfo(ctx_, req.expected());
    } catch (const errdefs::Error& e) {
      if (e.code() != errdefs::Code::kNotFound) throw;
      exists = false;
    }
    if (exists) {
      w_->Close();
      w_.reset();
      try {
        store_.Abort(ctx_, ref_);
      } catch (const std::exception& e) {
        log::Error("failed to abort write", {{"ref", ref_}, {"error", e.what()}});
      }
      throw errdefs::Error(errdefs::Code::kAlreadyExists,
                           fmt::format("blob with expected digest {} exists", req.expected()));
    }
  }
  if (req.total() > 0) total_ = req.total();

  switch (req.action()) {
    case api::STAT:
      msg->set_digest(w_->Digest());
      *msg->mutable_started_at() = ToTimestamp(ws.started_at);
      *msg->mutable_updated_at() = ToTimestamp(ws.updated_at);
      msg->set_total(total_);
      break;
    case api::WRITE:
    case api::COMMIT: {
      if (req.offset() > 0 && req.offset() != ws.offset) {
        throw errdefs::Error(
            errdefs::Code::kOutOfRange,
            fmt::format("write @{} must occur at current offset {}", req.offset(), ws.offset));
      }
      if (req.offset() == 0 && ws.offset > 0) {
        try {
          w_->Truncate(0);
        } catch (const errdefs::Error& e) {
          throw errdefs::Error(e.code(), std::string("truncate failed: ") + e.what());
        }
        msg->set_offset(0);
      }
      if (!req.data().empty()) {
        w_->Write(req.data());
        msg->set_offset(msg->offset() + static_cast<int64_t>(req.data().size()));
      }
      if (req.action() == api::COMMIT) {
        mc::Labels labels(req.labels().begin(), req.labels().end());
        w_->Commit(total_, expected_, labels);
      }
      msg->set_digest(w_->Digest());
      break;
    }
    default:
      throw errdefs::InvalidArgument(fmt::format("unknown write action {}", int(req.action())));
  }
  if (req.action() == api::COMMIT) {
    w_.reset();
    return true;
  }
  return false;
}

namespace {
plugin::Registrar reg{{
    .type = plugin::kService,
    .id = "content-service",
    .requires_ = {plugin::kEvent, plugin::kMetadata},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      auto db = ic.GetAs<metadata::DB>(plugin::kMetadata);
      if (!db->content) throw errdefs::Internal("metadata plugin has no content store");
      return std::make_shared<Local>(db->content, ic.events);
    },
}};
}  // namespace

}  // namespace mcd::services::content
