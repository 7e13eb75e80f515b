// spec, features, validate: the commands that work on documents, not containers.

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "oci-spec/config.hpp"
#include "runtime/bundle.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/features.hpp"

namespace hippo::cli {
namespace {

// Creates `path` only if it does not exist (O_EXCL), like runc, so an existing config survives.
Result<void> write_new_file(const std::filesystem::path& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return fail("File " + path.string() + " exists. Remove it first", EEXIST);
    return fail_errno("create " + path.string());
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return fail_errno("write " + path.string(), err);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return fail_errno("close " + path.string());
  return {};
}

}  // namespace

Result<int> run_spec(const Context&, const ParsedFlags& flags) {
  const std::filesystem::path bundle = flags.value_or("bundle", ".");
  const auto spec = spec::default_spec(flags.enabled("rootless"), ::getuid(), ::getgid());
  if (auto ok = write_new_file(bundle / "config.json", spec::serialize(spec)); !ok) {
    return std::unexpected(ok.error());
  }
  return 0;
}

Result<int> run_features(const Context&, const ParsedFlags&) {
  std::cout << spec::to_json(runtime::host_features()).dump(4) << "\n";
  return 0;
}

Result<int> run_validate(const Context&, const ParsedFlags& flags) {
  auto bundle = runtime::load_bundle(flags.value_or("bundle", "."));
  if (!bundle) return std::unexpected(bundle.error());
  if (flags.enabled("print")) {
    std::cout << spec::serialize(bundle->spec);
  } else {
    std::cout << bundle->dir + "/config.json"
              << ": valid\n";
  }
  return 0;
}

}  // namespace hippo::cli
