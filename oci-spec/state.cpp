#include "oci-spec/state.hpp"

#include <algorithm>
#include <array>

namespace hippo::spec {

template <class V, Is<RuntimeState> M>
void describe(V& v, M& m) {
  v("ociVersion", m.ociVersion);
  v("id", m.id);
  v("pid", m.pid);
  v("status", m.status);
  v("bundle", m.bundle);
  v("rootfs", m.rootfs);
  v("created", m.created);
  v("annotations", m.annotations);
  v("owner", m.owner);
}

template <class V, Is<OciState> M>
void describe(V& v, M& m) {
  v("ociVersion", m.ociVersion);
  v("id", m.id);
  v("status", m.status);
  v("pid", m.pid);
  v("bundle", m.bundle);
  v("annotations", m.annotations);
}

namespace {

// In enum order.
constexpr std::array<std::string_view, 7> kStatusNames{
    "creating", "created", "running", "paused", "stopped", "incomplete", "corrupt"};
// The ones a state document read from elsewhere (runc's `state`, a hook's stdin) may carry.
constexpr size_t kReadableStatuses = 5;

template <class T>
Result<T> parse_state(std::string_view text, std::string_view label) {
  return read_document<T>(text, label);
}

}  // namespace

std::string_view to_string(Status status) { return kStatusNames.at(static_cast<size_t>(status)); }

std::optional<Status> status_from_string(std::string_view text) {
  for (size_t i = 0; i < kReadableStatuses; ++i) {
    if (kStatusNames[i] == text) return static_cast<Status>(i);
  }
  return std::nullopt;
}

bool from_string(std::string_view text, Status& out) {
  auto status = status_from_string(text);
  if (status) out = *status;
  return status.has_value();
}

Json to_json(const RuntimeState& state) { return codec::write_value(state); }
Json to_json(const OciState& state) { return codec::write_value(state); }

Result<RuntimeState> parse_runtime_state(std::string_view text, std::string_view label) {
  return parse_state<RuntimeState>(text, label);
}
Result<OciState> parse_oci_state(std::string_view text, std::string_view label) {
  return parse_state<OciState>(text, label);
}

}  // namespace hippo::spec
