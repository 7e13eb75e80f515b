#include "shim/ttrpc/messages.hpp"

#include <gtest/gtest.h>

#include <cerrno>

#include "base/error.hpp"
#include "containerd/task/v2/shim.pb-c.h"
#include "shim/ttrpc/codec.hpp"
#include "ttrpc/request.pb-c.h"

namespace hippo::ttrpc {
namespace {

std::string bytes(std::initializer_list<int> list) {
  std::string out;
  for (int b : list) out.push_back(static_cast<char>(b));
  return out;
}

template <class Message, class Size, class Pack>
std::string pack(const Message& m, Size size, Pack pack_fn) {
  std::string out(size(&m), '\0');
  pack_fn(&m, reinterpret_cast<uint8_t*>(out.data()));
  return out;
}

// shim-protocol.md §3.2: Connect{id:"abc"} on stream 1 with the namespace header.
const std::string kConnectRequestFrame =
    bytes({0, 0, 0, 0x50, 0, 0, 0, 1, 1, 0}) + bytes({0x0a, 0x17}) + "containerd.task.v2.Task" +
    bytes({0x12, 0x07}) + "Connect" + bytes({0x1a, 0x05, 0x0a, 0x03}) + "abc" +
    bytes({0x2a, 0x25, 0x0a, 0x1a}) + "containerd-namespace-ttrpc" + bytes({0x12, 0x07}) +
    "default";

std::string connect_request_payload() {
  Containerd__Task__V2__ConnectRequest req = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
  req.id = const_cast<char*>("abc");
  return pack(req, containerd__task__v2__connect_request__get_packed_size,
              containerd__task__v2__connect_request__pack);
}

TEST(RequestMessage, WorkedConnectExampleMatchesProtocolNotes) {
  RequestMessage r;
  r.service = "containerd.task.v2.Task";
  r.method = "Connect";
  r.payload = connect_request_payload();
  r.metadata = {{"containerd-namespace-ttrpc", "default"}};
  EXPECT_EQ(encode_frame(1, MessageType::kRequest, 0, encode_request(r)), kConnectRequestFrame);
}

TEST(RequestMessage, HandBuiltProtocCRequestMatchesNotesAndDecodes) {
  const std::string payload = connect_request_payload();
  Ttrpc__KeyValue kv = TTRPC__KEY_VALUE__INIT;
  kv.key = const_cast<char*>("containerd-namespace-ttrpc");
  kv.value = const_cast<char*>("default");
  Ttrpc__KeyValue* kvs[] = {&kv};
  Ttrpc__Request req = TTRPC__REQUEST__INIT;
  req.service = const_cast<char*>("containerd.task.v2.Task");
  req.method = const_cast<char*>("Connect");
  req.payload = {payload.size(), reinterpret_cast<uint8_t*>(const_cast<char*>(payload.data()))};
  req.n_metadata = 1;
  req.metadata = kvs;
  const std::string body = pack(req, ttrpc__request__get_packed_size, ttrpc__request__pack);
  EXPECT_EQ(encode_frame(1, MessageType::kRequest, 0, body), kConnectRequestFrame);

  auto decoded = decode_request(body);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->service, "containerd.task.v2.Task");
  EXPECT_EQ(decoded->method, "Connect");
  EXPECT_EQ(decoded->payload, bytes({0x0a, 0x03}) + "abc");
  EXPECT_EQ(decoded->timeout_nano, 0);
  ASSERT_EQ(decoded->metadata.size(), 1u);
  EXPECT_EQ(decoded->metadata[0].first, "containerd-namespace-ttrpc");
  EXPECT_EQ(decoded->metadata[0].second, "default");
}

TEST(RequestMessage, RoundTripKeepsRepeatedKeysTimeoutAndBinaryPayload) {
  RequestMessage r;
  r.service = "s";
  r.method = "m";
  r.payload = std::string("\0\x01\xff", 3);
  r.timeout_nano = 5'000'000'000;
  r.metadata = {{"k", "1"}, {"k", "2"}, {"traceparent", "00-abc"}};
  auto d = decode_request(encode_request(r));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->payload, r.payload);
  EXPECT_EQ(d->timeout_nano, r.timeout_nano);
  EXPECT_EQ(d->metadata, r.metadata);
}

