// `hippo-cri bench`: the CRI latency a kubelet sees to get a pod's container running, measured
// inside one client process so process start-up does not blur the numbers.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "commands.hpp"

namespace hippo::cri {
namespace {

namespace v1 = runtime::v1;

struct Options {
  std::string handler;
  int pods = 10;
  int parallel = 1;
  std::string image = "docker.io/library/busybox:latest";
  std::string cgroup_parent;
  std::string prefix = "bench";
  int cpu_of = 0;  // containerd's pid: its CPU, and its reaped children's, is reported
};

// CPU time in ms: the whole machine's busy time (/proc/stat: all but idle and iowait), and a
// process's own with its reaped children's (/proc/PID/stat utime, stime, cutime, cstime).
struct Cpu {
  double machine = 0;
  double process = 0;
};

Cpu read_cpu(int pid) {
  const double tick_ms = 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  Cpu c;
  std::ifstream stat("/proc/stat");
  std::string label;
  stat >> label;
  double v[10] = {};
  for (double& x : v) stat >> x;
  // user nice system idle iowait irq softirq steal guest guest_nice (guest is in user)
  c.machine = (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * tick_ms;
  if (pid > 0) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    std::getline(in, text);  // one line; none if the process is gone (reported as 0)
    const size_t name_end = text.rfind(')');
    if (name_end == std::string::npos) return c;
    // fields after the command's closing parenthesis, from the 3rd (state)
    std::istringstream rest(text.substr(name_end + 1));
    std::string field;
    double sum = 0;
    for (int n = 3; n <= 17 && rest >> field; ++n) {
      if (n >= 14) sum += std::atof(field.c_str());
    }
    c.process = sum * tick_ms;
  }
  return c;
}

bool parse(const std::vector<std::string>& args, Options& o) {
  for (size_t i = 0; i + 1 < args.size(); i += 2) {
    const auto& k = args[i];
    const auto& v = args[i + 1];
    if (k == "--handler")
      o.handler = v;
    else if (k == "--pods")
      o.pods = std::atoi(v.c_str());
    else if (k == "--parallel")
      o.parallel = std::atoi(v.c_str());
    else if (k == "--image")
      o.image = v;
    else if (k == "--cgroup-parent")
      o.cgroup_parent = v;
    else if (k == "--prefix")
      o.prefix = v;
    else if (k == "--cpu-of")
      o.cpu_of = std::atoi(v.c_str());
    else
      return false;
  }
  return args.size() % 2 == 0 && !o.handler.empty() && o.pods > 0 && o.parallel > 0;
}

// One pod with one sleeping container; returns the pod id, or "" with `error` set.
std::string run_one(Client& client, const Options& o, int n, std::string& error) {
  const std::string name = o.prefix + "-" + std::to_string(n);
  v1::RunPodSandboxRequest run;
  run.set_runtime_handler(o.handler);
  auto* config = run.mutable_config();
  config->mutable_metadata()->set_name(name);
  config->mutable_metadata()->set_uid(name);
  config->mutable_metadata()->set_namespace_("bench");
  if (!o.cgroup_parent.empty()) config->mutable_linux()->set_cgroup_parent(o.cgroup_parent);
  v1::RunPodSandboxResponse pod;
  auto c1 = client.context();
  if (auto s = client.runtime->RunPodSandbox(c1.get(), run, &pod); !s.ok()) {
    error = "RunPodSandbox: " + describe(s);
    return "";
  }
  v1::CreateContainerRequest create;
  create.set_pod_sandbox_id(pod.pod_sandbox_id());
  *create.mutable_sandbox_config() = *config;
  auto* cc = create.mutable_config();
  cc->mutable_metadata()->set_name("c");
  cc->mutable_image()->set_image(o.image);
  cc->add_command("sleep");
  cc->add_args("3600");
  v1::CreateContainerResponse created;
  auto c2 = client.context();
  if (auto s = client.runtime->CreateContainer(c2.get(), create, &created); !s.ok()) {
    error = "CreateContainer: " + describe(s);
    return pod.pod_sandbox_id();
  }
  v1::StartContainerRequest start;
  start.set_container_id(created.container_id());
  v1::StartContainerResponse started;
  auto c3 = client.context();
  if (auto s = client.runtime->StartContainer(c3.get(), start, &started); !s.ok()) {
    error = "StartContainer: " + describe(s);
  }
  return pod.pod_sandbox_id();
}

}  // namespace

int bench(Client& client, const std::vector<std::string>& args) {
  Options o;
  if (!parse(args, o)) {
    std::cerr << "usage: hippo-cri bench --handler H [--pods N] [--parallel P] [--image I] "
                 "[--cgroup-parent C] [--prefix X] [--cpu-of CONTAINERD_PID]\n";
    return 2;
  }
  std::vector<double> ms(static_cast<size_t>(o.pods), 0);
  std::vector<std::string> ids(static_cast<size_t>(o.pods));
  std::atomic<int> next{0};
  std::mutex mu;
  std::string first_error;
  auto worker = [&] {
    for (int n; (n = next++) < o.pods;) {
      std::string error;
      const auto t0 = std::chrono::steady_clock::now();
      auto id = run_one(client, o, n, error);
      const auto t1 = std::chrono::steady_clock::now();
      ms[static_cast<size_t>(n)] = std::chrono::duration<double, std::milli>(t1 - t0).count();
      ids[static_cast<size_t>(n)] = id;
      if (!error.empty()) {
        std::lock_guard lock(mu);
        if (first_error.empty()) first_error = error;
      }
    }
  };
  const Cpu cpu0 = read_cpu(o.cpu_of);
  rusage self0{};
  ::getrusage(RUSAGE_SELF, &self0);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.parallel; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  const double wall =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  const Cpu cpu1 = read_cpu(o.cpu_of);
  rusage self1{};
  ::getrusage(RUSAGE_SELF, &self1);
  const auto tv_ms = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
  const double client_ms =
      tv_ms(self1.ru_utime) + tv_ms(self1.ru_stime) - tv_ms(self0.ru_utime) - tv_ms(self0.ru_stime);
  for (const auto& id : ids) {
    if (id.empty()) continue;
    if (auto error = stop_and_remove_pod(client, id); !error.empty() && first_error.empty()) {
      first_error = error;
    }
  }
  if (!first_error.empty()) {
    std::cerr << "hippo-cri: bench: " << first_error << "\n";
    return 1;
  }
  auto sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const size_t mid = sorted.size() / 2;
  const double median = sorted.size() % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  std::cout << "{\"handler\":\"" << o.handler << "\",\"pods\":" << o.pods
            << ",\"parallel\":" << o.parallel << ",\"median_ms\":" << median
            << ",\"wall_ms\":" << wall;
  // CPU spent while the pods started, per pod: the machine's, containerd's with the children
  // it reaped (CNI plugins, the shims' `start`), and this client's.
  const double per = 1.0 / o.pods;
  std::cout << ",\"cpu_ms_per_pod\":{\"machine\":" << (cpu1.machine - cpu0.machine) * per
            << ",\"client\":" << client_ms * per;
  if (o.cpu_of > 0) std::cout << ",\"containerd\":" << (cpu1.process - cpu0.process) * per;
  std::cout << "},\"ms\":[";
  for (size_t i = 0; i < ms.size(); ++i) std::cout << (i ? "," : "") << ms[i];
  std::cout << "]}\n";
  return 0;
}

}  // namespace hippo::cri
