// hippo-cri's commands beyond calling one RPC by name.
#pragma once

#include <string>
#include <vector>

#include "rpc_table.hpp"

namespace hippo::cri {

// exec-sync ID [--timeout S] -- CMD...: the command's stdout and stderr as they are, and its
// exit code as ours.
int exec_sync(Client& client, const std::vector<std::string>& args);

// StopPodSandbox then RemovePodSandbox; "" or what failed.
std::string stop_and_remove_pod(Client& client, const std::string& id);

// remove-all-pods: stop and remove every pod sandbox (and so its containers).
int remove_all_pods(Client& client);

// bench --handler H [--pods N] [--parallel P] [--image I] [--cgroup-parent C] [--prefix X]
// [--cpu-of CONTAINERD_PID]: RunPodSandbox + CreateContainer + StartContainer per pod, timed in
// this process; prints JSON with every latency, the median and the CPU spent per pod while they
// started (the machine's, this client's, and containerd's with what it reaped), then removes the
// pods.
int bench(Client& client, const std::vector<std::string>& args);

}  // namespace hippo::cri
