#include "shim/proto_util.hpp"

namespace hippo::shim {

std::string pack(const ProtobufCMessage* message) {
  std::string out(protobuf_c_message_get_packed_size(message), '\0');
  protobuf_c_message_pack(message, reinterpret_cast<uint8_t*>(out.data()));
  return out;
}

OwnedAny::OwnedAny(std::string url, std::string bytes)
    : type_url(std::move(url)), value(std::move(bytes)) {
  any.type_url = type_url.data();
  any.value.data = reinterpret_cast<uint8_t*>(value.data());
  any.value.len = value.size();
}

std::string_view any_type_name(const Google__Protobuf__Any& any) {
  std::string_view url = view(any.type_url);
  // protobuf message Anys may carry "type.googleapis.com/" (2.x accepts both); the
  // "types.containerd.io/opencontainers/..." JSON types are matched whole by callers.
  if (url.starts_with("type.googleapis.com/")) url.remove_prefix(20);
  return url;
}

Timestamp::Timestamp(std::chrono::system_clock::time_point t) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  ts.seconds = ns / 1000000000;
  ts.nanos = static_cast<int32_t>(ns % 1000000000);
}

}  // namespace hippo::shim
