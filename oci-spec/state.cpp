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

bool valid_status(std::string_view status) {
  constexpr std::array<std::string_view, 5> kStatuses{"creating", "created", "running", "paused",
                                                      "stopped"};
  return std::ranges::find(kStatuses, status) != kStatuses.end();
}

namespace {

template <class T>
Result<T> parse_state(std::string_view text, std::string_view label) {
  auto state = read_document<T>(text, label);
  if (state && !valid_status(state->status)) {
    return fail(std::string(label) + ": status: unknown status " + Json(state->status).dump());
  }
  return state;
}

}  // namespace

Json to_json(const RuntimeState& state) { return codec::write_value(state); }
Json to_json(const OciState& state) { return codec::write_value(state); }

Result<RuntimeState> parse_runtime_state(std::string_view text, std::string_view label) {
  return parse_state<RuntimeState>(text, label);
}
Result<OciState> parse_oci_state(std::string_view text, std::string_view label) {
  return parse_state<OciState>(text, label);
}

}  // namespace hippo::spec
