#include "ttrpc/frame.h"

#include <algorithm>

#include "pkg/errdefs.h"

namespace mcd::ttrpc {

namespace {
void PutU32(unsigned char* p, uint32_t v) {
  p[0] = static_cast<unsigned char>(v >> 24);
  p[1] = static_cast<unsigned char>(v >> 16);
  p[2] = static_cast<unsigned char>(v >> 8);
  p[3] = static_cast<unsigned char>(v);
}
uint32_t GetU32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
}  // namespace

void EncodeHeader(const Header& h, unsigned char out[kHeaderSize]) {
  PutU32(out, h.length);
  PutU32(out + 4, h.stream_id);
  out[8] = h.type;
  out[9] = h.flags;
}

Header DecodeHeader(const unsigned char in[kHeaderSize]) {
  return Header{GetU32(in), GetU32(in + 4), in[8], in[9]};
}

std::string OversizedMessage(uint64_t length, size_t max) {
  return "message length " + std::to_string(length) + " exceed maximum message size of " +
         std::to_string(max);
}

std::string EncodeFrame(uint32_t stream_id, MessageType type, std::string_view payload) {
  if (payload.size() > kMaxMessageSize) {
    throw errdefs::Error(errdefs::Code::kResourceExhausted, OversizedMessage(payload.size()));
  }
  std::string out(kHeaderSize + payload.size(), '\0');
  Header h{static_cast<uint32_t>(payload.size()), stream_id, static_cast<uint8_t>(type), 0};
  EncodeHeader(h, reinterpret_cast<unsigned char*>(out.data()));
  std::copy(payload.begin(), payload.end(), out.begin() + kHeaderSize);
  return out;
}

void FrameDecoder::Feed(std::string_view data, const Sink& sink) {
  while (!data.empty() && !stopped_) {
    if (skip_ > 0) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(skip_, data.size()));
      skip_ -= n;
      data.remove_prefix(n);
      continue;
    }
    if (!in_body_) {
      size_t n = std::min(kHeaderSize - have_, data.size());
      std::copy_n(data.data(), n, hbuf_ + have_);
      have_ += n;
      data.remove_prefix(n);
      if (have_ < kHeaderSize) return;
      have_ = 0;
      cur_ = DecodeHeader(hbuf_);
      if (cur_.length > max_) {
        skip_ = cur_.length;
        sink(Frame{cur_, {}, true});
        continue;
      }
      in_body_ = true;
      body_.clear();
      // Grow with the data rather than trusting the header's length up front.
      body_.reserve(std::min<size_t>(cur_.length, 64 << 10));
    }
    size_t n = std::min<size_t>(cur_.length - body_.size(), data.size());
    body_.append(data.data(), n);
    data.remove_prefix(n);
    if (body_.size() == cur_.length) {
      in_body_ = false;
      Frame f{cur_, std::move(body_), false};
      body_ = std::string();
      sink(std::move(f));
    }
  }
}

}  // namespace mcd::ttrpc
