#!/usr/bin/env bash
# Fails if the shim binary links iostreams or std::locale: any <fstream>/<sstream>/<iostream>
# use pulls ~0.3 MB of libstdc++'s locale code into every shim process (one per pod). Use
# oci-spec/file_io.hpp instead. Run by CTest (shim_links_no_iostreams).
set -euo pipefail
bin=${1:?usage: $0 SHIM_BINARY}
found=$(nm -C "$bin" | grep -E ' (std::(__cxx11::)?basic_(i|o|io|string)stream<|std::locale::|YAML::)' | head -5 || true)
if [[ -n $found ]]; then
  echo "$bin links iostreams/locale code (use oci-spec/file_io.hpp):" >&2
  echo "$found" >&2
  exit 1
fi
echo "$bin: no iostream or std::locale code linked"
