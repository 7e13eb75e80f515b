#include "shim/snapshot.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "base/file_io.hpp"

namespace hippo::shim {
namespace {

using nlohmann::json;

constexpr uint32_t kMagic = 0x68697070;  // "hipp"
constexpr uint32_t kVersion = 1;
constexpr off_t kSlotOffset = 4096;
constexpr off_t kSlotSize = off_t{16} << 20;  // ~700 bytes a container: thousands fit

constexpr off_t kTouchedOffset = 1024;
constexpr size_t kTouchedMax = 120;

struct Header {
  uint32_t magic = 0;
  uint32_t version = 0;
  uint32_t slot = 0;
  uint32_t reserved = 0;
  uint64_t length = 0;
};

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string unhex(std::string_view text) {
  const auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i + 1 < text.size(); i += 2)
    out += static_cast<char>(digit(text[i]) << 4 | digit(text[i + 1]));
  return out;
}

json uris_json(const StdioUris& u) {
  return {{"stdin", u.stdin_uri},   {"stdout", u.stdout_uri},      {"stderr", u.stderr_uri},
          {"terminal", u.terminal}, {"container", u.container_id}, {"ns", u.ns}};
}

StdioUris uris_of(const json& j) {
  StdioUris u;
  u.stdin_uri = j.at("stdin").get<std::string>();
  u.stdout_uri = j.at("stdout").get<std::string>();
  u.stderr_uri = j.at("stderr").get<std::string>();
  u.terminal = j.at("terminal").get<bool>();
  u.container_id = j.at("container").get<std::string>();
  u.ns = j.at("ns").get<std::string>();
  return u;
}

json process_json(const SnapshotProcess& p) {
  json waiters = json::array();
  for (const auto& w : p.waiters) waiters.push_back({w.connection, w.stream});
  return {{"exec_id", p.exec_id},
          {"state", static_cast<int>(p.state)},
          {"pid", p.pid},
          {"reaped", p.reaped},
          {"exit_status", p.exit_status},
          {"exited_at_ns", p.exited_at_ns},
          {"uris", uris_json(p.uris)},
          {"fds",
           {p.pidfd, p.pty, p.stdin_keepalive, p.stdout_keepalive, p.stderr_keepalive, p.output_in,
            p.output_out, p.input_in, p.input_out}},
          {"waiters", waiters}};
}

SnapshotProcess process_of(const json& j) {
  SnapshotProcess p;
  p.exec_id = j.at("exec_id").get<std::string>();
  p.state = static_cast<ProcessState>(j.at("state").get<int>());
  p.pid = j.at("pid").get<pid_t>();
  p.reaped = j.at("reaped").get<bool>();
  p.exit_status = j.at("exit_status").get<uint32_t>();
  p.exited_at_ns = j.at("exited_at_ns").get<int64_t>();
  p.uris = uris_of(j.at("uris"));
  const auto& f = j.at("fds");
  int* const fds[] = {
      &p.pidfd,     &p.pty,        &p.stdin_keepalive, &p.stdout_keepalive, &p.stderr_keepalive,
      &p.output_in, &p.output_out, &p.input_in,        &p.input_out};
  if (f.size() != std::size(fds)) throw json::other_error::create(501, "fds: wrong count", &f);
  for (size_t i = 0; i < std::size(fds); ++i) *fds[i] = f[i].get<int>();
  for (const auto& w : j.at("waiters"))
    p.waiters.push_back({w.at(0).get<uint64_t>(), w.at(1).get<uint32_t>()});
  return p;
}

// Whether pidfd `fd` names `pid` (/proc/self/fdinfo's Pid line).
bool pidfd_names(int fd, pid_t pid) {
  auto info = read_text_file("/proc/self/fdinfo/" + std::to_string(fd));
  return info && info->find("\nPid:\t" + std::to_string(pid) + "\n") != std::string::npos;
}

Error io_error(const std::string& what) {
  return Error::from_errno(errno, "adoption record: " + what);
}

}  // namespace

std::string fd_identity(int fd) {
  struct stat st {};
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fstat(fd, &st) != 0) return "";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
         std::to_string(flags & O_ACCMODE);
}

