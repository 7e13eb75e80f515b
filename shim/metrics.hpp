#pragma once
// A container's cgroup statistics as the Any that Task.Stats returns: cgroups v1 Metrics on a
// v1/hybrid host, v2 Metrics on a cgroup2 host, as containerd's runc shim chooses, so CRI and
// `ctr task metrics` decode them with the types they already know.

#include <string>

#include "oci-spec/stats.hpp"

namespace hippo::shim {

enum class MetricsVersion { v1, v2 };

// v2 when /sys/fs/cgroup is a cgroup2 mount.
MetricsVersion host_metrics_version();

struct EncodedMetrics {
  std::string type_url;  // bare: "io.containerd.cgroups.v1.Metrics"
  std::string bytes;
};

EncodedMetrics encode_metrics(const spec::Stats& stats, MetricsVersion version);

}  // namespace hippo::shim
