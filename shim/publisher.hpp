#pragma once
// Events to containerd: containerd.services.events.ttrpc.v1.Events/Forward on $TTRPC_ADDRESS.
// One ordered queue, one request in flight: events leave in the order they were published.
// While containerd is away they wait and are retried with back-off; none is dropped while the
// daemon lives.

#include <chrono>
#include <deque>
#include <functional>
#include <string>

#include "shim/snapshot.hpp"
#include "shim/ttrpc/client.hpp"
#include "shim/ttrpc/event_loop.hpp"

namespace hippo::shim {

class Publisher {
 public:
  Publisher(ttrpc::EventLoop& loop, std::string ttrpc_address, std::string ns);

  // `type_url` is the bare message name, e.g. "containerd.events.TaskExit".
  void publish(std::string topic, std::string type_url, std::string event);
  bool idle() const { return queue_.empty(); }
  // Called once the queue is empty (now, if it already is).
  void when_idle(std::function<void()> callback);
  // Adoption (shim/snapshot.hpp): the events not delivered yet, and a dead daemon's, sent
  // again with their own times (one sent just before it died goes twice: at least once).
  std::vector<SnapshotEvent> undelivered() const;
  void republish(const std::vector<SnapshotEvent>& events);

 private:
  struct Item {
    std::string topic, type_url, event;
    std::chrono::system_clock::time_point when;
    int attempts = 0;
  };
  void send_next();

  ttrpc::EventLoop& loop_;
  ttrpc::AsyncClient client_;
  std::string ns_;
  std::deque<Item> queue_;
  bool in_flight_ = false;
  std::vector<std::function<void()>> idle_callbacks_;
};

}  // namespace hippo::shim
