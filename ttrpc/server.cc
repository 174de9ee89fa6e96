#include "ttrpc/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "mcd/ttrpc.pb.h"
#include "pkg/errdefs.h"
#include "pkg/log.h"
#include "ttrpc/address.h"
#include "ttrpc/channel.h"
#include "ttrpc/io.h"

namespace mcd::ttrpc {

namespace asio = boost::asio;
using Code = errdefs::Code;

namespace {

constexpr size_t kMaxWriteBacklog = 8 << 20;  // stop reading a peer that does not read
constexpr auto kDrainTimeout = std::chrono::seconds(5);

class ServerImpl;

// The server side of one connection.
class ServerConn : public Channel {
 public:
  ServerConn(Socket s, ServerImpl* srv, size_t max_inflight)
      : Channel(std::move(s)), srv_(srv), max_inflight_(max_inflight) {}

  // On the strand: no new requests; close once the running ones answered.
  void Drain() {
    draining_ = true;
    if (inflight_ == 0) CloseAfterFlush();
  }

 protected:
  void OnFrame(FrameDecoder::Frame&& f) override;
  void OnClosed() override;
  bool CanRead() const override;

 private:
  void Respond(uint32_t id, Code code, const std::string& msg, const std::string& payload);
  std::shared_ptr<ServerConn> Self() {
    return std::static_pointer_cast<ServerConn>(shared_from_this());
  }

  ServerImpl* srv_;  // null once closed: the server may be gone then
  const size_t max_inflight_;
  size_t inflight_ = 0;
  bool draining_ = false;
};

struct Listener {
  explicit Listener(asio::io_context& io)
      : acceptor(asio::make_strand(io)), retry(acceptor.get_executor()) {}
  asio::local::stream_protocol::acceptor acceptor;
  asio::steady_timer retry;
  std::chrono::milliseconds backoff{0};
  std::string file;  // removed at shutdown; empty for an abstract socket
};

class ServerImpl : public Server {
 public:
  explicit ServerImpl(Options opts)
      : opts_(opts), pool_(static_cast<size_t>(std::max(1, opts.handler_threads))) {}
  ~ServerImpl() override { Shutdown(); }

  void Register(const std::string& service, const std::string& method, Handler h) override {
    std::unique_lock lock(hmu_);
    auto& methods = handlers_[service];
    if (methods.contains(method)) {
      throw errdefs::AlreadyExists("ttrpc method " + service + "/" + method);
    }
    methods[method] = std::move(h);
  }

  void Listen(const std::string& address) override;
  void Shutdown() override;

  // For connections.
  const Options& options() const { return opts_; }
  asio::thread_pool& pool() { return pool_; }
  // The handler, or the Unimplemented message ttrpc sends.
  Handler Find(const std::string& service, const std::string& method, std::string* err) const {
    std::shared_lock lock(hmu_);
    auto s = handlers_.find(service);
    if (s == handlers_.end()) {
      *err = "service " + service;
      return nullptr;
    }
    auto m = s->second.find(method);
    if (m == s->second.end()) {
      *err = "method " + method;
      return nullptr;
    }
    return m->second;
  }
  void Remove(ServerConn* c) {
    std::lock_guard lock(mu_);
    conns_.erase(c);
    cv_.notify_all();
  }

 private:
  void Accept(const std::shared_ptr<Listener>& l);
  bool PeerAllowed(int fd) const;

