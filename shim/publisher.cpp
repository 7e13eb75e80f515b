#include "shim/publisher.hpp"

#include "base/logging.hpp"
#include "containerd/events/forward.pb-c.h"
#include "shim/proto_util.hpp"

namespace hippo::shim {

Publisher::Publisher(ttrpc::EventLoop& loop, std::string ttrpc_address, std::string ns)
    : loop_(loop), client_(loop, std::move(ttrpc_address)), ns_(std::move(ns)) {}

void Publisher::publish(std::string topic, std::string type_url, std::string event) {
  queue_.push_back({std::move(topic), std::move(type_url), std::move(event),
                    std::chrono::system_clock::now(), 0});
  if (!in_flight_) send_next();
}

std::vector<SnapshotEvent> Publisher::undelivered() const {
  std::vector<SnapshotEvent> out;
  for (const auto& item : queue_) {
    out.push_back({item.topic, item.type_url, item.event, record_time(item.when)});
  }
  return out;
}

void Publisher::republish(const std::vector<SnapshotEvent>& events) {
  for (const auto& e : events) {
    queue_.push_back({e.topic, e.type_url, e.event, record_time(e.when_ns), 0});
  }
  if (!in_flight_ && !queue_.empty()) send_next();
}

void Publisher::when_idle(std::function<void()> callback) {
  if (idle()) {
    callback();
  } else {
    idle_callbacks_.push_back(std::move(callback));
  }
}

void Publisher::send_next() {
  if (queue_.empty()) {
    auto callbacks = std::move(idle_callbacks_);
    idle_callbacks_.clear();
    for (auto& cb : callbacks) cb();
    return;
  }
  in_flight_ = true;
  Item& item = queue_.front();
  OwnedAny any(item.type_url, item.event);
  Timestamp ts(item.when);
  Containerd__Services__Events__Ttrpc__V1__Envelope envelope =
      CONTAINERD__SERVICES__EVENTS__TTRPC__V1__ENVELOPE__INIT;
  envelope.timestamp = &ts.ts;
  envelope.namespace_ = ns_.data();
  envelope.topic = item.topic.data();
  envelope.event = &any.any;
  Containerd__Services__Events__Ttrpc__V1__ForwardRequest request =
      CONTAINERD__SERVICES__EVENTS__TTRPC__V1__FORWARD_REQUEST__INIT;
  request.envelope = &envelope;
  client_.call(
      "containerd.services.events.ttrpc.v1.Events", "Forward", pack(request),
      {{"containerd-namespace-ttrpc", ns_}}, std::chrono::seconds(5),
      [this](Result<ttrpc::CallResult> result) {
        in_flight_ = false;
        if (queue_.empty()) return;
        Item& front = queue_.front();
        if (result) {
          // Delivered. A refusal by containerd (a malformed event) will not get better
          // by retrying: say so and go on.
          if (!result->status.ok()) {
            log::error("containerd refused event " + front.topic + ": " + result->status.message);
          }
          queue_.pop_front();
          send_next();
          return;
        }
        ++front.attempts;
        const std::string why = result.error().message;
        log::warn("publish " + front.topic + ": " + why + " (attempt " +
                  std::to_string(front.attempts) + ", retrying)");
        client_.reset();
        const auto delay = std::chrono::milliseconds(std::min(front.attempts, 5) * 1000);
        loop_.after(delay, [this] {
          if (!in_flight_) send_next();
        });
      });
}

}  // namespace hippo::shim
