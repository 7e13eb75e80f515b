#pragma once
// Every CDI spec file of a list of directories, loaded once, and the devices they define indexed
// by fully-qualified name. Follows the reference's cache (pkg/cdi/cache.go, spec-dirs.go):
//  - directories are read in list order; a later directory has a higher priority, and its
//    definition of a device overrides an earlier one's (default list: /etc/cdi, /var/run/cdi);
//  - within a directory files are read in name order, only "*.json" and "*.yaml";
//  - two files of the same priority defining the same device is a conflict: the device is
//    dropped (unresolvable) and the conflict is recorded against both files;
//  - a file that fails to read or check is recorded with its error and skipped, so one broken
//    vendor file hides no other vendor's devices. A missing directory is not an error.

#include <map>
#include <string>
#include <vector>

#include "runtime/cdi/spec_file.hpp"

namespace hippo::cdi {

// The default search list, lowest priority first.
const std::vector<std::string>& default_spec_dirs();

struct DeviceRef {
  size_t spec = 0;    // index into Registry::specs
  size_t device = 0;  // index into that spec's devices
};

// One problem, with the file (or directory) it is about.
struct LoadError {
  std::string path;
  std::string message;  // the full line, starting with the path
  bool skipped = true;  // the file (or directory) was not read; false for a conflict
};

struct Registry {
  std::vector<std::string> dirs;
  std::vector<SpecFile> specs;                                // every spec file that loaded
  std::map<std::string, DeviceRef> devices;                   // qualified name -> definition in use
  std::map<std::string, std::vector<std::string>> conflicts;  // dropped name -> the files
  std::vector<LoadError> errors;                              // in the order met

  // The qualified names of the usable devices, sorted (what `hippo cdi list` shows).
  std::vector<std::string> device_names() const;
  // The errors recorded against `path` (a spec file or a directory).
  std::vector<std::string> errors_for(const std::string& path) const;
};

Registry load_registry(const std::vector<std::string>& dirs);

}  // namespace hippo::cdi