  Options opts_;
  mutable std::shared_mutex hmu_;
  std::map<std::string, std::map<std::string, Handler>> handlers_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool shut_ = false;
  std::vector<std::shared_ptr<Listener>> listeners_;
  std::map<ServerConn*, std::shared_ptr<ServerConn>> conns_;
  asio::thread_pool pool_;
};

// Runs `fn` on `ex` and waits for it (callers are never io threads).
template <class Ex, class Fn>
void RunOn(const Ex& ex, Fn fn) {
  std::promise<void> done;
  asio::post(ex, [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

Context RequestContext(const mcd::ttrpc::Request& req) {
  std::string ns;
  for (const auto& kv : req.metadata()) {
    if (kv.key() == kNamespaceTtrpcHeader) {
      ns = kv.value();
      break;
    }
  }
  Context ctx = MakeContext(std::move(ns));
  if (req.timeout_nano() != 0) {
    ctx.deadline = std::chrono::steady_clock::now() +
                   std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       std::chrono::nanoseconds(req.timeout_nano()));
  }
  return ctx;
}

void ServerConn::Respond(uint32_t id, Code code, const std::string& msg,
                         const std::string& payload) {
  mcd::ttrpc::Response resp;
  auto* st = resp.mutable_status();  // always present, as ttrpc sends it
  st->set_code(static_cast<int>(code));
  st->set_message(msg);
  resp.set_payload(payload);
  std::string out = resp.SerializeAsString();
  if (out.size() > kMaxMessageSize) {
    resp.clear_payload();
    st->set_code(static_cast<int>(Code::kResourceExhausted));
    st->set_message(OversizedMessage(out.size()));
    out = resp.SerializeAsString();
  }
  Send(EncodeFrame(id, MessageType::kResponse, out));
}

bool ServerConn::CanRead() const {
  return inflight_ < max_inflight_ && write_backlog() < kMaxWriteBacklog;
}

void ServerConn::OnFrame(FrameDecoder::Frame&& f) {
  const uint32_t id = f.header.stream_id;
  if (draining_ || !srv_) return;
  if (f.oversized) {
    Respond(id, Code::kResourceExhausted, OversizedMessage(f.header.length), {});
    return;
  }
  if (f.header.type != static_cast<uint8_t>(MessageType::kRequest)) return;
  mcd::ttrpc::Request req;
  if (!req.ParseFromString(f.payload)) {
    Respond(id, Code::kInvalidArgument, "unmarshal request error: malformed protobuf", {});
    return;
  }
  if (id % 2 != 1) {
    Respond(id, Code::kInvalidArgument, "StreamID must be odd for client initiated streams", {});
    return;
  }
  std::string err;
  Server::Handler h = srv_->Find(req.service(), req.method(), &err);
  if (!h) {
    Respond(id, Code::kUnimplemented, err, {});
    return;
  }
  ++inflight_;
  asio::post(srv_->pool(), [self = Self(), id, h = std::move(h), req = std::move(req)] {
    Code code = Code::kOk;
    std::string msg, out;
    try {
      out = h(RequestContext(req), req.payload());
    } catch (const errdefs::Error& e) {
      code = e.code();
      msg = e.what();
    } catch (const std::exception& e) {
      code = Code::kUnknown;
      msg = e.what();
    } catch (...) {
      code = Code::kUnknown;
      msg = "ttrpc: handler failed";
    }
    if (code == Code::kOk) msg.clear();
    asio::post(self->executor(), [self, id, code, msg = std::move(msg), out = std::move(out)] {
      --self->inflight_;
      self->Respond(id, code, msg, out);
      if (self->draining_ && self->inflight_ == 0) {
        self->CloseAfterFlush();
      } else {
        self->ResumeReading();
      }
    });
  });
}

void ServerConn::OnClosed() {
  if (srv_) srv_->Remove(this);
  srv_ = nullptr;
}

void RemoveStaleSocket(const std::string& file) {
  struct stat st;
  if (::lstat(file.c_str(), &st) != 0) return;
  if (!S_ISSOCK(st.st_mode))
    throw errdefs::FailedPrecondition(file + " exists and is not a socket");
  asio::io_context probe_io;
  asio::local::stream_protocol::socket probe(probe_io);
  boost::system::error_code ec;
  probe.connect(asio::local::stream_protocol::endpoint(file), ec);
  if (!ec) throw errdefs::FailedPrecondition("address " + file + " is in use");
  if (::unlink(file.c_str()) != 0 && errno != ENOENT) {
    throw errdefs::FromErrno(errno, "remove stale socket " + file);
  }
}

void ServerImpl::Listen(const std::string& address) {
  const std::string path = SocketPath(address);
  const bool abstract = path[0] == '\0';
  {
    std::lock_guard lock(mu_);
    if (shut_) throw errdefs::FailedPrecondition("ttrpc server is shut down");
  }
  if (!abstract) RemoveStaleSocket(path);
  auto l = std::make_shared<Listener>(Io());
  boost::system::error_code ec;
  asio::local::stream_protocol::endpoint ep(path);
  if (l->acceptor.open(ep.protocol(), ec) || l->acceptor.bind(ep, ec) ||
      l->acceptor.listen(asio::socket_base::max_listen_connections, ec)) {
    throw errdefs::Error(Code::kUnavailable, "ttrpc: listen " + address + ": " + ec.message());
  }
  if (!abstract) l->file = path;
  {
    std::lock_guard lock(mu_);
    listeners_.push_back(l);
  }
  asio::post(l->acceptor.get_executor(), [this, l] { Accept(l); });
}

void ServerImpl::Accept(const std::shared_ptr<Listener>& l) {
  l->acceptor.async_accept(asio::make_strand(Io()), [this, l](boost::system::error_code ec,
                                                              Channel::Socket sock) {
    if (!l->acceptor.is_open()) return;  // shutting down
    if (ec) {
      // EMFILE and friends: back off rather than spin, as ttrpc does.
      l->backoff = std::min<std::chrono::milliseconds>(
          std::max<std::chrono::milliseconds>(l->backoff * 2, std::chrono::milliseconds(1)),
          std::chrono::seconds(1));
      log::Error("ttrpc: failed accept", {{"error", ec.message()}});
      l->retry.expires_after(l->backoff);
      l->retry.async_wait([this, l](boost::system::error_code wec) {
        if (!wec && l->acceptor.is_open()) Accept(l);
      });
      return;
    }
    l->backoff = std::chrono::milliseconds(0);
    if (!PeerAllowed(sock.native_handle())) {
      log::Error("ttrpc: refusing connection after handshake",
                 {{"error", "ttrpc: invalid credentials: operation not permitted"}});
      boost::system::error_code ignored;
      sock.close(ignored);
    } else {
      auto conn = std::make_shared<ServerConn>(std::move(sock), this, opts_.max_inflight_per_conn);
      bool ok;
      {
        std::lock_guard lock(mu_);
        ok = !shut_;
        if (ok) conns_[conn.get()] = conn;
      }
      if (ok) asio::post(conn->executor(), [conn] { conn->StartReading(); });
    }
    Accept(l);
  });
}

bool ServerImpl::PeerAllowed(int fd) const {
  if (!opts_.require_same_user) return true;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
  return cred.uid == ::geteuid() && cred.gid == ::getegid();
}

void ServerImpl::Shutdown() {
  std::vector<std::shared_ptr<Listener>> listeners;
  std::vector<std::shared_ptr<ServerConn>> conns;
  {
    std::lock_guard lock(mu_);
    if (shut_) return;
    shut_ = true;
    listeners.swap(listeners_);
    for (auto& [p, c] : conns_) conns.push_back(c);
  }
  for (auto& l : listeners) {
    RunOn(l->acceptor.get_executor(), [&] {
      boost::system::error_code ignored;
      l->acceptor.close(ignored);
      l->retry.cancel();
    });
    if (!l->file.empty()) ::unlink(l->file.c_str());
  }
  for (auto& c : conns) asio::post(c->executor(), [c] { c->Drain(); });
  conns.clear();
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kDrainTimeout, [&] { return conns_.empty(); })) {
      // Peers that do not read their answers: close them regardless.
      for (auto& [p, c] : conns_) asio::post(c->executor(), [c = c] { c->Close(); });
      cv_.wait(lock, [&] { return conns_.empty(); });
    }
  }
  pool_.join();  // handlers still running finish; their answers are dropped
}

}  // namespace

std::unique_ptr<Server> Server::Create() {
  return Create(Options{});
}
std::unique_ptr<Server> Server::Create(Options opts) {
  return std::make_unique<ServerImpl>(opts);
}

}  // namespace mcd::ttrpc
