#!/usr/bin/env bash
# Fails if the shim binary links code that every shim daemon (one per pod) would map for
# nothing (docs/architecture.md, "Shim memory"):
#   - iostreams or std::locale (~0.3 MB of libstdc++): use oci-spec/file_io.hpp;
#   - std::filesystem (~90 kB): use the directory and path helpers of oci-spec/file_io.hpp;
#   - spdlog or fmt (~135 kB): use hippo::log (runtime/logging.hpp);
#   - libstdc++'s floating-point from_chars (links libm): use strtod;
#   - any shared library but libc and the dynamic loader (libm, libstdc++, libsystemd …):
#     libsystemd is dlopen'ed by the code that needs it.
# Run by CTest (shim_footprint).
set -euo pipefail
bin=${1:?usage: $0 SHIM_BINARY}
failed=0

check_symbols() {  # check_symbols WHAT REGEX ADVICE
  local found
  found=$(nm -C "$bin" | grep -E "$2" | head -5 || true)
  if [[ -n $found ]]; then
    echo "$bin links $1 ($3):" >&2
    echo "$found" >&2
    failed=1
  fi
}

check_symbols "iostreams/locale code" \
  ' (std::(__cxx11::)?basic_(i|o|io|string)stream<|std::locale::|YAML::)' "use oci-spec/file_io.hpp"
check_symbols "std::filesystem" ' std::filesystem::' "use the helpers of oci-spec/file_io.hpp"
check_symbols "spdlog or fmt" ' (spdlog::|fmt::)' "use hippo::log from runtime/logging.hpp"
check_symbols "libstdc++'s floating-point from_chars" ' std::from_chars\(.*(double|float)&' "use strtod"

needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -vE '^(libc\.so\.6|ld-linux-x86-64\.so\.2)$' || true)
if [[ -n $needed ]]; then
  echo "$bin needs shared libraries besides libc:" $needed >&2
  failed=1
fi

((failed == 0)) || exit 1
echo "$bin: no iostreams, locale, filesystem, spdlog/fmt or floating from_chars code; needs only libc"
