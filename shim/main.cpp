// containerd-shim-hippo-v2: containerd's shim v2 binary for runtime type io.containerd.hippo.v2.
// This is the skeleton of the foundation step: it answers -v/-version and refuses everything else
// with one clear line, so that containerd reports a readable error instead of hanging.

#include <iostream>
#include <string_view>

#include "hippo/version.hpp"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-v" || a == "--v" || a == "-version" || a == "--version") {
      std::cout << "containerd-shim-hippo-v2:\n"
                << "  Version:  " << hippo::kVersion << "\n"
                << "  Revision: " << hippo::kGitCommit << "\n"
                << "  Go version: none (C++)\n";
      return 0;
    }
  }
  std::cerr << "containerd-shim-hippo-v2: not implemented yet: the Task API server is not built "
               "yet; only -v works\n";
  return 1;
}
