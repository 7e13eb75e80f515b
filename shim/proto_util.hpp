#pragma once
// protobuf-c in C++: pack to std::string, unpack into an owning pointer, Any and Timestamp.

#include <protobuf-c/protobuf-c.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"

namespace hippo::shim {

struct UnpackedDeleter {
  void operator()(void* m) const {
    if (m) protobuf_c_message_free_unpacked(static_cast<ProtobufCMessage*>(m), nullptr);
  }
};
template <class T>
using Unpacked = std::unique_ptr<T, UnpackedDeleter>;

// nullptr when the bytes are not a valid message of that type.
template <class T>
Unpacked<T> unpack(const ProtobufCMessageDescriptor& descriptor, std::string_view bytes) {
  return Unpacked<T>(reinterpret_cast<T*>(protobuf_c_message_unpack(
      &descriptor, nullptr, bytes.size(), reinterpret_cast<const uint8_t*>(bytes.data()))));
}

std::string pack(const ProtobufCMessage* message);
template <class T>
std::string pack(const T& message) {
  return pack(reinterpret_cast<const ProtobufCMessage*>(&message));
}

// A string_view over a protobuf-c string field (NULL-safe).
inline std::string_view view(const char* s) { return s ? std::string_view(s) : std::string_view(); }
inline std::string_view view(const ProtobufCBinaryData& b) {
  return {reinterpret_cast<const char*>(b.data), b.len};
}

// An Any holding a packed message, with the bare type name containerd 1.6 resolves.
struct OwnedAny {
  std::string type_url;
  std::string value;
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
  OwnedAny(std::string url, std::string bytes);
  OwnedAny(const OwnedAny&) = delete;
  OwnedAny& operator=(const OwnedAny&) = delete;
};

// The type name of an Any, with a "type.googleapis.com/"-like prefix removed.
std::string_view any_type_name(const Google__Protobuf__Any& any);

struct Timestamp {
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  explicit Timestamp(std::chrono::system_clock::time_point t);
};

}  // namespace hippo::shim
