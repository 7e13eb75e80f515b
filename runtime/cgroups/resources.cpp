#include "runtime/cgroups/resources.hpp"

#include <cctype>

#include "runtime/cgroups/devices.hpp"

namespace hippo::cgroups {
namespace {

using Writes = std::vector<FileWrite>;

constexpr std::string_view kBase = "linux.resources";

void add(Writes& w, std::string field, std::string controller, std::string file, std::string value,
         IfMissing if_missing = IfMissing::fail, bool retry_at_end = false) {
  w.push_back({std::move(controller), std::move(file), std::move(value), if_missing, retry_at_end,
               std::move(field)});
}

std::string at(std::string_view member) { return std::string(kBase) + "." + std::string(member); }
std::string at(std::string_view member, size_t index) {
  return at(member) + "[" + std::to_string(index) + "]";
}

std::string device(int64_t major, int64_t minor) {
  return std::to_string(major) + ":" + std::to_string(minor);
}

// 0 is "unset" (no write), -1 "max".
std::string v2_number(int64_t n) { return n == -1 ? "max" : std::to_string(n); }

bool valid_page_size(std::string_view size) {
  // "2MB", "1GB", "64KB": the suffix the kernel uses in hugetlb.<size>.* file names.
  if (size.size() < 3 || !size.ends_with('B')) return false;
  const char unit = size[size.size() - 2];
  if (unit != 'K' && unit != 'M' && unit != 'G') return false;
  const auto digits = size.substr(0, size.size() - 2);
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

void cpuset_writes(Writes& w, const spec::Cpu& cpu) {
  if (cpu.cpus && !cpu.cpus->empty()) add(w, at("cpu.cpus"), "cpuset", "cpuset.cpus", *cpu.cpus);
  if (cpu.mems && !cpu.mems->empty()) add(w, at("cpu.mems"), "cpuset", "cpuset.mems", *cpu.mems);
}

void pids_writes(Writes& w, const spec::Pids& pids) {
  if (pids.limit == 0) return;  // runc 1.1: 0 leaves the limit alone
  add(w, at("pids.limit"), "pids", "pids.max", pids.limit > 0 ? std::to_string(pids.limit) : "max");
}

Result<void> device_writes(Writes& w, const std::vector<spec::DeviceRule>& rules) {
  // Deny everything first: the spec's rules then build the allow list up from nothing.
  add(w, at("devices"), "devices", "devices.deny", "a");
  for (size_t i = 0; i < rules.size(); ++i) {
    auto line = device_rule_line(rules[i], at("devices", i));
    if (!line) return std::unexpected(line.error());
    add(w, at("devices", i), "devices", rules[i].allow ? "devices.allow" : "devices.deny",
        std::move(*line));
  }
  for (const auto& d : default_devices()) {
    add(w, at("devices"), "devices", "devices.allow", device_rule_line(d));
  }
  return {};
}

Result<void> v1_memory_writes(Writes& w, const spec::Memory& m) {
  const int64_t limit = m.limit.value_or(0);
  int64_t swap = m.swap.value_or(0);
  bool swap_implied = false;
  if (limit == -1 && swap == 0) {
    // runc: an unlimited memory limit with no swap limit means both unlimited, or the old
    // memory+swap limit would stay below the memory limit.
    swap = -1;
    swap_implied = true;
  }
  // The kernel keeps memory.limit <= memory.memsw.limit at every step. Written limit first,
  // raising both fails the first write with EINVAL; retrying it after memsw settles any order.
  if (limit != 0) {
    add(w, at("memory.limit"), "memory", "memory.limit_in_bytes", std::to_string(limit),
        IfMissing::fail, swap != 0);
  }
  if (swap != 0) {
    add(w, at("memory.swap"), "memory", "memory.memsw.limit_in_bytes", std::to_string(swap),
        swap_implied ? IfMissing::skip : IfMissing::fail);
  }
  if (m.reservation.value_or(0) != 0) {
    add(w, at("memory.reservation"), "memory", "memory.soft_limit_in_bytes",
        std::to_string(*m.reservation));
  }
  if (m.disableOOMKiller.value_or(false)) {
    add(w, at("memory.disableOOMKiller"), "memory", "memory.oom_control", "1");
  }
  if (m.swappiness) {
    if (*m.swappiness > 100) {
      return fail(
          ErrorKind::invalid_argument,
          at("memory.swappiness") + ": must be 0 to 100, got " + std::to_string(*m.swappiness));
    }
    add(w, at("memory.swappiness"), "memory", "memory.swappiness", std::to_string(*m.swappiness));
  }
  return {};
}

void v1_cpu_writes(Writes& w, const spec::Cpu& c) {
  const int64_t quota = c.quota.value_or(0);
  if (c.shares.value_or(0) != 0) {
    add(w, at("cpu.shares"), "cpu", "cpu.shares", std::to_string(*c.shares));
  }
  // Period and burst go before the quota; either may be refused against the old quota.
  if (c.period.value_or(0) != 0) {
    add(w, at("cpu.period"), "cpu", "cpu.cfs_period_us", std::to_string(*c.period), IfMissing::fail,
        quota != 0);
  }
  if (c.burst) {  // 0 is a real value here: no burst
    add(w, at("cpu.burst"), "cpu", "cpu.cfs_burst_us", std::to_string(*c.burst), IfMissing::skip,
        quota != 0);
  }
  if (quota != 0) add(w, at("cpu.quota"), "cpu", "cpu.cfs_quota_us", std::to_string(quota));
  if (c.idle) add(w, at("cpu.idle"), "cpu", "cpu.idle", std::to_string(*c.idle));
  const int64_t rt_runtime = c.realtimeRuntime.value_or(0);
  if (c.realtimePeriod.value_or(0) != 0) {
    add(w, at("cpu.realtimePeriod"), "cpu", "cpu.rt_period_us", std::to_string(*c.realtimePeriod),
        IfMissing::fail, rt_runtime != 0);
  }
  if (rt_runtime != 0) {
    add(w, at("cpu.realtimeRuntime"), "cpu", "cpu.rt_runtime_us", std::to_string(rt_runtime));
  }
}

void v1_blkio_writes(Writes& w, const spec::BlockIO& b) {
  // Kernels without CFQ name the weights blkio.bfq.* (runc's detectWeightFilenames).
  // A kernel whose disks no scheduler with weights serves (none, mq-deadline, kyber) has neither
  // file: the weight is then refused, naming both.
  if (b.weight.value_or(0) != 0) {
    const auto field = at("blockIO.weight");
    add(w, field, "blkio", "blkio.weight", std::to_string(*b.weight), IfMissing::use_next);
    add(w, field, "blkio", "blkio.bfq.weight", std::to_string(*b.weight));
  }
  if (b.leafWeight.value_or(0) != 0) {
    add(w, at("blockIO.leafWeight"), "blkio", "blkio.leaf_weight", std::to_string(*b.leafWeight));
  }
  const auto devices = b.weightDevice.value_or(std::vector<spec::WeightDevice>{});
  for (size_t i = 0; i < devices.size(); ++i) {
    const auto& d = devices[i];
    const auto dev = device(d.major, d.minor);
    const auto field = at("blockIO.weightDevice", i);
    if (d.weight.value_or(0) != 0) {
      add(w, field + ".weight", "blkio", "blkio.weight_device",
          dev + " " + std::to_string(*d.weight), IfMissing::use_next);
      add(w, field + ".weight", "blkio", "blkio.bfq.weight_device",
          dev + " " + std::to_string(*d.weight));
    }
    if (d.leafWeight.value_or(0) != 0) {
      add(w, field + ".leafWeight", "blkio", "blkio.leaf_weight_device",
          dev + " " + std::to_string(*d.leafWeight));
    }
  }
  auto throttle = [&](const auto& list, const char* member, const char* file) {
    if (!list) return;
    for (size_t i = 0; i < list->size(); ++i) {
      const auto& t = (*list)[i];
      add(w, at(std::string("blockIO.") + member, i), "blkio", file,
          device(t.major, t.minor) + " " + std::to_string(t.rate));
    }
  };
  throttle(b.throttleReadBpsDevice, "throttleReadBpsDevice", "blkio.throttle.read_bps_device");
  throttle(b.throttleWriteBpsDevice, "throttleWriteBpsDevice", "blkio.throttle.write_bps_device");
  throttle(b.throttleReadIOPSDevice, "throttleReadIOPSDevice", "blkio.throttle.read_iops_device");
  throttle(b.throttleWriteIOPSDevice, "throttleWriteIOPSDevice",
           "blkio.throttle.write_iops_device");
}

void network_writes(Writes& w, const spec::Network& n) {
  if (n.classID.value_or(0) != 0) {
    add(w, at("network.classID"), "net_cls", "net_cls.classid", std::to_string(*n.classID));
  }
  const auto priorities = n.priorities.value_or(std::vector<spec::InterfacePriority>{});
  for (size_t i = 0; i < priorities.size(); ++i) {
    const auto& p = priorities[i];
    add(w, at("network.priorities", i), "net_prio", "net_prio.ifpriomap",
        p.name + " " + std::to_string(p.priority));
  }
}

void rdma_writes(Writes& w, const std::map<std::string, spec::Rdma>& rdma) {
  for (const auto& [dev, limits] : rdma) {
    std::string line = dev;
    if (limits.hcaHandles) line += " hca_handle=" + std::to_string(*limits.hcaHandles);
    if (limits.hcaObjects) line += " hca_object=" + std::to_string(*limits.hcaObjects);
    if (line != dev) add(w, at("rdma") + "[\"" + dev + "\"]", "rdma", "rdma.max", std::move(line));
  }
}

Result<void> v2_refusals(const spec::Resources& r) {
  if (r.memory) {
    for (const auto& [name, v] :
         {std::pair{"kernel", r.memory->kernel}, std::pair{"kernelTCP", r.memory->kernelTCP}}) {
      if (v.value_or(0) != 0) {
        return fail(ErrorKind::invalid_argument,
                    at("memory.") + name + ": cgroup v2 has no separate kernel memory limit");
      }
    }
    if (r.memory->disableOOMKiller.value_or(false)) {
      return fail(ErrorKind::invalid_argument,
                  at("memory.disableOOMKiller") + ": cgroup v2 cannot turn off the OOM killer");
    }
  }
  if (r.cpu &&
      (r.cpu->realtimeRuntime.value_or(0) != 0 || r.cpu->realtimePeriod.value_or(0) != 0)) {
    return fail(ErrorKind::invalid_argument,
                at("cpu") +
                    ": cgroup v2 has no real-time CPU budget (realtimeRuntime, "
                    "realtimePeriod)");
  }
  if (r.network &&
      (r.network->classID.value_or(0) != 0 ||
       !r.network->priorities.value_or(std::vector<spec::InterfacePriority>{}).empty())) {
    return fail(ErrorKind::invalid_argument,
                at("network") + ": net_cls and net_prio are cgroup v1 controllers");
  }
  return {};
}

Result<void> v2_memory_writes(Writes& w, const spec::Memory& m) {
  const int64_t limit = m.limit.value_or(0), swap = m.swap.value_or(0);
  auto swap_max = v2_swap_limit(swap, limit);
  if (!swap_max) return std::unexpected(swap_max.error());
  std::string swap_value;
  if (*swap_max != 0) {
    swap_value = v2_number(*swap_max);
  } else if (swap > 0) {
    swap_value = "0";  // memory+swap == memory: no swap at all
  }
  if (!swap_value.empty()) {
    // Without swap accounting there is no memory.swap.max, and "no swap" or "unlimited swap"
    // is what the kernel does anyway (runc ignores the missing file for these two values).
    const bool harmless = swap_value == "max" || swap_value == "0";
    add(w, at("memory.swap"), "memory", "memory.swap.max", swap_value,
        harmless ? IfMissing::skip : IfMissing::fail);
  }
  if (limit != 0) add(w, at("memory.limit"), "memory", "memory.max", v2_number(limit));
  if (m.reservation.value_or(0) != 0) {
    add(w, at("memory.reservation"), "memory", "memory.low", v2_number(*m.reservation));
  }
  return {};
}

void v2_cpu_writes(Writes& w, const spec::Cpu& c) {
  const int64_t quota = c.quota.value_or(0);
  const uint64_t period = c.period.value_or(0);
  if (c.idle) add(w, at("cpu.idle"), "cpu", "cpu.idle", std::to_string(*c.idle));
  if (c.shares.value_or(0) != 0) {
    add(w, at("cpu.shares"), "cpu", "cpu.weight",
        std::to_string(cpu_weight_from_shares(*c.shares)));
  }
  if (c.burst) {
    add(w, at("cpu.burst"), "cpu", "cpu.max.burst", std::to_string(*c.burst), IfMissing::fail,
        quota != 0);
  }
  if (quota != 0 || period != 0) {
    // runc: an unset half of cpu.max is "max" quota or the kernel's default 100 ms period.
    add(w, at(quota != 0 ? "cpu.quota" : "cpu.period"), "cpu", "cpu.max",
        (quota > 0 ? std::to_string(quota) : "max") + " " +
            std::to_string(period != 0 ? period : 100000));
  }
}

void v2_io_writes(Writes& w, const spec::BlockIO& b) {
  // BFQ takes the blkio weight as is; without BFQ io.weight takes it converted (runc's order).
  if (b.weight.value_or(0) != 0) {
    const auto field = at("blockIO.weight");
    add(w, field, "io", "io.bfq.weight", std::to_string(*b.weight), IfMissing::use_next);
    add(w, field, "io", "io.weight", std::to_string(io_weight_from_blkio(*b.weight)));
  }
  const auto devices = b.weightDevice.value_or(std::vector<spec::WeightDevice>{});
  for (size_t i = 0; i < devices.size(); ++i) {
    const auto& d = devices[i];
    if (d.weight.value_or(0) == 0) continue;
    const auto dev = device(d.major, d.minor);
    const auto field = at("blockIO.weightDevice", i) + ".weight";
    add(w, field, "io", "io.bfq.weight", dev + " " + std::to_string(*d.weight),
        IfMissing::use_next);
    add(w, field, "io", "io.weight", dev + " " + std::to_string(io_weight_from_blkio(*d.weight)));
  }
  auto throttle = [&](const auto& list, const char* member, const char* key) {
    if (!list) return;
    for (size_t i = 0; i < list->size(); ++i) {
      const auto& t = (*list)[i];
      add(w, at(std::string("blockIO.") + member, i), "io", "io.max",
          device(t.major, t.minor) + " " + key + "=" + std::to_string(t.rate));
    }
  };
  throttle(b.throttleReadBpsDevice, "throttleReadBpsDevice", "rbps");
  throttle(b.throttleWriteBpsDevice, "throttleWriteBpsDevice", "wbps");
  throttle(b.throttleReadIOPSDevice, "throttleReadIOPSDevice", "riops");
  throttle(b.throttleWriteIOPSDevice, "throttleWriteIOPSDevice", "wiops");
}

Result<void> unified_writes(Writes& w, const spec::StringMap& unified) {
  for (const auto& [key, value] : unified) {
    const auto dot = key.find('.');
    if (key.find('/') != std::string::npos || key.find("..") != std::string::npos ||
        dot == std::string::npos || dot == 0) {
      return fail(ErrorKind::invalid_argument,
                  at("unified") + "[\"" + key +
                      "\"]: must be a cgroup interface file name like \"memory.high\"");
    }
    const std::string controller = key.substr(0, dot);
    const std::string field = at("unified") + "[\"" + key + "\"]";
    // Multi-line values (io.max, several devices) go in one line per write, as runc does.
    if (value.find('\n') == std::string::npos) {
      add(w, field, controller, key, value);
      continue;
    }
    size_t start = 0;
    while (start < value.size()) {
      size_t end = value.find('\n', start);
      if (end == std::string::npos) end = value.size();
      if (end > start) add(w, field, controller, key, value.substr(start, end - start));
      start = end + 1;
    }
  }
  return {};
}

}  // namespace

uint64_t cpu_weight_from_shares(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares <= 2) return 1;  // below the v1 minimum; the formula would underflow
  if (shares >= 262144) return 10000;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t io_weight_from_blkio(uint16_t weight) {
  if (weight == 0) return 0;
  if (weight <= 10) return 1;
  if (weight >= 1000) return 10000;
  return 1 + (uint64_t{weight} - 10) * 9999 / 990;
}

Result<int64_t> v2_swap_limit(int64_t swap, int64_t limit) {
  if (limit == -1 && swap == 0) return -1;  // "unlimited memory" means unlimited swap too
  if (swap == -1 || swap == 0) return swap;
  if (limit == -1) return swap;
  if (limit == 0) {
    return fail(ErrorKind::invalid_argument,
                at("memory.swap") + ": cgroup v2 cannot set a swap limit without a memory limit");
  }
  if (limit < 0) {
    return fail(ErrorKind::invalid_argument,
                at("memory.limit") + ": invalid value " + std::to_string(limit));
  }
  if (swap < limit) {
    return fail(ErrorKind::invalid_argument,
                at("memory.swap") + ": memory+swap limit " + std::to_string(swap) +
                    " is below the memory limit " + std::to_string(limit));
  }
  return swap - limit;
}

Result<std::vector<FileWrite>> hugetlb_writes(const std::vector<spec::HugepageLimit>& limits,
                                              Version version) {
  Writes w;
  const char* suffix = version == Version::v1 ? ".limit_in_bytes" : ".max";
  for (size_t i = 0; i < limits.size(); ++i) {
    const auto& l = limits[i];
    if (!valid_page_size(l.pageSize)) {
      return fail(ErrorKind::invalid_argument, at("hugepageLimits", i) +
                                                   ".pageSize: invalid page size \"" + l.pageSize +
                                                   "\" (expected a size like \"2MB\" or \"1GB\")");
    }
    const std::string prefix = "hugetlb." + l.pageSize;
    add(w, at("hugepageLimits", i), "hugetlb", prefix + suffix, std::to_string(l.limit));
    // Reservations (kernel 5.7+) get the same limit, or a mapping could reserve past it.
    add(w, at("hugepageLimits", i), "hugetlb", prefix + ".rsvd" + suffix, std::to_string(l.limit),
        IfMissing::skip);
  }
  return w;
}

Result<std::vector<FileWrite>> v1_writes(const spec::Resources& r) {
  if (r.unified && !r.unified->empty()) {
    // runc's words ("invalid configuration: cannot use unified on cgroup v1"), with the field.
    return fail("invalid configuration: " + at("unified") + ": cannot use unified on cgroup v1",
                EINVAL);
  }
  Writes w;
  // runc's order of v1 subsystems: cpuset, devices, memory, cpu, pids, blkio, hugetlb, net, rdma.
  if (r.cpu) cpuset_writes(w, *r.cpu);
  if (r.devices) {
    if (auto ok = device_writes(w, *r.devices); !ok) return std::unexpected(ok.error());
  }
  if (r.memory) {
    if (auto ok = v1_memory_writes(w, *r.memory); !ok) return std::unexpected(ok.error());
  }
  if (r.cpu) v1_cpu_writes(w, *r.cpu);
  if (r.pids) pids_writes(w, *r.pids);
  if (r.blockIO) v1_blkio_writes(w, *r.blockIO);
  if (r.hugepageLimits) {
    auto huge = hugetlb_writes(*r.hugepageLimits, Version::v1);
    if (!huge) return std::unexpected(huge.error());
    w.insert(w.end(), huge->begin(), huge->end());
  }
  if (r.network) network_writes(w, *r.network);
  if (r.rdma) rdma_writes(w, *r.rdma);
  return w;
}

Result<std::vector<FileWrite>> v2_writes(const spec::Resources& r) {
  if (auto ok = v2_refusals(r); !ok) return std::unexpected(ok.error());
  Writes w;
  // runc's fs2 order: pids, memory, io, cpu, cpuset, hugetlb, rdma, then unified overrides.
  if (r.pids) pids_writes(w, *r.pids);
  if (r.memory) {
    if (auto ok = v2_memory_writes(w, *r.memory); !ok) return std::unexpected(ok.error());
  }
  if (r.blockIO) v2_io_writes(w, *r.blockIO);
  if (r.cpu) {
    v2_cpu_writes(w, *r.cpu);
    cpuset_writes(w, *r.cpu);
  }
  if (r.hugepageLimits) {
    auto huge = hugetlb_writes(*r.hugepageLimits, Version::v2);
    if (!huge) return std::unexpected(huge.error());
    w.insert(w.end(), huge->begin(), huge->end());
  }
  if (r.rdma) rdma_writes(w, *r.rdma);
  if (r.unified) {
    if (auto ok = unified_writes(w, *r.unified); !ok) return std::unexpected(ok.error());
  }
  return w;
}

}  // namespace hippo::cgroups
