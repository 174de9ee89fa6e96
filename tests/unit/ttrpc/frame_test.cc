// Framing: the 10-byte big-endian header, incremental decoding, the 4 MiB limit.
#include "ttrpc/frame.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "pkg/errdefs.h"

namespace mcd::ttrpc {
namespace {

std::vector<FrameDecoder::Frame> DecodeAll(FrameDecoder& d, std::string_view data, size_t chunk) {
  std::vector<FrameDecoder::Frame> out;
  for (size_t i = 0; i < data.size(); i += chunk) {
    d.Feed(data.substr(i, chunk), [&](FrameDecoder::Frame&& f) { out.push_back(std::move(f)); });
  }
  return out;
}

TEST(Frame, HeaderIsBigEndianLengthStreamTypeFlags) {
  unsigned char b[kHeaderSize];
  EncodeHeader(Header{0x01020304, 0x0a0b0c0d, 2, 0x7f}, b);
  const unsigned char want[] = {1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 2, 0x7f};
  EXPECT_EQ(0, std::memcmp(b, want, kHeaderSize));
  Header h = DecodeHeader(b);
  EXPECT_EQ(h.length, 0x01020304u);
  EXPECT_EQ(h.stream_id, 0x0a0b0c0du);
  EXPECT_EQ(h.type, 2);
  EXPECT_EQ(h.flags, 0x7f);
}

TEST(Frame, EncodeFrameWritesHeaderThenPayload) {
  std::string f = EncodeFrame(7, MessageType::kRequest, "abc");
  ASSERT_EQ(f.size(), kHeaderSize + 3);
  EXPECT_EQ(f, std::string("\0\0\0\3\0\0\0\7\1\0abc", 13));
}

TEST(Frame, DecodesFramesSplitAtEveryByte) {
  std::string wire = EncodeFrame(1, MessageType::kRequest, "hello") +
                     EncodeFrame(3, MessageType::kResponse, "") +
                     EncodeFrame(5, MessageType::kRequest, std::string(1000, 'x'));
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{10}, size_t{11}, wire.size()}) {
    FrameDecoder d;
    auto frames = DecodeAll(d, wire, chunk);
    ASSERT_EQ(frames.size(), 3u) << "chunk " << chunk;
    EXPECT_EQ(frames[0].header.stream_id, 1u);
    EXPECT_EQ(frames[0].payload, "hello");
    EXPECT_EQ(frames[1].header.type, 2);
    EXPECT_EQ(frames[1].payload, "");
    EXPECT_EQ(frames[2].payload, std::string(1000, 'x'));
    EXPECT_TRUE(d.idle());
  }
}

TEST(Frame, PartialFrameStaysBuffered) {
  std::string wire = EncodeFrame(1, MessageType::kRequest, "hello");
  FrameDecoder d;
  auto frames = DecodeAll(d, wire.substr(0, 12), 12);
  EXPECT_TRUE(frames.empty());
  EXPECT_FALSE(d.idle());
}

TEST(Frame, OversizedFrameIsReportedAndItsBodySkipped) {
  FrameDecoder d(16);
  unsigned char h[kHeaderSize];
  EncodeHeader(Header{17, 9, 1, 0}, h);
  std::string wire(reinterpret_cast<char*>(h), kHeaderSize);
  wire += std::string(17, 'z');
  wire += EncodeFrame(11, MessageType::kRequest, std::string(16, 'a'));  // exactly the limit
  auto frames = DecodeAll(d, wire, 5);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(frames[0].oversized);
  EXPECT_EQ(frames[0].header.stream_id, 9u);
  EXPECT_EQ(frames[0].header.length, 17u);
  EXPECT_TRUE(frames[0].payload.empty());
  EXPECT_FALSE(frames[1].oversized);
  EXPECT_EQ(frames[1].payload, std::string(16, 'a'));
}

TEST(Frame, HugeLengthDoesNotAllocate) {
  // A header claiming 4 GiB - 1 must not make the decoder reserve it.
  FrameDecoder d;
  unsigned char h[kHeaderSize];
  EncodeHeader(Header{0xffffffff, 1, 1, 0}, h);
  auto frames = DecodeAll(d, std::string_view(reinterpret_cast<char*>(h), kHeaderSize), 10);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0].oversized);
  EXPECT_EQ(OversizedMessage(frames[0].header.length),
            "message length 4294967295 exceed maximum message size of 4194304");
}

TEST(Frame, DefaultLimitIsFourMiB) {
  EXPECT_EQ(kMaxMessageSize, 4u << 20);
  EXPECT_NO_THROW(EncodeFrame(1, MessageType::kRequest, std::string(kMaxMessageSize, 'a')));
  try {
    EncodeFrame(1, MessageType::kRequest, std::string(kMaxMessageSize + 1, 'a'));
    FAIL() << "no throw";
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kResourceExhausted);
  }
  FrameDecoder d;
  auto frames = DecodeAll(
      d, EncodeFrame(1, MessageType::kRequest, std::string(kMaxMessageSize, 'a')), 64 << 10);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_FALSE(frames[0].oversized);
  EXPECT_EQ(frames[0].payload.size(), kMaxMessageSize);
}

TEST(Frame, StopEndsFeeding) {
  std::string wire =
      EncodeFrame(1, MessageType::kRequest, "a") + EncodeFrame(3, MessageType::kRequest, "b");
  FrameDecoder d;
  int n = 0;
  d.Feed(wire, [&](FrameDecoder::Frame&&) {
    ++n;
    d.Stop();
  });
  EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace mcd::ttrpc
