// The CRI methods hippo-cri can call by name, with requests and responses as JSON (protobuf's
// JSON mapping, field names as in the .proto), so tests drive any RPC without a command each.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cri_runtime_v1.grpc.pb.h"

namespace hippo::cri {

struct Client {
  explicit Client(const std::string& endpoint, std::chrono::seconds timeout);
  std::unique_ptr<grpc::ClientContext> context() const;

  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<runtime::v1::RuntimeService::Stub> runtime;
  std::unique_ptr<runtime::v1::ImageService::Stub> images;
  std::chrono::seconds timeout;
};

struct JsonCall {
  bool ok = false;
  std::string output;  // the response as JSON when ok, else one line naming what failed
};

// Calls RPC `method` with `request_json` ("{}" for an empty request).
JsonCall call_json(Client& client, std::string_view method, const std::string& request_json);

std::vector<std::string_view> method_names();

// "NOT_FOUND: container \"x\" not found" as a user reads a gRPC failure.
std::string describe(const grpc::Status& status);

}  // namespace hippo::cri
