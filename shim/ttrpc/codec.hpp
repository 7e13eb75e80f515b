#pragma once
// ttrpc framing: a 10-byte big-endian header (length, stream id, type, flags) and a payload of
// at most 4 MiB.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hippo::ttrpc {

inline constexpr size_t kHeaderSize = 10;
inline constexpr uint32_t kMaxMessageSize = 4u << 20;

enum class MessageType : uint8_t { kRequest = 1, kResponse = 2, kData = 3 };

struct FrameHeader {
  uint32_t length = 0;
  uint32_t stream_id = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
};

void encode_header(const FrameHeader& header, uint8_t out[kHeaderSize]);
FrameHeader decode_header(const uint8_t in[kHeaderSize]);
// Header + payload, ready to be written in one piece.
std::string encode_frame(uint32_t stream_id, MessageType type, uint8_t flags,
                         std::string_view payload);

// Splits a byte stream into frames. An oversize frame is reported (so the server can answer
// ResourceExhausted on its stream) and its payload skipped without buffering it.
class FrameDecoder {
 public:
  struct Frame {
    FrameHeader header;
    std::string payload;
    bool oversize = false;  // payload was discarded
  };
  void feed(std::string_view bytes);
  std::optional<Frame> next();
  // Whether bytes of a frame not yet whole were fed (or an oversize payload is still being
  // skipped): the stream is then inside a frame.
  bool mid_frame() const { return pos_ < buffer_.size() || skip_ > 0; }

 private:
  std::string buffer_;
  size_t pos_ = 0;   // start of unparsed bytes in buffer_ (compacted lazily)
  size_t skip_ = 0;  // bytes of an oversize payload still to discard
};

}  // namespace hippo::ttrpc
