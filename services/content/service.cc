// grpc plugin "content": containerd.services.content.v1.Content over the
// content-service plugin. List, Read and Write are reactors that advance one
// message at a time, so an idle or slow client holds no thread.
#include "github.com/containerd/containerd/api/services/content/v1/content.grpc.pb.h"
#include "pkg/blocking_pool.h"
#include "services/content/local.h"
#include "services/grpc_util.h"

namespace mcd::services::content {
namespace {

using Base = api::Content::CallbackService;

class ReadReactor : public grpc::ServerWriteReactor<api::ReadContentResponse> {
 public:
  ReadReactor(grpc::CallbackServerContext* sc, Local* local, const api::ReadContentRequest* req) {
    try {
      session_ = local->Read(ContextFrom(*sc), *req);
    } catch (const std::exception& e) {
      Finish(ToStatus(e));
      return;
    }
    Next();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status(grpc::StatusCode::CANCELLED, "context canceled"));
    Next();
  }
  void OnDone() override { delete this; }

 private:
  void Next() {
    try {
      resp_.Clear();
      if (!session_->Next(&resp_)) return Finish(grpc::Status::OK);
    } catch (const std::exception& e) {
      return Finish(ToStatus(e));
    }
    StartWrite(&resp_);
  }
  std::unique_ptr<ReadSession> session_;
  api::ReadContentResponse resp_;
};

class WriteReactor
    : public grpc::ServerBidiReactor<api::WriteContentRequest, api::WriteContentResponse> {
 public:
  WriteReactor(grpc::CallbackServerContext* sc, Local* local) {
    try {
      session_ = local->Write(ContextFrom(*sc));
    } catch (const std::exception& e) {
      Finish(ToStatus(e));
      return;
    }
    StartRead(&req_);
  }
  void OnReadDone(bool ok) override {
    // The client closed its side (or the call broke): what was written stays
    // in the ingest for a later resume.
    if (!ok) return End(grpc::Status::OK);
    // A chunk's write, and above all a commit's fsync of the whole blob, may
    // take long: not on gRPC's polling threads. No other callback of this
    // call runs meanwhile (no read or write is started).
    try {
      BlockingPool::Default().Post([this] {
        try {
          done_ = session_->Handle(req_, &resp_);
        } catch (const std::exception& e) {
          return End(ToStatus(e));
        }
        StartWrite(&resp_);
      });
    } catch (const std::exception& e) {
      End(ToStatus(e));
    }
  }
  void OnWriteDone(bool ok) override {
    if (!ok) return End(grpc::Status(grpc::StatusCode::CANCELLED, "context canceled"));
    if (done_) return End(grpc::Status::OK);
    StartRead(&req_);
  }
  void OnDone() override { delete this; }

 private:
  // Releases the writer (and its ref lock) before the client hears the end.
  void End(grpc::Status st) {
    session_.reset();
    Finish(std::move(st));
  }
  std::unique_ptr<WriteSession> session_;
  api::WriteContentRequest req_;
  api::WriteContentResponse resp_;
  bool done_ = false;
};

class Service final : public Base, public GrpcService {
 public:
  explicit Service(std::shared_ptr<Local> local) : local_(std::move(local)) {}
  grpc::Service* service() override { return this; }

  grpc::ServerUnaryReactor* Info(grpc::CallbackServerContext* sc, const api::InfoRequest* req,
                                 api::InfoResponse* resp) override {
    return Unary(sc, Runs::kInline,
                 [this, req, resp](const Context& ctx) { local_->Info(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Update(grpc::CallbackServerContext* sc, const api::UpdateRequest* req,
                                   api::UpdateResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->Update(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* sc,
                                   const api::DeleteContentRequest* req,
                                   google::protobuf::Empty*) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req](const Context& ctx) { local_->Delete(ctx, *req); });
  }
  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* sc, const api::StatusRequest* req,
                                   api::StatusResponse* resp) override {
    return Unary(sc, Runs::kInline,
                 [this, req, resp](const Context& ctx) { local_->Status(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* ListStatuses(grpc::CallbackServerContext* sc,
                                         const api::ListStatusesRequest* req,
                                         api::ListStatusesResponse* resp) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req, resp](const Context& ctx) { local_->ListStatuses(ctx, *req, resp); });
  }
  grpc::ServerUnaryReactor* Abort(grpc::CallbackServerContext* sc, const api::AbortRequest* req,
                                  google::protobuf::Empty*) override {
    return Unary(sc, Runs::kBlocking,
                 [this, req](const Context& ctx) { local_->Abort(ctx, *req); });
  }

  grpc::ServerWriteReactor<api::ListContentResponse>* List(
      grpc::CallbackServerContext* sc, const api::ListContentRequest* req) override {
    return new GatheredWriter<api::ListContentResponse>(
        sc, [this, req](const Context& ctx, std::vector<api::ListContentResponse>* out) {
          *out = local_->List(ctx, *req);
        });
  }
  grpc::ServerWriteReactor<api::ReadContentResponse>* Read(
      grpc::CallbackServerContext* sc, const api::ReadContentRequest* req) override {
    return new ReadReactor(sc, local_.get(), req);
  }
  grpc::ServerBidiReactor<api::WriteContentRequest, api::WriteContentResponse>* Write(
      grpc::CallbackServerContext* sc) override {
    return new WriteReactor(sc, local_.get());
  }

 private:
  std::shared_ptr<Local> local_;
};

plugin::Registrar reg{{
    .type = plugin::kGRPC,
    .id = "content",
    .requires_ = {plugin::kService},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      return std::make_shared<Service>(ic.GetAs<Local>(plugin::kService, "content-service"));
    },
}};

}  // namespace
}  // namespace mcd::services::content
