#include "ttrpc/client.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cerrno>
#include <future>
#include <system_error>
#include <unordered_map>

#include "mcd/ttrpc.pb.h"
#include "pkg/context.h"
#include "pkg/errdefs.h"
#include "pkg/log.h"
#include "ttrpc/address.h"
#include "ttrpc/channel.h"
#include "ttrpc/io.h"

namespace mcd::ttrpc {

namespace asio = boost::asio;
using Done = std::function<void(std::exception_ptr, std::string)>;

void Cancellation::Cancel() {
  std::vector<std::pair<uint64_t, std::function<void()>>> fns;
  {
    std::lock_guard lock(mu_);
    if (canceled_) return;
    canceled_ = true;
    fns.swap(fns_);
  }
  for (auto& [k, fn] : fns) fn();
}

bool Cancellation::canceled() const {
  std::lock_guard lock(mu_);
  return canceled_;
}

uint64_t Cancellation::Add(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (!canceled_) {
      fns_.emplace_back(++next_, std::move(fn));
      return next_;
    }
  }
  fn();
  return 0;
}

void Cancellation::Remove(uint64_t key) {
  std::lock_guard lock(mu_);
  std::erase_if(fns_, [key](const auto& p) { return p.first == key; });
}

namespace {

std::exception_ptr Fail(errdefs::Code code, std::string msg) {
  return std::make_exception_ptr(errdefs::Error(code, std::move(msg)));
}

constexpr std::string_view kClosed = "ttrpc: closed";

std::exception_ptr ClosedError() {
  return Fail(errdefs::Code::kUnavailable, std::string(kClosed));
}

// The client side of one connection: pending calls by stream id.
class ClientChannel : public Channel {
 public:
  explicit ClientChannel(Socket s) : Channel(std::move(s)) {}

  // On the strand.
  void Dispatch(std::string service, std::string method, std::string payload, CallOptions opts,
                Done done) {
    if (is_closed()) {
      done(ClosedError(), {});
      return;
    }
    const uint32_t id = next_id_;
    next_id_ += 2;  // client streams are odd; wraps from 0xffffffff to 1
    mcd::ttrpc::Request req;
    req.set_service(std::move(service));
    req.set_method(std::move(method));
    req.set_payload(std::move(payload));
    if (opts.timeout.count() > 0) req.set_timeout_nano(opts.timeout.count());
    if (!opts.ns.empty()) {
      auto* kv = req.add_metadata();
      kv->set_key(kNamespaceTtrpcHeader);
      kv->set_value(opts.ns);
    }
    for (auto& [k, v] : opts.metadata) {
      auto* kv = req.add_metadata();
      kv->set_key(k);
      kv->set_value(v);
    }
    std::string frame;
    try {
      frame = EncodeFrame(id, MessageType::kRequest, req.SerializeAsString());
    } catch (...) {
      done(std::current_exception(), {});
      return;
    }
    Pending& p = pending_[id];
    p.done = std::move(done);
    if (opts.timeout.count() > 0) {
      p.timer = std::make_unique<asio::steady_timer>(executor(), opts.timeout);
      p.timer->async_wait([self = Self(), id](boost::system::error_code ec) {
        if (!ec)
          self->Finish(id, Fail(errdefs::Code::kDeadlineExceeded, "context deadline exceeded"), {});
      });
    }
    if (opts.cancel) {
      p.cancel = opts.cancel;
      std::weak_ptr<ClientChannel> weak = Self();
      p.cancel_key = opts.cancel->Add([weak, id] {
        auto self = weak.lock();
        if (!self) return;
        asio::post(self->executor(), [self, id] {
          self->Finish(id, Fail(errdefs::Code::kCanceled, "context canceled"), {});
        });
      });
      // Add ran the callback at once when already canceled: it is queued.
    }
    Send(std::move(frame));
  }

  // Runs `fn` once the connection is closed (on the strand, or at once).
  void AddOnClose(std::function<void()> fn) {
    {
      std::lock_guard lock(close_mu_);
      if (!closed_flag_) {
        on_close_.push_back(std::move(fn));
        return;
      }
    }
    fn();
  }
  bool closed_flag() const {
    std::lock_guard lock(close_mu_);
    return closed_flag_;
  }

 protected:
  void OnFrame(FrameDecoder::Frame&& f) override {
    const uint32_t id = f.header.stream_id;
    if (!pending_.contains(id)) {
      // A call that timed out or was canceled: its late answer is dropped.
      log::Debug("ttrpc: response for unknown stream", {{"stream", std::to_string(id)}});
      return;
    }
    if (f.oversized) {
      Finish(id, Fail(errdefs::Code::kResourceExhausted, OversizedMessage(f.header.length)), {});
      return;
    }
    if (f.header.type != static_cast<uint8_t>(MessageType::kResponse)) {
      Finish(id, Fail(errdefs::Code::kUnknown, "unknown message type received"), {});
      return;
    }
    mcd::ttrpc::Response resp;
    if (!resp.ParseFromString(f.payload)) {
      Finish(id, Fail(errdefs::Code::kUnknown, "ttrpc: malformed response"), {});
      return;
    }
    if (resp.has_status() && resp.status().code() != 0) {
      int code = resp.status().code();
      if (code < 0 || code > static_cast<int>(errdefs::Code::kUnauthenticated)) code = 2;
      Finish(id, Fail(static_cast<errdefs::Code>(code), resp.status().message()), {});
      return;
    }
    Finish(id, nullptr, std::move(*resp.mutable_payload()));
  }

  void OnClosed() override {
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [id, p] : pending) Complete(p, ClosedError(), {});
    std::vector<std::function<void()>> fns;
    {
      std::lock_guard lock(close_mu_);
      closed_flag_ = true;
      fns.swap(on_close_);
    }
    for (auto& fn : fns) fn();
  }

