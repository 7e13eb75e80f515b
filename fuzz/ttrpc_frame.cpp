// libFuzzer target for the bytes a ttrpc peer controls: the frame stream (FrameDecoder, fed in
// fuzzer-chosen chunks) and each frame's payload as a Request and as a Response envelope.
// Built and run by hack/fuzz.sh.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "shim/ttrpc/codec.hpp"
#include "shim/ttrpc/messages.hpp"

namespace {

using namespace hippo::ttrpc;  // NOLINT(google-build-using-namespace)

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Whatever decodes must survive our own encoding unchanged.
void check_request(std::string_view payload) {
  const auto r = decode_request(payload);
  if (!r) return;
  const auto again = decode_request(encode_request(*r));
  check(again.has_value());
  check(again->service == r->service && again->method == r->method &&
        again->payload == r->payload && again->timeout_nano == r->timeout_nano &&
        again->metadata == r->metadata);
}

void check_response(std::string_view payload) {
  const auto r = decode_response(payload);
  if (!r) return;
  const auto again = decode_response(encode_response(r->status, r->payload));
  check(again.has_value());
  check(again->status.code == r->status.code && again->status.message == r->status.message &&
        again->payload == r->payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the read size, as a socket would split the stream.
  const size_t chunk = (data[0] % 32) + 1;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  check_request(input);
  check_response(input);

  FrameDecoder decoder;
  size_t offset = 0;  // where the next frame starts in `input`
  for (size_t pos = 0; pos < input.size(); pos += chunk) {
    decoder.feed(input.substr(pos, chunk));
    while (auto frame = decoder.next()) {
      const FrameHeader& h = frame->header;
      check(offset + kHeaderSize <= pos + chunk);
      if (frame->oversize) {
        check(h.length > kMaxMessageSize && frame->payload.empty());
      } else {
        // A frame is exactly the bytes it came from.
        check(h.length <= kMaxMessageSize && frame->payload.size() == h.length);
        check(input.substr(offset, kHeaderSize + h.length) ==
              encode_frame(h.stream_id, static_cast<MessageType>(h.type), h.flags, frame->payload));
        check_request(frame->payload);
        check_response(frame->payload);
      }
      offset += kHeaderSize + h.length;
    }
  }
  // Everything but an incomplete tail was handed out: a complete header left over must be
  // that of a frame whose payload has not fully arrived.
  if (offset + kHeaderSize <= input.size()) {
    const FrameHeader tail = decode_header(reinterpret_cast<const uint8_t*>(input.data()) + offset);
    check(tail.length <= kMaxMessageSize && input.size() - offset - kHeaderSize < tail.length);
  }
  return 0;
}
