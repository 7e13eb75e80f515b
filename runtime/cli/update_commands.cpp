// update and events: resources in place, and stats in runc's JSON shape.

#include <poll.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include "oci-spec/config.hpp"
#include "oci-spec/schema.hpp"
#include "runtime/backend.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/oom_watch.hpp"

namespace hippo::cli {
namespace {

// Sizes as runc's update takes them (docker/go-units RAMInBytes): "512m", "1g", "1048576".
Result<int64_t> parse_bytes(const std::string& flag, const std::string& text) {
  if (text == "-1") return -1;
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + i, number);
  std::string unit = text.substr(i);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.ends_with("ib"))
    unit.resize(unit.size() - 2);
  else if (unit.ends_with("b"))
    unit.resize(unit.size() - 1);
  static constexpr std::string_view kUnits = "kmgtp";
  double scale = 1;
  if (unit.size() == 1 && kUnits.find(unit[0]) != std::string_view::npos) {
    scale = std::pow(1024.0, static_cast<double>(kUnits.find(unit[0]) + 1));
  } else if (!unit.empty()) {
    ec = std::errc::invalid_argument;
  }
  if (i == 0 || ec != std::errc() || end != text.data() + i) {
    return fail("--" + flag + ": invalid size \"" + text + "\" (e.g. 536870912, 512m, 1g)");
  }
  return static_cast<int64_t>(number * scale);
}

template <class T>
Result<T> parse_number(const std::string& flag, const std::string& text) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return fail("--" + flag + ": invalid number \"" + text + "\"");
  }
  return v;
}

Result<spec::Resources> read_resources_file(const std::string& file) {
  std::string text;
  if (file == "-") {
    std::ostringstream s;
    s << std::cin.rdbuf();
    text = s.str();
  } else {
    std::ifstream in(file);
    if (!in) return fail_errno("open " + file);
    std::ostringstream s;
    s << in.rdbuf();
    text = s.str();
  }
  return spec::read_document<spec::Resources>(text, file == "-" ? "resources (stdin)" : file);
}

// runc's update flags on top of --resources (flags win, as in runc).
Result<spec::Resources> resources_from_flags(const ParsedFlags& flags) {
  spec::Resources r;
  if (auto file = flags.value("resources")) {
    auto parsed = read_resources_file(*file);
    if (!parsed) return parsed;
    r = std::move(*parsed);
  }
  auto mem = [&]() -> spec::Memory& { return r.memory ? *r.memory : r.memory.emplace(); };
  auto cpu = [&]() -> spec::Cpu& { return r.cpu ? *r.cpu : r.cpu.emplace(); };
  for (const auto& [flag, field] : {std::pair{"memory", &spec::Memory::limit},
                                    std::pair{"memory-reservation", &spec::Memory::reservation},
                                    std::pair{"memory-swap", &spec::Memory::swap},
                                    std::pair{"kernel-memory", &spec::Memory::kernel},
                                    std::pair{"kernel-memory-tcp", &spec::Memory::kernelTCP}}) {
    if (auto v = flags.value(flag)) {
      auto bytes = parse_bytes(flag, *v);
      if (!bytes) return std::unexpected(bytes.error());
      mem().*field = *bytes;
    }
  }
  for (const auto& flag : {"cpu-share", "cpu-shares"}) {
    if (auto v = flags.value(flag)) {
      auto n = parse_number<uint64_t>(flag, *v);
      if (!n) return std::unexpected(n.error());
      cpu().shares = *n;
    }
  }
  for (const auto& [flag, field] : {std::pair{"cpu-period", &spec::Cpu::period},
                                    std::pair{"cpu-rt-period", &spec::Cpu::realtimePeriod}}) {
    if (auto v = flags.value(flag)) {
      auto n = parse_number<uint64_t>(flag, *v);
      if (!n) return std::unexpected(n.error());
      cpu().*field = *n;
    }
  }
  for (const auto& [flag, field] : {std::pair{"cpu-quota", &spec::Cpu::quota},
                                    std::pair{"cpu-rt-runtime", &spec::Cpu::realtimeRuntime}}) {
    if (auto v = flags.value(flag)) {
      auto n = parse_number<int64_t>(flag, *v);
      if (!n) return std::unexpected(n.error());
      cpu().*field = *n;
    }
  }
  if (auto v = flags.value("cpuset-cpus")) cpu().cpus = *v;
  if (auto v = flags.value("cpuset-mems")) cpu().mems = *v;
  if (auto v = flags.value("pids-limit")) {
    auto n = parse_number<int64_t>("pids-limit", *v);
    if (!n) return std::unexpected(n.error());
    r.pids = spec::Pids{*n};
  }
  if (auto v = flags.value("blkio-weight")) {
    auto n = parse_number<uint16_t>("blkio-weight", *v);
    if (!n) return std::unexpected(n.error());
    if (!r.blockIO) r.blockIO.emplace();
    r.blockIO->weight = *n;
  }
  if (flags.has("l3-cache-schema") || flags.has("mem-bw-schema")) {
    return fail("--l3-cache-schema/--mem-bw-schema: Intel RDT is not supported by hippo");
  }
  // The same rules as config.json's linux.resources.
  spec::Spec probe;
  probe.ociVersion = std::string(spec::kOciVersion);
  probe.root = spec::Root{"rootfs", std::nullopt};
  probe.linux = spec::Linux{};
  probe.linux->resources = r;
  if (auto ok = spec::validate(probe, "update"); !ok) return std::unexpected(ok.error());
  return r;
}

