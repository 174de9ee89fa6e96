// libFuzzer target: arbitrary bytes into the ttrpc frame decoder, in
// arbitrary chunks, and every frame's payload into the Request and Response
// decoders, as a connection does with what a peer sends.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mcd/ttrpc.pb.h"
#include "ttrpc/frame.h"

using mcd::ttrpc::FrameDecoder;

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void OnFrame(FrameDecoder::Frame&& f, size_t max) {
  // Invariants of the decoder: an accepted frame is exactly as long as its
  // header says and within the limit; an oversized one carries nothing.
  if (f.oversized) {
    Check(f.header.length > max && f.payload.empty());
    return;
  }
  Check(f.header.length <= max && f.payload.size() == f.header.length);
  // The header re-encodes to the same bytes it was read from.
  unsigned char b[mcd::ttrpc::kHeaderSize];
  mcd::ttrpc::EncodeHeader(f.header, b);
  Check(mcd::ttrpc::DecodeHeader(b).stream_id == f.header.stream_id);
  mcd::ttrpc::Request req;
  if (req.ParseFromString(f.payload)) {
    size_t md = 0;
    for (const auto& kv : req.metadata()) md += kv.key().size() + kv.value().size();
    Check(md <= f.payload.size());
    std::string again = req.SerializeAsString();
    mcd::ttrpc::Request back;
    Check(back.ParseFromString(again));
  }
  mcd::ttrpc::Response resp;
  if (resp.ParseFromString(f.payload)) {
    (void)resp.status().code();
    Check(resp.payload().size() <= f.payload.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // First byte: chunk size of the feed; second: a small limit sometimes, to
  // reach the oversized path without megabytes of input.
  const size_t chunk = data[0] == 0 ? size : data[0];
  const size_t max = (data[1] & 1) ? (data[1] >> 1) : mcd::ttrpc::kMaxMessageSize;
  std::string_view in(reinterpret_cast<const char*>(data + 2), size - 2);
  FrameDecoder d(max);
  while (!in.empty()) {
    size_t n = std::min(chunk, in.size());
    d.Feed(in.substr(0, n), [&](FrameDecoder::Frame&& f) { OnFrame(std::move(f), max); });
    in.remove_prefix(n);
  }
  return 0;
}
