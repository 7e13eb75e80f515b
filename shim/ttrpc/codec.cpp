#include "shim/ttrpc/codec.hpp"

#include <algorithm>

namespace hippo::ttrpc {
namespace {

void put_be32(uint8_t* out, uint32_t v) {
  out[0] = static_cast<uint8_t>(v >> 24);
  out[1] = static_cast<uint8_t>(v >> 16);
  out[2] = static_cast<uint8_t>(v >> 8);
  out[3] = static_cast<uint8_t>(v);
}

uint32_t get_be32(const uint8_t* in) {
  return (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) | (uint32_t{in[2]} << 8) |
         uint32_t{in[3]};
}

}  // namespace

void encode_header(const FrameHeader& header, uint8_t out[kHeaderSize]) {
  put_be32(out, header.length);
  put_be32(out + 4, header.stream_id);
  out[8] = header.type;
  out[9] = header.flags;
}

FrameHeader decode_header(const uint8_t in[kHeaderSize]) {
  return FrameHeader{get_be32(in), get_be32(in + 4), in[8], in[9]};
}

std::string encode_frame(uint32_t stream_id, MessageType type, uint8_t flags,
                         std::string_view payload) {
  std::string frame(kHeaderSize + payload.size(), '\0');
  const FrameHeader header{static_cast<uint32_t>(payload.size()), stream_id,
                           static_cast<uint8_t>(type), flags};
  encode_header(header, reinterpret_cast<uint8_t*>(frame.data()));
  std::copy(payload.begin(), payload.end(), frame.begin() + kHeaderSize);
  return frame;
}

void FrameDecoder::feed(std::string_view bytes) {
  // skip_ > 0 only once the buffer is drained (next() discards buffered bytes first), so the
  // rest of an oversize payload is dropped here and never stored.
  const size_t dropped = std::min(skip_, bytes.size());
  skip_ -= dropped;
  bytes.remove_prefix(dropped);
  if (bytes.empty()) return;
  // Compact before growing so a long-lived connection does not keep consumed bytes around.
  if (pos_ > 0 && (pos_ == buffer_.size() || pos_ >= buffer_.size() / 2)) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(bytes);
}

std::optional<FrameDecoder::Frame> FrameDecoder::next() {
  if (skip_ > 0) return std::nullopt;
  const size_t available = buffer_.size() - pos_;
  if (available < kHeaderSize) return std::nullopt;
  const auto* data = reinterpret_cast<const uint8_t*>(buffer_.data()) + pos_;
  Frame frame;
  frame.header = decode_header(data);
  const size_t length = frame.header.length;
  if (length > kMaxMessageSize) {
    // Report the frame at its header so the server can answer it, then discard the payload
    // as it arrives rather than buffering up to 4 GiB.
    const size_t buffered = std::min(length, available - kHeaderSize);
    pos_ += kHeaderSize + buffered;
    skip_ = length - buffered;
    frame.oversize = true;
    return frame;
  }
  if (available - kHeaderSize < length) return std::nullopt;
  frame.payload.assign(buffer_, pos_ + kHeaderSize, length);
  pos_ += kHeaderSize + length;
  if (pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
  }
  return frame;
}

}  // namespace hippo::ttrpc
