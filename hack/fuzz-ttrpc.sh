#!/usr/bin/env bash
# Builds the ttrpc fuzzer (shim/ttrpc/fuzz/frame_fuzzer.cpp: frame decoder + Request/Response
# decoding) with clang's libFuzzer, ASan and UBSan into BUILD_DIR/fuzz/, runs it for a bounded
# time and prints one summary line. Non-zero exit on a crash (the input is kept as crash-*).
# Needs only clang and libprotobuf-c-dev (protoc-c). C++20: clang 14 with libstdc++ 12 has no
# std::expected, so only the <expected>-free codec.cpp and messages.cpp are compiled in.
# Usage: [FUZZ_SECONDS=20] hack/fuzz-ttrpc.sh [BUILD_DIR]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$(cd "${1:-$root/build}" && pwd)/fuzz
gen=$out/gen
seconds=${FUZZ_SECONDS:-20}
mkdir -p "$gen" "$out/corpus"

protos=(google/protobuf/any.proto google/rpc/status.proto ttrpc/request.proto)
(cd "$root/shim/proto" && protoc-c --c_out="$gen" -I . "${protos[@]}")

read -r -a pbc_cflags <<<"$(pkg-config --cflags libprotobuf-c)"
read -r -a pbc_libs <<<"$(pkg-config --libs libprotobuf-c)"
sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -g -O1)
objs=()
for p in "${protos[@]}"; do
  obj=$out/$(basename "${p%.proto}").pb-c.o
  clang "${sanitize[@]}" -fsanitize=fuzzer-no-link -w -I "$gen" "${pbc_cflags[@]}" \
    -c "$gen/${p%.proto}.pb-c.c" -o "$obj"
  objs+=("$obj")
done
clang++ -std=c++20 "${sanitize[@]}" -fsanitize=fuzzer -Wall -Wextra -Werror \
  -I "$root" -I "$gen" "${pbc_cflags[@]}" \
  "$root/shim/ttrpc/fuzz/frame_fuzzer.cpp" "$root/shim/ttrpc/codec.cpp" \
  "$root/shim/ttrpc/messages.cpp" "${objs[@]}" "${pbc_libs[@]}" -o "$out/frame_fuzzer"

# Seed: the Connect request from shim-protocol.md §3.2 (first byte: the fuzzer's read size),
# and the same frame twice in a row.
if [[ -z $(ls -A "$out/corpus") ]]; then
  connect='\x00\x00\x00\x50\x00\x00\x00\x01\x01\x00\x0a\x17containerd.task.v2.Task\x12\x07Connect'
  connect+='\x1a\x05\x0a\x03abc\x2a\x25\x0a\x1acontainerd-namespace-ttrpc\x12\x07default'
  printf '\x07%b' "$connect" >"$out/corpus/connect"
  printf '\x03%b%b' "$connect" "$connect" >"$out/corpus/connect-twice"
fi

log=$out/fuzz.log
set +e
"$out/frame_fuzzer" -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix="$out/" "$out/corpus" >"$log" 2>&1
rc=$?
set -e
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
corpus=$(find "$out/corpus" -type f | wc -l)
if [[ $rc -eq 0 ]]; then
  echo "fuzz-ttrpc: ok: ${execs:-?} execs in ${seconds}s, corpus $corpus inputs (log: $log)"
else
  tail -40 "$log" >&2
  echo "fuzz-ttrpc: FAILED (exit $rc) after ${execs:-?} execs; crash input in $out/ (log: $log)"
fi
exit $rc