std::vector<int> container_fds(const SnapshotContainer& c) {
  std::vector<int> out{c.oom_fd};
  const auto add = [&out](const SnapshotProcess& p) {
    out.insert(out.end(), {p.pidfd, p.pty, p.stdin_keepalive, p.stdout_keepalive,
                           p.stderr_keepalive, p.output_in, p.output_out, p.input_in, p.input_out});
  };
  add(c.init);
  for (const auto& e : c.execs) add(e);
  std::erase_if(out, [](int fd) { return fd < 0; });
  return out;
}

std::vector<int> DaemonSnapshot::fds() const {
  std::vector<int> out{listener_fd};
  for (const auto& c : connections) out.push_back(c.fd);
  for (const auto& c : containers) {
    const auto more = container_fds(c);
    out.insert(out.end(), more.begin(), more.end());
  }
  std::erase_if(out, [](int fd) { return fd < 0; });
  std::ranges::sort(out);
  return out;
}

void DaemonSnapshot::record_fd_ids() { record_fd_ids(DaemonSnapshot{}); }

void DaemonSnapshot::record_fd_ids(const DaemonSnapshot& before) {
  std::map<int, std::string> known;
  const auto keep = [&](int fd) {
    if (const auto it = before.fd_ids.find(fd); fd >= 0 && it != before.fd_ids.end())
      known.insert(*it);
  };
  if (listener_fd == before.listener_fd) keep(listener_fd);
  std::set<std::pair<uint64_t, int>> lived;
  for (const auto& b : before.connections) lived.emplace(b.id, b.fd);
  for (const auto& c : connections) {
    if (lived.contains({c.id, c.fd})) keep(c.fd);
  }
  fd_ids.clear();
  for (int fd : fds()) {
    const auto it = known.find(fd);
    fd_ids[fd] = it != known.end() ? it->second : fd_identity(fd);
  }
}

std::vector<int> DaemonSnapshot::forget_changed_fds() {
  const auto check = [this](int& fd) {
    if (fd < 0) return;
    const auto it = fd_ids.find(fd);
    if (it == fd_ids.end() || it->second.empty() || it->second != fd_identity(fd)) fd = -1;
  };
  const auto check_process = [&check](SnapshotProcess& p) {
    for (int* fd : {&p.pidfd, &p.pty, &p.stdin_keepalive, &p.stdout_keepalive, &p.stderr_keepalive,
                    &p.output_in, &p.output_out, &p.input_in, &p.input_out}) {
      check(*fd);
    }
    if (p.pidfd >= 0 && !pidfd_names(p.pidfd, p.pid)) p.pidfd = -1;
  };
  check(listener_fd);
  for (auto& c : connections) check(c.fd);
  std::erase_if(connections, [](const SnapshotConnection& c) { return c.fd < 0; });
  for (auto& c : containers) {
    check(c.oom_fd);
    check_process(c.init);
    for (auto& e : c.execs) check_process(e);
  }
  return fds();
}

std::string encode_container(const SnapshotContainer& c, const std::map<int, std::string>& ids) {
  json execs = json::array(), fd_ids = json::array();
  for (const auto& e : c.execs) execs.push_back(process_json(e));
  for (int fd : container_fds(c)) {
    if (const auto it = ids.find(fd); it != ids.end()) fd_ids.push_back({fd, it->second});
  }
  return json{{"id", c.id},
              {"bundle", c.bundle},
              {"rootfs_mounted", c.rootfs_mounted},
              {"kill_all_on_exit", c.kill_all_on_exit},
              {"init_exit_deferred", c.init_exit_deferred},
              {"oom_fd", c.oom_fd},
              {"init", process_json(c.init)},
              {"execs", execs},
              {"fd_ids", fd_ids}}
      .dump();
}

EncodedConnection encode_connection(const SnapshotConnection& c, const std::string& identity) {
  return {json::array({c.id, c.fd, c.last_stream, c.mid_frame}).dump(),
          json::array({c.fd, identity}).dump()};
}

