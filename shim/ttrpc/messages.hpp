#pragma once
// The ttrpc envelopes carried in frame payloads: ttrpc.Request (client → server) and
// ttrpc.Response with a google.rpc.Status (server → client). Kept free of <expected> and
// of the event loop so the fuzzer (clang 14, no std::expected) can compile this path alone.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shim/ttrpc/status.hpp"

namespace hippo::ttrpc {

struct RequestMessage {
  std::string service;
  std::string method;
  std::string payload;
  int64_t timeout_nano = 0;
  std::vector<std::pair<std::string, std::string>> metadata;
};

struct ResponseMessage {
  Status status;  // a Response without status decodes as OK, as the Go client treats it
  std::string payload;
};

// nullopt: not a valid protobuf encoding of the message.
std::optional<RequestMessage> decode_request(std::string_view bytes);
std::string encode_request(const RequestMessage& request);
std::optional<ResponseMessage> decode_response(std::string_view bytes);
// Always carries `status`, code 0 included, as the Go server does.
std::string encode_response(const Status& status, std::string_view payload);

}  // namespace hippo::ttrpc
