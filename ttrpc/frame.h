#pragma once
// ttrpc framing: a 10-byte big-endian header (payload length, stream id,
// message type, flags) followed by the payload (a Request or Response
// protobuf). The decoder is incremental and never buffers more than one
// frame of at most `max` bytes: a longer frame is reported as oversized and
// its body skipped, as github.com/containerd/ttrpc does.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace mcd::ttrpc {

inline constexpr size_t kHeaderSize = 10;
inline constexpr size_t kMaxMessageSize = 4 << 20;

enum class MessageType : uint8_t { kRequest = 1, kResponse = 2 };

struct Header {
  uint32_t length = 0;     // payload bytes, header excluded
  uint32_t stream_id = 0;  // odd: client initiated
  uint8_t type = 0;        // MessageType, kept raw: unknown types are skipped
  uint8_t flags = 0;       // reserved in ttrpc 1.1
};

void EncodeHeader(const Header& h, unsigned char out[kHeaderSize]);
Header DecodeHeader(const unsigned char in[kHeaderSize]);

// Header + payload. Throws errdefs ResourceExhausted when the payload is
// longer than kMaxMessageSize (the peer would reject it).
std::string EncodeFrame(uint32_t stream_id, MessageType type, std::string_view payload);

// "message length N exceed maximum message size of M": ttrpc's wording for
// the ResourceExhausted status of an oversized frame.
std::string OversizedMessage(uint64_t length, size_t max = kMaxMessageSize);

class FrameDecoder {
 public:
  struct Frame {
    Header header;
    std::string payload;     // empty when oversized
    bool oversized = false;  // header.length > max: the body is skipped
  };
  using Sink = std::function<void(Frame&&)>;

  explicit FrameDecoder(size_t max = kMaxMessageSize) : max_(max) {}

  // Consumes every byte of `data`, calling `sink` for each frame completed
  // (an oversized one as soon as its header is read). Stops early when the
  // sink returns with stopped() set.
  void Feed(std::string_view data, const Sink& sink);
  // Makes Feed return after the current frame (the connection closed).
  void Stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }
  // True between frames: nothing partial buffered or being skipped.
  bool idle() const { return have_ == 0 && skip_ == 0 && !in_body_; }

 private:
  size_t max_;
  unsigned char hbuf_[kHeaderSize];
  size_t have_ = 0;  // header bytes buffered
  bool in_body_ = false;
  Header cur_;
  std::string body_;
  uint64_t skip_ = 0;  // bytes of an oversized body still to drop
  bool stopped_ = false;
};

}  // namespace mcd::ttrpc