std::string encode_record(const DaemonSnapshot& head,
                          const std::vector<const EncodedConnection*>& conns,
                          const std::vector<std::string_view>& parts) {
  json events = json::array();
  for (const auto& e : head.events)
    events.push_back({e.topic, e.type_url, hex(e.event), e.when_ns});
  // The parts are nlohmann's text; only the joining is done here, keys in nlohmann's order.
  size_t size = 128;
  for (const auto* c : conns) size += c->entry.size() + c->fd_id.size() + 2;
  for (const auto& p : parts) size += p.size() + 1;
  std::string out;
  out.reserve(size);
  const auto join = [&out](auto&& items, auto&& text) {
    bool first = true;
    for (const auto& i : items) {
      if (!first) out += ',';
      first = false;
      out += text(i);
    }
  };
  out += "{\"connections\":[";
  join(conns, [](const EncodedConnection* c) -> const std::string& { return c->entry; });
  out += "],\"events\":";
  out += events.dump();
  out += ",\"fd_ids\":[";
  if (const auto it = head.fd_ids.find(head.listener_fd); it != head.fd_ids.end()) {
    out += json::array({it->first, it->second}).dump();
    if (!conns.empty()) out += ',';
  }
  join(conns, [](const EncodedConnection* c) -> const std::string& { return c->fd_id; });
  out += "],\"listener\":" + std::to_string(head.listener_fd);
  out += ",\"version\":" + std::to_string(kVersion);
  // The containers, encoded apart (a daemon re-encodes only those that changed), go last.
  out += ",\"containers\":[";
  join(parts, [](std::string_view p) { return p; });
  out += "]}";
  return out;
}

std::string encode_record(const DaemonSnapshot& head, const std::vector<std::string_view>& parts) {
  std::vector<EncodedConnection> conns;
  conns.reserve(head.connections.size());
  for (const auto& c : head.connections) {
    const auto it = head.fd_ids.find(c.fd);
    conns.push_back(encode_connection(c, it != head.fd_ids.end() ? it->second : ""));
  }
  std::vector<const EncodedConnection*> views;
  for (const auto& c : conns) views.push_back(&c);
  return encode_record(head, views, parts);
}

std::string encode_snapshot(const DaemonSnapshot& s) {
  std::vector<std::string> containers;
  for (const auto& c : s.containers) containers.push_back(encode_container(c, s.fd_ids));
  return encode_record(s, {containers.begin(), containers.end()});
}

Result<DaemonSnapshot> decode_snapshot(std::string_view text) {
  try {
    const json j = json::parse(text);
    if (j.at("version").get<uint32_t>() != kVersion)
      return fail("adoption record: version " + j.at("version").dump() + ", not " +
                  std::to_string(kVersion));
    DaemonSnapshot s;
    s.listener_fd = j.at("listener").get<int>();
    for (const auto& c : j.at("connections")) {
      s.connections.push_back({c.at(0).get<uint64_t>(), c.at(1).get<int>(), c.at(2).get<uint32_t>(),
                               c.at(3).get<bool>()});
    }
    for (const auto& c : j.at("containers")) {
      SnapshotContainer out;
      out.id = c.at("id").get<std::string>();
      out.bundle = c.at("bundle").get<std::string>();
      out.rootfs_mounted = c.at("rootfs_mounted").get<bool>();
      out.kill_all_on_exit = c.at("kill_all_on_exit").get<bool>();
      out.init_exit_deferred = c.at("init_exit_deferred").get<bool>();
      out.oom_fd = c.at("oom_fd").get<int>();
      out.init = process_of(c.at("init"));
      for (const auto& e : c.at("execs")) out.execs.push_back(process_of(e));
      for (const auto& f : c.at("fd_ids"))
        s.fd_ids[f.at(0).get<int>()] = f.at(1).get<std::string>();
      s.containers.push_back(std::move(out));
    }
    for (const auto& e : j.at("events")) {
      s.events.push_back({e.at(0).get<std::string>(), e.at(1).get<std::string>(),
                          unhex(e.at(2).get<std::string>()), e.at(3).get<int64_t>()});
    }
    for (const auto& f : j.at("fd_ids")) s.fd_ids[f.at(0).get<int>()] = f.at(1).get<std::string>();
    return s;
  } catch (const json::exception& e) {
    return fail(std::string("adoption record: ") + e.what());
  }
}

