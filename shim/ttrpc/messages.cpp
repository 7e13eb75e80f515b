#include "shim/ttrpc/messages.hpp"

#include <memory>

#include "google/rpc/status.pb-c.h"
#include "ttrpc/request.pb-c.h"

namespace hippo::ttrpc {
namespace {

// protoc-c takes non-const char* for string fields it only reads while packing.
char* c_str(const std::string& s) { return const_cast<char*>(s.c_str()); }

ProtobufCBinaryData bytes_of(std::string_view s) {
  return {s.size(), reinterpret_cast<uint8_t*>(const_cast<char*>(s.data()))};
}

std::string string_of(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

std::string string_of(const ProtobufCBinaryData& b) {
  return b.len > 0 ? std::string(reinterpret_cast<const char*>(b.data), b.len) : std::string();
}

const uint8_t* data_of(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

struct RequestDeleter {
  void operator()(Ttrpc__Request* m) const { ttrpc__request__free_unpacked(m, nullptr); }
};
struct ResponseDeleter {
  void operator()(Ttrpc__Response* m) const { ttrpc__response__free_unpacked(m, nullptr); }
};

}  // namespace

std::optional<RequestMessage> decode_request(std::string_view bytes) {
  std::unique_ptr<Ttrpc__Request, RequestDeleter> m(
      ttrpc__request__unpack(nullptr, bytes.size(), data_of(bytes)));
  if (!m) return std::nullopt;
  RequestMessage out;
  out.service = string_of(m->service);
  out.method = string_of(m->method);
  out.payload = string_of(m->payload);
  out.timeout_nano = m->timeout_nano;
  out.metadata.reserve(m->n_metadata);
  for (size_t i = 0; i < m->n_metadata; ++i) {
    const Ttrpc__KeyValue* kv = m->metadata[i];
    out.metadata.emplace_back(string_of(kv->key), string_of(kv->value));
  }
  return out;
}

std::string encode_request(const RequestMessage& request) {
  Ttrpc__Request m = TTRPC__REQUEST__INIT;
  m.service = c_str(request.service);
  m.method = c_str(request.method);
  m.payload = bytes_of(request.payload);
  m.timeout_nano = request.timeout_nano;
  std::vector<Ttrpc__KeyValue> kvs(request.metadata.size());
  std::vector<Ttrpc__KeyValue*> kv_ptrs;
  kv_ptrs.reserve(kvs.size());
  for (size_t i = 0; i < kvs.size(); ++i) {
    ttrpc__key_value__init(&kvs[i]);
    kvs[i].key = c_str(request.metadata[i].first);
    kvs[i].value = c_str(request.metadata[i].second);
    kv_ptrs.push_back(&kvs[i]);
  }
  m.n_metadata = kv_ptrs.size();
  m.metadata = kv_ptrs.data();
  std::string out(ttrpc__request__get_packed_size(&m), '\0');
  ttrpc__request__pack(&m, reinterpret_cast<uint8_t*>(out.data()));
  return out;
}

std::optional<ResponseMessage> decode_response(std::string_view bytes) {
  std::unique_ptr<Ttrpc__Response, ResponseDeleter> m(
      ttrpc__response__unpack(nullptr, bytes.size(), data_of(bytes)));
  if (!m) return std::nullopt;
  ResponseMessage out;
  if (m->status != nullptr) {
    out.status.code = static_cast<Code>(m->status->code);
    out.status.message = string_of(m->status->message);
  }
  out.payload = string_of(m->payload);
  return out;
}

std::string encode_response(const Status& status, std::string_view payload) {
  Google__Rpc__Status s = GOOGLE__RPC__STATUS__INIT;
  s.code = static_cast<int32_t>(status.code);
  s.message = c_str(status.message);
  Ttrpc__Response m = TTRPC__RESPONSE__INIT;
  m.status = &s;
  m.payload = bytes_of(payload);
  std::string out(ttrpc__response__get_packed_size(&m), '\0');
  ttrpc__response__pack(&m, reinterpret_cast<uint8_t*>(out.data()));
  return out;
}

}  // namespace hippo::ttrpc