// runc's events types (types/events.go): cpu usage and throttling, memory usage/swap and the
// raw memory.stat, pids, blkio per device and operation. On v2 "cache" is memory.stat's file
// and swap is swap alone (v1: memory+swap), as the cgroup files say.
spec::Json stats_json(const std::string& id, const spec::Stats& s) {
  spec::Json data;
  data["cpu"]["usage"] = {
      {"total", s.cpu_usage_ns}, {"kernel", s.cpu_system_ns}, {"user", s.cpu_user_ns}};
  if (!s.cpu_per_cpu_ns.empty()) data["cpu"]["usage"]["percpu"] = s.cpu_per_cpu_ns;
  data["cpu"]["throttling"] = {{"periods", s.cpu_periods},
                               {"throttled_periods", s.cpu_throttled_periods},
                               {"throttled_time", s.cpu_throttled_ns}};
  const auto& m = s.memory;
  const auto stat = [&](std::string_view key) {
    const auto it = m.stat.find(key);
    return it == m.stat.end() ? uint64_t{0} : it->second;
  };
  data["memory"]["cache"] = m.stat.contains("cache") ? stat("cache") : stat("file");
  data["memory"]["usage"] = {
      {"usage", m.usage}, {"max", m.max_usage}, {"limit", m.limit}, {"failcnt", m.failcnt}};
  data["memory"]["swap"] = {{"usage", m.swap_usage},
                            {"max", m.swap_max_usage},
                            {"limit", m.swap_limit},
                            {"failcnt", m.swap_failcnt}};
  data["memory"]["raw"] = spec::Json::object();
  for (const auto& [key, value] : m.stat) data["memory"]["raw"][key] = value;
  data["memory"]["oom_kill"] = m.oom_kills;
  data["pids"] = {{"current", s.pids_current}, {"limit", s.pids_limit}};
  auto bytes = spec::Json::array(), ops = spec::Json::array();
  for (const auto& d : s.io) {
    auto entry = [&](const char* op, uint64_t value) {
      return spec::Json{{"major", d.major}, {"minor", d.minor}, {"op", op}, {"value", value}};
    };
    bytes.push_back(entry("Read", d.read_bytes));
    bytes.push_back(entry("Write", d.write_bytes));
    ops.push_back(entry("Read", d.read_ops));
    ops.push_back(entry("Write", d.write_ops));
  }
  data["blkio"] = {{"ioServiceBytesRecursive", bytes}, {"ioServicedRecursive", ops}};
  return {{"type", "stats"}, {"id", id}, {"data", data}};
}

}  // namespace

Result<int> run_update(const Context& ctx, const ParsedFlags& flags) {
  auto r = resources_from_flags(flags);
  if (!r) return std::unexpected(r.error());
  auto b = make_backend(ctx);
  if (auto ok = b->update(flags.args.at(0), *r); !ok) return std::unexpected(ok.error());
  return 0;
}

Result<int> run_events(const Context& ctx, const ParsedFlags& flags) {
  const auto id = flags.args.at(0);
  auto b = make_backend(ctx);
  if (flags.enabled("stats")) {
    auto s = b->stats(id);
    if (!s) return std::unexpected(s.error());
    std::cout << stats_json(id, *s).dump() << "\n";
    return 0;
  }
  // The stream: one stats line per interval until the container stops.
  const auto interval_text = flags.value_or("interval", "5s");
  int interval_ms = 0;
  {
    std::string digits = interval_text;
    int scale = 1000;
    if (digits.ends_with("ms")) {
      scale = 1;
      digits.resize(digits.size() - 2);
    } else if (digits.ends_with("s")) {
      digits.resize(digits.size() - 1);
    }
    auto n = parse_number<int>("interval", digits);
    if (!n || *n <= 0)
      return fail("--interval: invalid duration \"" + interval_text + "\" (e.g. 5s, 500ms)");
    interval_ms = *n * scale;
  }
  // OOM notifications as they happen (runc's {"type":"oom"}), stats every interval, until the
  // container stops.
  auto oom = runtime::OomWatch::open(*b, id);
  if (!oom) return std::unexpected(oom.error());
  auto next_stats = std::chrono::steady_clock::now();
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_stats) {
      auto s = b->stats(id);
      if (!s) {
        auto st = b->state(id);
        if (st && st->status == spec::Status::stopped) return 0;
        return std::unexpected(s.error());
      }
      std::cout << stats_json(id, *s).dump() << std::endl;
      next_stats = now + std::chrono::milliseconds(interval_ms);
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_stats - now);
    pollfd p{oom->fd(), POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(wait.count(), 0)));
    if (ready > 0) {
      auto events = oom->consume();
      if (!events) return std::unexpected(events.error());
      for (uint64_t i = 0; i < *events; ++i) {
        std::cout << spec::Json{{"type", "oom"}, {"id", id}}.dump() << std::endl;
      }
      auto st = b->state(id);
      if (!st || st->status == spec::Status::stopped) return 0;
    }
  }
}

}  // namespace hippo::cli
