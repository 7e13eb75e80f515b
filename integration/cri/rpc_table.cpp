#include "rpc_table.hpp"

#include <google/protobuf/util/json_util.h>

#include <array>
#include <functional>
#include <utility>

namespace hippo::cri {
namespace {

namespace v1 = runtime::v1;
namespace pb = google::protobuf;

using Handler = std::function<JsonCall(Client&, const std::string&)>;

template <class Stub, class Req, class Resp>
Handler handler(std::unique_ptr<Stub> Client::*stub,
                grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*)) {
  return [stub, rpc](Client& client, const std::string& json) -> JsonCall {
    Req request;
    pb::util::JsonParseOptions in;
    in.ignore_unknown_fields = false;  // a misspelt field is the caller's error, not a no-op
    if (auto parsed = pb::util::JsonStringToMessage(json, &request, in); !parsed.ok()) {
      return {false, "request is not a valid " + Req::descriptor()->full_name() + ": " +
                         std::string(parsed.message())};
    }
    Resp response;
    auto ctx = client.context();
    grpc::Status status = ((*(client.*stub)).*rpc)(ctx.get(), request, &response);
    if (!status.ok()) return {false, describe(status)};
    pb::util::JsonPrintOptions out;
    out.preserve_proto_field_names = true;
    out.always_print_primitive_fields = true;
    std::string text;
    if (auto printed = pb::util::MessageToJsonString(response, &text, out); !printed.ok()) {
      return {false, "cannot print the response: " + std::string(printed.message())};
    }
    return {true, std::move(text)};
  };
}

using RS = v1::RuntimeService::Stub;
using IS = v1::ImageService::Stub;

const std::array<std::pair<std::string_view, Handler>, 17>& table() {
  static const std::array<std::pair<std::string_view, Handler>, 17> methods{{
      {"Version", handler(&Client::runtime, &RS::Version)},
      {"RunPodSandbox", handler(&Client::runtime, &RS::RunPodSandbox)},
      {"StopPodSandbox", handler(&Client::runtime, &RS::StopPodSandbox)},
      {"RemovePodSandbox", handler(&Client::runtime, &RS::RemovePodSandbox)},
      {"PodSandboxStatus", handler(&Client::runtime, &RS::PodSandboxStatus)},
      {"ListPodSandbox", handler(&Client::runtime, &RS::ListPodSandbox)},
      {"CreateContainer", handler(&Client::runtime, &RS::CreateContainer)},
      {"StartContainer", handler(&Client::runtime, &RS::StartContainer)},
      {"StopContainer", handler(&Client::runtime, &RS::StopContainer)},
      {"RemoveContainer", handler(&Client::runtime, &RS::RemoveContainer)},
      {"ListContainers", handler(&Client::runtime, &RS::ListContainers)},
      {"ContainerStatus", handler(&Client::runtime, &RS::ContainerStatus)},
      {"UpdateContainerResources", handler(&Client::runtime, &RS::UpdateContainerResources)},
      {"ExecSync", handler(&Client::runtime, &RS::ExecSync)},
      {"ContainerStats", handler(&Client::runtime, &RS::ContainerStats)},
      {"ListImages", handler(&Client::images, &IS::ListImages)},
      {"PullImage", handler(&Client::images, &IS::PullImage)},
  }};
  return methods;
}

std::string_view code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN_CODE";
  }
}

}  // namespace

Client::Client(const std::string& endpoint, std::chrono::seconds t)
    : channel(grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials())),
      runtime(runtime::v1::RuntimeService::NewStub(channel)),
      images(runtime::v1::ImageService::NewStub(channel)),
      timeout(t) {}

std::unique_ptr<grpc::ClientContext> Client::context() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
  return ctx;
}

std::string describe(const grpc::Status& status) {
  return std::string(code_name(status.error_code())) + ": " + status.error_message();
}

JsonCall call_json(Client& client, std::string_view method, const std::string& request_json) {
  for (const auto& [name, call] : table()) {
    if (name == method) return call(client, request_json);
  }
  return {false, "unknown method \"" + std::string(method) + "\" (hippo-cri methods lists them)"};
}

std::vector<std::string_view> method_names() {
  std::vector<std::string_view> names;
  for (const auto& entry : table()) names.push_back(entry.first);
  return names;
}

}  // namespace hippo::cri
