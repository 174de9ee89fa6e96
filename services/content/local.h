#pragma once
// containerd.services.content.v1 logic (the io.containerd.service.v1 plugin
// "content-service") over the metadata plugin's namespaced content store:
// validation, the Write protocol, chunked reads, /content/delete events.
// Streaming calls are exposed as sessions the grpc layer drives from its
// callback reactors, one message at a time, so no thread waits on a client.
#include <memory>
#include <vector>

#include "content/store.h"
#include "events/exchange.h"
#include "github.com/containerd/containerd/api/services/content/v1/content.pb.h"
#include "pkg/context.h"
#include "plugins/plugin.h"

namespace mcd::services::content {

namespace api = containerd::services::content::v1;

// Bytes a Read response carries (containerd's copy buffer).
inline constexpr size_t kReadChunk = 1 << 20;
// Infos a List response carries, as containerd.
inline constexpr int kListBlock = 100;

// One Read call: each Next() fills the next chunk until it returns false.
class ReadSession {
 public:
  ReadSession(std::unique_ptr<mcd::content::ReaderAt> r, int64_t offset, int64_t end)
      : r_(std::move(r)), offset_(offset), end_(end) {}
  bool Next(api::ReadContentResponse* out);

 private:
  std::unique_ptr<mcd::content::ReaderAt> r_;
  int64_t offset_;
  int64_t end_;
};

// One Write call: Handle() takes each request and fills the response to
// send; it returns true when the stream is complete (after a commit).
// Errors are thrown as errdefs errors and end the call.
class WriteSession {
 public:
  WriteSession(mcd::content::Store& store, Context ctx) : store_(store), ctx_(std::move(ctx)) {}
  ~WriteSession();
  bool Handle(const api::WriteContentRequest& req, api::WriteContentResponse* resp);

 private:
  mcd::content::Store& store_;
  Context ctx_;
  std::unique_ptr<mcd::content::Writer> w_;
  std::string ref_;
  int64_t total_ = 0;
  std::string expected_;
};

class Local : public plugin::Instance {
 public:
  Local(std::shared_ptr<mcd::content::Store> store, events::Exchange* events)
      : store_(std::move(store)), events_(events) {}

  void Info(const Context& ctx, const api::InfoRequest& req, api::InfoResponse* resp);
  void Update(const Context& ctx, const api::UpdateRequest& req, api::UpdateResponse* resp);
  // The whole listing in responses of kListBlock infos.
  std::vector<api::ListContentResponse> List(const Context& ctx,
                                             const api::ListContentRequest& req);
  void Delete(const Context& ctx, const api::DeleteContentRequest& req);
  std::unique_ptr<ReadSession> Read(const Context& ctx, const api::ReadContentRequest& req);
  void Status(const Context& ctx, const api::StatusRequest& req, api::StatusResponse* resp);
  void ListStatuses(const Context& ctx, const api::ListStatusesRequest& req,
                    api::ListStatusesResponse* resp);
  std::unique_ptr<WriteSession> Write(const Context& ctx);
  void Abort(const Context& ctx, const api::AbortRequest& req);

  mcd::content::Store& store() { return *store_; }

 private:
  std::shared_ptr<mcd::content::Store> store_;
  events::Exchange* events_;
};

// Conversions shared with tests.
void ToProto(const mcd::content::Info& in, api::Info* out);
void ToProto(const mcd::content::Status& in, api::Status* out);

}  // namespace mcd::services::content
