// hippo-cri: calls containerd's CRI (runtime.v1) over gRPC and prints JSON.
//
//   hippo-cri [--endpoint unix:///path.sock] [--timeout SECONDS] METHOD [JSON | @FILE | -]
//   hippo-cri [...] exec-sync ID [--timeout S] -- CMD...
//   hippo-cri [...] remove-all-pods
//   hippo-cri [...] bench --handler H [--pods N] [--parallel P] ...
//   hippo-cri methods
//
// The endpoint defaults to $CRI_ENDPOINT, else containerd's unix:///run/containerd/containerd.sock.
// A failed call prints one line "hippo-cri: METHOD: CODE: message" on stderr and exits 1.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "rpc_table.hpp"

namespace {

int usage() {
  std::cerr << "usage: hippo-cri [--endpoint E] [--timeout S] METHOD [JSON|@FILE|-] | exec-sync ID "
               "[--timeout S] -- CMD... | remove-all-pods | bench --handler H ... | methods\n";
  return 2;
}

bool read_request(const std::string& arg, std::string& out) {
  if (arg == "-") {
    std::ostringstream s;
    s << std::cin.rdbuf();
    out = s.str();
    return true;
  }
  if (!arg.empty() && arg.front() == '@') {
    std::ifstream in(arg.substr(1));
    if (!in) return false;
    std::ostringstream s;
    s << in.rdbuf();
    out = s.str();
    return true;
  }
  out = arg;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* env = std::getenv("CRI_ENDPOINT");
  std::string endpoint = env && *env ? env : "unix:///run/containerd/containerd.sock";
  long timeout = 60;
  size_t i = 0;
  for (; i < args.size() && args[i].starts_with("--"); ++i) {
    if (args[i] == "--endpoint" && i + 1 < args.size()) {
      endpoint = args[++i];
    } else if (args[i] == "--timeout" && i + 1 < args.size()) {
      timeout = std::strtol(args[++i].c_str(), nullptr, 10);
      if (timeout <= 0) return usage();
    } else {
      return usage();
    }
  }
  if (i >= args.size()) return usage();
  const std::string command = args[i++];
  std::vector<std::string> rest(args.begin() + static_cast<long>(i), args.end());

  if (command == "methods") {
    for (auto name : hippo::cri::method_names()) std::cout << name << "\n";
    return 0;
  }
  hippo::cri::Client client(endpoint, std::chrono::seconds(timeout));
  if (command == "exec-sync") return hippo::cri::exec_sync(client, rest);
  if (command == "remove-all-pods") return hippo::cri::remove_all_pods(client);
  if (command == "bench") return hippo::cri::bench(client, rest);

  if (rest.size() > 1) return usage();
  std::string request = "{}";
  if (!rest.empty() && !read_request(rest[0], request)) {
    std::cerr << "hippo-cri: " << command << ": cannot read " << rest[0].substr(1) << "\n";
    return 1;
  }
  auto result = hippo::cri::call_json(client, command, request);
  if (!result.ok) {
    std::cerr << "hippo-cri: " << command << ": " << result.output << "\n";
    return 1;
  }
  std::cout << result.output << "\n";
  return 0;
}