 private:
  struct Pending {
    Done done;
    std::unique_ptr<asio::steady_timer> timer;
    std::shared_ptr<Cancellation> cancel;
    uint64_t cancel_key = 0;
  };

  std::shared_ptr<ClientChannel> Self() {
    return std::static_pointer_cast<ClientChannel>(shared_from_this());
  }

  void Finish(uint32_t id, std::exception_ptr err, std::string payload) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    Pending p = std::move(it->second);
    pending_.erase(it);
    Complete(p, std::move(err), std::move(payload));
  }

  static void Complete(Pending& p, std::exception_ptr err, std::string payload) {
    if (p.timer) p.timer->cancel();
    if (p.cancel) p.cancel->Remove(p.cancel_key);
    try {
      p.done(std::move(err), std::move(payload));
    } catch (const std::exception& e) {
      log::Error("ttrpc: call completion threw", {{"error", e.what()}});
    }
  }

  uint32_t next_id_ = 1;
  std::unordered_map<uint32_t, Pending> pending_;
  mutable std::mutex close_mu_;
  bool closed_flag_ = false;
  std::vector<std::function<void()>> on_close_;
};

class ClientImpl : public Client {
 public:
  explicit ClientImpl(std::shared_ptr<ClientChannel> ch) : ch_(std::move(ch)) {}
  ~ClientImpl() override { Close(); }

  std::string Call(const std::string& service, const std::string& method,
                   const std::string& payload, const CallOptions& opts) override {
    auto prom = std::make_shared<std::promise<std::string>>();
    auto fut = prom->get_future();
    AsyncCall(service, method, payload, opts, [prom](std::exception_ptr e, std::string out) {
      if (e) {
        prom->set_exception(e);
      } else {
        prom->set_value(std::move(out));
      }
    });
    return fut.get();
  }

  void AsyncCall(const std::string& service, const std::string& method, std::string payload,
                 const CallOptions& opts, Done done) override {
    asio::post(ch_->executor(), [ch = ch_, service, method, payload = std::move(payload), opts,
                                 done = std::move(done)]() mutable {
      ch->Dispatch(std::move(service), std::move(method), std::move(payload), std::move(opts),
                   std::move(done));
    });
  }

  void OnClose(std::function<void()> fn) override { ch_->AddOnClose(std::move(fn)); }
  bool closed() const override { return ch_->closed_flag(); }
  void Close() override {
    asio::post(ch_->executor(), [ch = ch_] { ch->Close(); });
  }

 private:
  std::shared_ptr<ClientChannel> ch_;
};

// A unix socket connect completes or fails at once unless the listener's
// backlog is full: try it on the caller's thread, sparing the hand-off to an
// io thread and back (two wake-ups, about a millisecond per dial on a small
// VM). False, with the socket closed again, when it would have to wait.
bool ConnectNow(Channel::Socket& sock, const std::string& path, const std::string& address) {
  asio::local::stream_protocol::endpoint ep(path);
  boost::system::error_code ec;
  if (sock.open(ep.protocol(), ec))
    throw errdefs::Error(errdefs::Code::kUnavailable,
                         "ttrpc: dial " + address + ": " + ec.message());
  const int fd = sock.native_handle();
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    sock.close(ec);
    return false;
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(ep.data()),
                static_cast<socklen_t>(ep.size())) == 0) {
    ::fcntl(fd, F_SETFL, flags);  // asio keeps its own account of blocking modes
    return true;
  }
  const int err = errno;
  sock.close(ec);
  if (err == EAGAIN || err == EINPROGRESS) return false;
  throw errdefs::Error(errdefs::Code::kUnavailable,
                       "ttrpc: dial " + address + ": " + std::system_category().message(err));
}

}  // namespace

std::shared_ptr<Client> Client::Connect(const std::string& address,
                                        std::chrono::milliseconds timeout) {
  const std::string path = SocketPath(address);
  auto strand = asio::make_strand(Io());
  auto sock = std::make_shared<Channel::Socket>(strand);
  if (ConnectNow(*sock, path, address)) {
    auto ch = std::make_shared<ClientChannel>(std::move(*sock));
    asio::post(ch->executor(), [ch] { ch->StartReading(); });
    return std::make_shared<ClientImpl>(std::move(ch));
  }
  auto result = std::make_shared<std::promise<boost::system::error_code>>();
  auto fut = result->get_future();
  asio::post(strand, [sock, result, path] {
    sock->async_connect(asio::local::stream_protocol::endpoint(path),
                        [sock, result](boost::system::error_code ec) { result->set_value(ec); });
  });
  if (fut.wait_for(timeout) != std::future_status::ready) {
    asio::post(strand, [sock] {
      boost::system::error_code ignored;
      sock->close(ignored);
    });
    throw errdefs::Error(errdefs::Code::kDeadlineExceeded, "ttrpc: dial " + address + ": timeout");
  }
  if (auto ec = fut.get()) {
    throw errdefs::Error(errdefs::Code::kUnavailable,
                         "ttrpc: dial " + address + ": " + ec.message());
  }
  auto ch = std::make_shared<ClientChannel>(std::move(*sock));
  asio::post(ch->executor(), [ch] { ch->StartReading(); });
  return std::make_shared<ClientImpl>(std::move(ch));
}

bool IsClosed(const errdefs::Error& e) {
  return e.code() == errdefs::Code::kUnavailable && std::string_view(e.what()) == kClosed;
}

errdefs::Error PeerError(const errdefs::Error& e) {
  return IsClosed(e) ? errdefs::Unknown(std::string(kClosed) + ": unknown") : errdefs::FromGrpc(e);
}

}  // namespace mcd::ttrpc