struct SnapshotStore::Touched {
  uint32_t count;
  uint32_t overflow;
  uint64_t ids[kTouchedMax];
};

Result<int> SnapshotStore::create_fd() {
  const int fd = ::memfd_create("hippo-adoption", MFD_CLOEXEC);
  if (fd < 0) return std::unexpected(io_error("memfd_create"));
  if (::ftruncate(fd, kSlotOffset) != 0) {
    auto e = io_error("ftruncate");
    ::close(fd);
    return std::unexpected(std::move(e));
  }
  return fd;
}

SnapshotStore::SnapshotStore(int fd) : fd_(fd) {
  Header h{};
  if (::pread(fd_, &h, sizeof h, 0) == static_cast<ssize_t>(sizeof h) && h.magic == kMagic &&
      h.slot <= 1) {
    next_slot_ = 1 - h.slot;
  }
}

SnapshotStore::~SnapshotStore() {
  if (touched_ != nullptr)
    ::munmap(reinterpret_cast<char*>(touched_) - kTouchedOffset, kSlotOffset);
}

Result<void> SnapshotStore::map_touched() {
  static_assert(kTouchedOffset + sizeof(Touched) <= kSlotOffset);
  void* page = ::mmap(nullptr, kSlotOffset, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (page == MAP_FAILED) return std::unexpected(io_error("mmap"));
  touched_ = reinterpret_cast<Touched*>(static_cast<char*>(page) + kTouchedOffset);
  return {};
}

void SnapshotStore::touch(uint64_t connection) {
  if (touched_ == nullptr) return;
  const uint32_t n = touched_->count;
  for (uint32_t i = 0; i < n && i < kTouchedMax; ++i) {
    if (touched_->ids[i] == connection) return;
  }
  if (n >= kTouchedMax) {
    touched_->overflow = 1;
    return;
  }
  touched_->ids[n] = connection;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  touched_->count = n + 1;  // after the id: a death between leaves the id unnamed, not garbage
}

std::vector<uint64_t> SnapshotStore::touched(bool& all) const {
  Touched t{};
  if (::pread(fd_, &t, sizeof t, kTouchedOffset) != static_cast<ssize_t>(sizeof t)) {
    all = false;
    return {};
  }
  all = t.overflow != 0;
  return {t.ids, t.ids + std::min<uint32_t>(t.count, kTouchedMax)};
}

Result<void> SnapshotStore::write(std::string_view record) {
  if (static_cast<off_t>(record.size()) > kSlotSize)
    return fail("adoption record: " + std::to_string(record.size()) + " bytes, over the slot");
  const unsigned slot = next_slot_;
  if (::pwrite(fd_, record.data(), record.size(), kSlotOffset + slot * kSlotSize) !=
      static_cast<ssize_t>(record.size())) {
    return std::unexpected(io_error("write"));
  }
  // The header last, in one write: until it lands, the other slot is the record.
  const Header h{kMagic, kVersion, slot, 0, record.size()};
  if (::pwrite(fd_, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h))
    return std::unexpected(io_error("write"));
  next_slot_ = 1 - slot;
  return {};
}

void SnapshotStore::clear_touched() {
  if (touched_ == nullptr) return;
  touched_->count = 0;
  touched_->overflow = 0;
}

Result<std::optional<std::string>> SnapshotStore::read() const {
  Header h{};
  const ssize_t n = ::pread(fd_, &h, sizeof h, 0);
  if (n < 0) return std::unexpected(io_error("read"));
  if (n == 0 || (n == static_cast<ssize_t>(sizeof h) && h.magic == 0)) return std::nullopt;
  if (n != static_cast<ssize_t>(sizeof h) || h.magic != kMagic || h.version != kVersion ||
      h.slot > 1 || static_cast<off_t>(h.length) > kSlotSize) {
    return fail("adoption record: its header is not one");
  }
  std::string record(h.length, '\0');
  if (::pread(fd_, record.data(), record.size(), kSlotOffset + h.slot * kSlotSize) !=
      static_cast<ssize_t>(record.size())) {
    return std::unexpected(io_error("read"));
  }
  return record;
}

}  // namespace hippo::shim
