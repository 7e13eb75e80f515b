#include "commands.hpp"

#include <cstdlib>
#include <iostream>

namespace hippo::cri {

namespace v1 = runtime::v1;

int exec_sync(Client& client, const std::vector<std::string>& args) {
  v1::ExecSyncRequest request;
  size_t i = 0;
  for (; i < args.size() && args[i] != "--"; ++i) {
    if (args[i] == "--timeout" && i + 1 < args.size()) {
      request.set_timeout(std::strtol(args[++i].c_str(), nullptr, 10));
    } else if (request.container_id().empty()) {
      request.set_container_id(args[i]);
    } else {
      std::cerr << "hippo-cri: exec-sync: unexpected " << args[i]
                << " (put the command after --)\n";
      return 2;
    }
  }
  if (request.container_id().empty() || i + 1 >= args.size()) {
    std::cerr << "usage: hippo-cri exec-sync ID [--timeout S] -- CMD...\n";
    return 2;
  }
  for (++i; i < args.size(); ++i) request.add_cmd(args[i]);
  v1::ExecSyncResponse response;
  auto ctx = client.context();
  auto status = client.runtime->ExecSync(ctx.get(), request, &response);
  if (!status.ok()) {
    std::cerr << "hippo-cri: ExecSync: " << describe(status) << "\n";
    return 1;
  }
  std::cout << response.stdout() << std::flush;
  std::cerr << response.stderr() << std::flush;
  return response.exit_code();
}

std::string stop_and_remove_pod(Client& client, const std::string& id) {
  v1::StopPodSandboxRequest stop;
  stop.set_pod_sandbox_id(id);
  v1::StopPodSandboxResponse stopped;
  auto c1 = client.context();
  if (auto status = client.runtime->StopPodSandbox(c1.get(), stop, &stopped); !status.ok()) {
    return "StopPodSandbox " + id + ": " + describe(status);
  }
  v1::RemovePodSandboxRequest remove;
  remove.set_pod_sandbox_id(id);
  v1::RemovePodSandboxResponse removed;
  auto c2 = client.context();
  if (auto status = client.runtime->RemovePodSandbox(c2.get(), remove, &removed); !status.ok()) {
    return "RemovePodSandbox " + id + ": " + describe(status);
  }
  return "";
}

int remove_all_pods(Client& client) {
  v1::ListPodSandboxRequest list;
  v1::ListPodSandboxResponse pods;
  auto ctx = client.context();
  if (auto status = client.runtime->ListPodSandbox(ctx.get(), list, &pods); !status.ok()) {
    std::cerr << "hippo-cri: ListPodSandbox: " << describe(status) << "\n";
    return 1;
  }
  int rc = 0;
  for (const auto& pod : pods.items()) {
    if (auto error = stop_and_remove_pod(client, pod.id()); !error.empty()) {
      std::cerr << "hippo-cri: " << error << "\n";
      rc = 1;
    }
  }
  std::cout << "{\"removed\": " << pods.items_size() << "}\n";
  return rc;
}

}  // namespace hippo::cri
