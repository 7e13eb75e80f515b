#include "shim/daemon_adopt.hpp"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <utility>

#include "base/logging.hpp"

namespace hippo::shim {

AdoptionRecorder::AdoptionRecorder(const KeeperContext& keeper, ttrpc::Server& server,
                                   TaskService& service, Publisher& publisher)
    : store_(keeper.record_fd), server_(server), service_(service), publisher_(publisher) {
  if (auto ok = store_.map_touched(); !ok) {
    log::error("node daemon: " + ok.error().message);
    return;
  }
  server_.before_read([this](uint64_t id) { store_.touch(id); });
}

bool AdoptionRecorder::update_parts() {
  const auto encode = [](const SnapshotContainer& c) {
    std::map<int, std::string> ids;
    for (int fd : container_fds(c)) ids[fd] = fd_identity(fd);
    return encode_container(c, ids);
  };
  // Both the containers and parts_ come in id order. The usual spell: the same containers, at
  // most one of them changed; else parts_ is rebuilt, keeping each part still right.
  bool changed = false, rebuilding = false;
  std::vector<Part> next;
  size_t i = 0;
  service_.snapshot_each(scratch_, [&](SnapshotContainer& c) {
    if (!rebuilding && i < parts_.size() && parts_[i].state.id == c.id) {
      if (!(parts_[i].state == c)) {
        std::swap(parts_[i].state, c);
        parts_[i].text = encode(parts_[i].state);
        changed = true;
      }
      ++i;
      return;
    }
    if (!rebuilding) {
      rebuilding = changed = true;
      next.reserve(parts_.size() + 1);
      for (size_t k = 0; k < i; ++k) next.push_back(std::move(parts_[k]));
    }
    while (i < parts_.size() && parts_[i].state.id < c.id) ++i;
    if (i < parts_.size() && parts_[i].state == c) {
      next.push_back(std::move(parts_[i++]));
    } else {
      next.push_back({c, encode(c)});
    }
  });
  if (rebuilding) {
    parts_ = std::move(next);
  } else if (i < parts_.size()) {  // the last ones went
    parts_.resize(i);
    changed = true;
  }
  return changed;
}

void AdoptionRecorder::record() {
  DaemonSnapshot head;
  head.listener_fd = server_.listener_fd();
  for (const auto& c : server_.connection_records())
    head.connections.push_back({c.id, c.fd, c.last_stream, c.mid_frame});
  head.events = publisher_.undelivered();
  // Most idle spells change nothing (a drain poll, a State), and a request changes one
  // container: each container is read into memory kept from spell to spell and compared in
  // place, its part is encoded again (its fds' identities taken again) only when its state
  // changed, and so is each connection's entry; the record is written only when something did.
  bool changed = !written_ || !head.same_state(last_head_);
  changed = update_parts() || changed;
  if (changed) {
    head.record_fd_ids(last_head_);  // the listener's and the connections'
    ++spell_;
    static const std::string kNone;
    std::vector<const EncodedConnection*> conns;
    conns.reserve(head.connections.size());
    for (const auto& c : head.connections) {
      const auto it = head.fd_ids.find(c.fd);
      const std::string& identity = it != head.fd_ids.end() ? it->second : kNone;
      auto& part = connection_parts_[c.id];
      if (part.spell == 0 || !(part.state == c) || part.identity != identity) {
        part.state = c;
        part.identity = identity;
        part.text = encode_connection(c, identity);
      }
      part.spell = spell_;
      conns.push_back(&part.text);
    }
    std::erase_if(connection_parts_, [this](const auto& p) { return p.second.spell != spell_; });
    std::vector<std::string_view> texts;
    texts.reserve(parts_.size());
    for (const auto& part : parts_) texts.push_back(part.text);
    if (auto ok = store_.write(encode_record(head, conns, texts)); !ok) {
      log::error("node daemon: " + ok.error().message);
      parts_.clear();  // written again in full next time
      return;
    }
    written_ = true;
    last_head_ = std::move(head);
  }
  store_.clear_touched();
}

Result<std::optional<DaemonSnapshot>> take_over_fds(const KeeperContext& keeper, int listener) {
  SnapshotStore store(keeper.record_fd);
  auto text = store.read();
  if (!text) return forward(text);
  // stdio (the daemon's log is its stderr), the keeper's fds, the listener `start` bound.
  std::vector<int> keep = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, listener};
  keep.insert(keep.end(), {keeper.exits_fd, keeper.exits_write_fd, keeper.record_fd});
  std::optional<DaemonSnapshot> snapshot;
  if (*text) {
    auto decoded = decode_snapshot(**text);
    if (!decoded) return forward(decoded);
    snapshot = std::move(*decoded);
    // A connection the dead daemon had begun to read after its record is as one inside a
    // frame: what it consumed is nowhere.
    bool all = false;
    const auto touched = store.touched(all);
    for (auto& c : snapshot->connections) {
      if (all || std::ranges::find(touched, c.id) != touched.end()) c.mid_frame = true;
    }
    for (int fd : snapshot->forget_changed_fds()) keep.push_back(fd);
  }
  std::erase_if(keep, [](int fd) { return fd < 0; });
  std::ranges::sort(keep);
  int next = 0;
  for (int fd : keep) {
    if (fd > next) ::close_range(static_cast<unsigned>(next), static_cast<unsigned>(fd) - 1, 0);
    next = std::max(next, fd + 1);
  }
  ::close_range(static_cast<unsigned>(next), ~0U, 0);
  return snapshot;
}

void adopt(DaemonSnapshot snapshot, ttrpc::Server& server, TaskService& service,
           Publisher& publisher) {
  if (snapshot.listener_fd >= 0) {
    if (auto ok = server.serve(os::UniqueFd(snapshot.listener_fd)); !ok)
      log::error("adopt: the listener: " + ok.error().message);
  }
  std::map<uint64_t, uint64_t> adopted;  // the dead daemon's connection id -> ours
  for (const auto& c : snapshot.connections) {
    os::UniqueFd fd(c.fd);
    // Inside a request or a reply: the stream cannot be resynchronised, or what was read is
    // nowhere. Closed, containerd cleans that connection's task up, as after any shim's death.
    if (c.mid_frame) {
      log::warn("adopt: connection fd " + std::to_string(c.fd) +
                " was inside a request or a reply: closed");
      continue;
    }
    auto id = server.adopt_connection(std::move(fd), c.last_stream);
    if (!id) {
      log::warn("adopt: " + id.error().message);
      continue;
    }
    adopted[c.id] = *id;
  }
  service.adopt(
      snapshot.containers, [&](const SnapshotWaiter& w) -> std::optional<TaskService::AdoptedWait> {
        const auto it = adopted.find(w.connection);
        if (it == adopted.end()) return std::nullopt;
        return TaskService::AdoptedWait{it->second, server.adopted_reply(it->second, w.stream)};
      });
  publisher.republish(snapshot.events);
  log::info("node daemon adopted " + std::to_string(snapshot.containers.size()) +
            " containers and " + std::to_string(adopted.size()) + " connections");
}

Result<void> watch_keeper_exits(ttrpc::EventLoop& loop, const KeeperContext& keeper,
                                TaskService& service) {
  const int fd = keeper.exits_fd;
  return loop.watch(fd, EPOLLIN, [fd, &service](uint32_t) {
    KeeperExit exit{};
    while (::read(fd, &exit, sizeof exit) == static_cast<ssize_t>(sizeof exit))
      service.keeper_exited(exit.pid, exit.status);
  });
}

}  // namespace hippo::shim
