#include "shim/ttrpc/codec.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace hippo::ttrpc {
namespace {

std::string bytes(std::initializer_list<int> list) {
  std::string out;
  for (int b : list) out.push_back(static_cast<char>(b));
  return out;
}

std::vector<FrameDecoder::Frame> drain(FrameDecoder& decoder) {
  std::vector<FrameDecoder::Frame> frames;
  while (auto f = decoder.next()) frames.push_back(std::move(*f));
  return frames;
}

TEST(FrameHeader, BigEndianLayout) {
  uint8_t out[kHeaderSize];
  encode_header({0x50, 1, 1, 0}, out);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), kHeaderSize),
            bytes({0, 0, 0, 0x50, 0, 0, 0, 1, 1, 0}));
  encode_header({0x01020304, 0xa1b2c3d4, 2, 0x05}, out);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), kHeaderSize),
            bytes({1, 2, 3, 4, 0xa1, 0xb2, 0xc3, 0xd4, 2, 5}));
  const FrameHeader h = decode_header(out);
  EXPECT_EQ(h.length, 0x01020304u);
  EXPECT_EQ(h.stream_id, 0xa1b2c3d4u);
  EXPECT_EQ(h.type, 2);
  EXPECT_EQ(h.flags, 5);
}

TEST(FrameHeader, EncodeFrameIsHeaderThenPayload) {
  EXPECT_EQ(encode_frame(3, MessageType::kResponse, 0, "hi"),
            bytes({0, 0, 0, 2, 0, 0, 0, 3, 2, 0, 'h', 'i'}));
  EXPECT_EQ(encode_frame(1, MessageType::kData, 4, ""), bytes({0, 0, 0, 0, 0, 0, 0, 1, 3, 4}));
}

TEST(FrameDecoder, DecodesFramesFedByteByByte) {
  const std::string stream = encode_frame(1, MessageType::kRequest, 0, "first") +
                             encode_frame(3, MessageType::kRequest, 2, "") +
                             encode_frame(5, MessageType::kData, 1, std::string(300, 'x'));
  FrameDecoder decoder;
  std::vector<FrameDecoder::Frame> frames;
  for (char c : stream) {
    decoder.feed(std::string_view(&c, 1));
    for (auto& f : drain(decoder)) frames.push_back(std::move(f));
  }
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].header.stream_id, 1u);
  EXPECT_EQ(frames[0].payload, "first");
  EXPECT_EQ(frames[1].header.stream_id, 3u);
  EXPECT_EQ(frames[1].header.flags, 2);
  EXPECT_EQ(frames[1].payload, "");
  EXPECT_EQ(frames[2].header.type, 3);
  EXPECT_EQ(frames[2].payload, std::string(300, 'x'));
  EXPECT_FALSE(frames[2].oversize);
  EXPECT_FALSE(decoder.next());
}

TEST(FrameDecoder, ManyFramesInOneFeedAndSplitAcrossFeeds) {
  std::string stream;
  for (uint32_t id = 1; id < 200; id += 2) {
    stream += encode_frame(id, MessageType::kRequest, 0, std::string(id, 'a'));
  }
  FrameDecoder decoder;
  std::vector<FrameDecoder::Frame> frames;
  // Uneven chunks so boundaries fall inside headers and payloads alike.
  for (size_t pos = 0, chunk = 7; pos < stream.size(); pos += chunk, chunk = chunk * 3 % 1001 + 1) {
    decoder.feed(std::string_view(stream).substr(pos, chunk));
    for (auto& f : drain(decoder)) frames.push_back(std::move(f));
  }
  ASSERT_EQ(frames.size(), 100u);
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].header.stream_id, 2 * i + 1);
    EXPECT_EQ(frames[i].payload.size(), 2 * i + 1);
  }
}

TEST(FrameDecoder, PartialHeaderAndPayloadWaitForMoreBytes) {
  const std::string frame = encode_frame(9, MessageType::kRequest, 0, "payload");
  FrameDecoder decoder;
  decoder.feed(std::string_view(frame).substr(0, 4));
  EXPECT_FALSE(decoder.next());
  decoder.feed(std::string_view(frame).substr(4, 10));
  EXPECT_FALSE(decoder.next());
  decoder.feed(std::string_view(frame).substr(14));
  auto f = decoder.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, "payload");
}

TEST(FrameDecoder, OversizeFrameIsReportedSkippedAndNextFrameDecoded) {
  const uint32_t length = kMaxMessageSize + 1;
  uint8_t header[kHeaderSize];
  encode_header({length, 7, 1, 0}, header);
  FrameDecoder decoder;
  decoder.feed(std::string_view(reinterpret_cast<char*>(header), kHeaderSize));
  decoder.feed("abc");  // the start of the oversize payload, in the same read as the header
  auto f = decoder.next();
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->oversize);
  EXPECT_EQ(f->header.stream_id, 7u);
  EXPECT_EQ(f->header.length, length);
  EXPECT_TRUE(f->payload.empty());
  // The rest arrives in pieces; the tail of the last piece is the next frame.
  const std::string chunk(64 * 1024, '\xff');
  size_t left = length - 3;
  while (left > chunk.size()) {
    decoder.feed(chunk);
    left -= chunk.size();
    EXPECT_FALSE(decoder.next());
  }
  decoder.feed(std::string(left, '\xff') + encode_frame(9, MessageType::kRequest, 0, "next"));
  f = decoder.next();
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->oversize);
  EXPECT_EQ(f->header.stream_id, 9u);
  EXPECT_EQ(f->payload, "next");
  EXPECT_FALSE(decoder.next());
}

TEST(FrameDecoder, MaximumSizeFrameIsAccepted) {
  const std::string payload(kMaxMessageSize, 'm');
  FrameDecoder decoder;
  decoder.feed(encode_frame(1, MessageType::kRequest, 0, payload));
  auto f = decoder.next();
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->oversize);
  EXPECT_EQ(f->payload.size(), kMaxMessageSize);
}

TEST(FrameDecoder, OversizeFrameWhollyBufferedIsSkipped) {
  uint8_t header[kHeaderSize];
  encode_header({kMaxMessageSize + 10, 1, 1, 0}, header);
  std::string stream(reinterpret_cast<char*>(header), kHeaderSize);
  stream += std::string(kMaxMessageSize + 10, 'z');
  stream += encode_frame(3, MessageType::kRequest, 0, "ok");
  FrameDecoder decoder;
  decoder.feed(stream);
  auto frames = drain(decoder);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(frames[0].oversize);
  EXPECT_EQ(frames[1].payload, "ok");
}

}  // namespace
}  // namespace hippo::ttrpc