TEST(RequestMessage, EmptyPayloadDecodesAndGarbageIsRejected) {
  auto empty = decode_request("");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->service, "");
  EXPECT_FALSE(decode_request(bytes({0xff, 0xff, 0xff})));
  EXPECT_FALSE(decode_request(bytes({0x0a, 0x10, 'a'})));  // length past the end
}

TEST(ResponseMessage, WorkedConnectReplyMatchesProtocolNotes) {
  Containerd__Task__V2__ConnectResponse resp = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
  resp.shim_pid = 1234;
  resp.task_pid = 5678;
  const std::string payload = pack(resp, containerd__task__v2__connect_response__get_packed_size,
                                   containerd__task__v2__connect_response__pack);
  EXPECT_EQ(encode_frame(1, MessageType::kResponse, 0, encode_response(Status::Ok(), payload)),
            bytes({0,    0,    0,    0x0a, 0,    0,    0,    1,    2,    0,
                   0x0a, 0x00, 0x12, 0x06, 0x08, 0xd2, 0x09, 0x10, 0xae, 0x2c}));
}

TEST(ResponseMessage, WorkedNotFoundReplyMatchesProtocolNotes) {
  const Status st{Code::kNotFound, "container not created: not found"};
  EXPECT_EQ(encode_frame(3, MessageType::kResponse, 0, encode_response(st, "")),
            bytes({0, 0, 0, 0x26, 0, 0, 0, 3, 2, 0, 0x0a, 0x24, 0x08, 0x05, 0x12, 0x20}) +
                "container not created: not found");
  auto d = decode_response(encode_response(st, ""));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status.code, Code::kNotFound);
  EXPECT_EQ(d->status.message, st.message);
  EXPECT_EQ(d->payload, "");
}

TEST(ResponseMessage, MissingStatusMeansOk) {
  auto d = decode_response(bytes({0x12, 0x02, 'h', 'i'}));
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->status.ok());
  EXPECT_EQ(d->payload, "hi");
  EXPECT_FALSE(decode_response(bytes({0x0a, 0x05, 0x08})));
}

TEST(Status, CodeNames) {
  EXPECT_STREQ(code_name(Code::kOk), "OK");
  EXPECT_STREQ(code_name(Code::kNotFound), "NotFound");
  EXPECT_STREQ(code_name(Code::kResourceExhausted), "ResourceExhausted");
  EXPECT_STREQ(code_name(Code::kUnauthenticated), "Unauthenticated");
  EXPECT_STREQ(code_name(static_cast<Code>(99)), "Code(?)");
}

TEST(Status, FromErrorPicksCodeFromErrno) {
  EXPECT_EQ(to_status(Error{ENOENT, "container \"x\": not found"}).code, Code::kNotFound);
  EXPECT_EQ(to_status(Error{EEXIST, "x"}).code, Code::kAlreadyExists);
  EXPECT_EQ(to_status(Error{EINVAL, "x"}).code, Code::kInvalidArgument);
  EXPECT_EQ(to_status(Error{ENOSYS, "x"}).code, Code::kUnimplemented);
  EXPECT_EQ(to_status(Error{0, "x"}).code, Code::kUnknown);
  // A kind the code gave wins over the errno it carries.
  EXPECT_EQ(to_status(Error{EIO, "x", ErrorKind::failed_precondition}).code,
            Code::kFailedPrecondition);
  EXPECT_EQ(to_status(Error{0, "x", ErrorKind::unavailable}).code, Code::kUnavailable);
  EXPECT_EQ(to_status(Error{0, "x", ErrorKind::internal}).code, Code::kInternal);
  EXPECT_EQ(to_status(Error{EACCES, "x"}).code, Code::kPermissionDenied);
  EXPECT_EQ(to_status(Error{EPERM, "mount: denied"}).message, "mount: denied");
}

}  // namespace
}  // namespace hippo::ttrpc
