#!/usr/bin/env bash
# Builds hippo's libFuzzer targets (fuzz/*.cpp) with ASan, UBSan and libstdc++'s assertions
# into BUILD_DIR/fuzz/, runs each for FUZZ_SECONDS and prints one summary line per target.
# Non-zero exit when a target crashes, leaks or fails a check (its input is kept as
# BUILD_DIR/fuzz/<target>-crash-*); the other targets still run.
#
# Compiler: Debian 12's clang-16 (package clang-16, libFuzzer and the sanitizer runtimes in
# libclang-rt-16-dev) against the system's libstdc++ 12, so the fuzzers link the same
# yaml-cpp, libseccomp and protobuf-c as hippo. libstdc++ 12 offers std::expected (hippo::Result)
# only when __cpp_concepts >= 202002L, which clang 16 does not announce although it implements
# what <expected> needs from it (P0848, conditionally trivial special members); clang 14 does
# not, so it cannot compile hippo's sources at all. Hence -D__cpp_concepts=202002L below.
# g++ has no libFuzzer, and libc++'s std::expected would not link against the system's
# libstdc++-built libraries.
#
# Usage: [FUZZ_SECONDS=10] [FUZZ_TARGETS="oci_config mountinfo"] hack/fuzz.sh [BUILD_DIR]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$root/build}" && cd "${1:-$root/build}" && pwd)/fuzz
seconds=${FUZZ_SECONDS:-10}
cxx=${FUZZ_CXX:-clang++-16}
cc=${FUZZ_CC:-clang-16}

# Each target's sources besides fuzz/<target>.cpp, and the libraries it links: the one place to
# change when files move.
declare -A sources=(
  [ttrpc_frame]="shim/ttrpc/codec.cpp shim/ttrpc/messages.cpp"
  [oci_config]="oci-spec/config.cpp oci-spec/default_spec.cpp base/file_io.cpp base/userns.cpp
    oci-spec/json_codec.cpp oci-spec/names.cpp oci-spec/validate.cpp
    runtime/linux/capability_sets.cpp runtime/linux/idmapped_mount.cpp runtime/linux/init_plan.cpp runtime/linux/plan_mounts.cpp
    runtime/linux/lsm.cpp runtime/linux/passwd_home.cpp base/mount_options.cpp base/mountinfo.cpp
    runtime/linux/seccomp_program.cpp runtime/linux/seccomp_enosys.cpp"
  [config_yaml]="runtime/config.cpp base/file_io.cpp"
  [mountinfo]="base/mountinfo.cpp base/file_io.cpp"
  [systemd_annotations]="runtime/cgroups/systemd_properties.cpp runtime/cgroups/devices.cpp
    runtime/cgroups/resources.cpp base/file_io.cpp"
  [device_filter]="runtime/cgroups/device_filter.cpp runtime/cgroups/devices.cpp
    base/file_io.cpp"
  [cdi_spec]="runtime/cdi/annotations.cpp runtime/cdi/qualified_name.cpp runtime/cdi/spec_check.cpp
    runtime/cdi/spec_decode.cpp runtime/cdi/spec_file.cpp runtime/cdi/versions.cpp
    runtime/cdi/yaml_json.cpp base/file_io.cpp"
)
declare -A libs=(
  [ttrpc_frame]="protobuf-c"
  [oci_config]="-lseccomp"
  [config_yaml]="-lyaml-cpp"
  [cdi_spec]="-lyaml-cpp"
)
all_targets="ttrpc_frame oci_config config_yaml mountinfo systemd_annotations device_filter cdi_spec"
read -r -a targets <<<"${FUZZ_TARGETS:-$all_targets}"

for tool in "$cxx" "$cc" protoc-c pkg-config; do
  command -v "$tool" >/dev/null || { echo "fuzz: $tool is missing (hack/install-deps.sh installs it)" >&2; exit 1; }
done
launcher=()
command -v ccache >/dev/null && launcher=(ccache)

sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -g -O1)
cxxflags=(-std=c++2b -U__cpp_concepts -D__cpp_concepts=202002L -D_GLIBCXX_ASSERTIONS
  -Wall -Wextra -Werror -I "$root")
mkdir -p "$out/obj"

# Compiles one file into $out/obj (once per run; ccache makes a rerun cheap).
declare -A built=()
object() {  # source-path-relative-to-root extra-flags... -> prints the object's path
  local src=$1 obj=$out/obj/${1//\//_}.o
  shift
  if [[ -z ${built[$obj]:-} ]]; then
    "${launcher[@]}" "$cxx" "${cxxflags[@]}" "${sanitize[@]}" -fsanitize=fuzzer-no-link "$@" \
      -c "$root/$src" -o "$obj" >&2
    built[$obj]=1
  fi
  echo "$obj"
}

# The ttrpc messages' protobuf-c code, generated from shim/proto.
gen=$out/gen
pbc_objs=()
protobuf_c() {
  local protos=(google/protobuf/any.proto google/rpc/status.proto ttrpc/request.proto)
  mkdir -p "$gen"
  (cd "$root/shim/proto" && protoc-c --c_out="$gen" -I . "${protos[@]}")
  read -r -a pbc_cflags <<<"$(pkg-config --cflags libprotobuf-c)"
  for p in "${protos[@]}"; do
    local obj=$out/obj/$(basename "${p%.proto}").pb-c.o
    "${launcher[@]}" "$cc" "${sanitize[@]}" -fsanitize=fuzzer-no-link -w -I "$gen" "${pbc_cflags[@]}" \
      -c "$gen/${p%.proto}.pb-c.c" -o "$obj"
    pbc_objs+=("$obj")
  done
}

build_target() {
  local t=$1 objs=() link=() src
  local extra=()
  if [[ ${libs[$t]:-} == protobuf-c ]]; then
    protobuf_c
    extra=(-I "$gen")
    read -r -a link <<<"$(pkg-config --libs libprotobuf-c)"
    objs+=("${pbc_objs[@]}")
  else
    read -r -a link <<<"${libs[$t]:-}"
  fi
  for src in fuzz/$t.cpp ${sources[$t]}; do
    objs+=("$(object "$src" "${extra[@]}")")
  done
  "$cxx" "${sanitize[@]}" -fsanitize=fuzzer "${objs[@]}" "${link[@]}" -o "$out/$t"
}

# What oci_config's specs find on disk: a bundle whose rootfs has the usual directories.
bundle=$out/bundle
mkdir -p "$bundle"/rootfs/{bin,dev,etc,proc,sys,tmp}
touch "$bundle/hosts" "$bundle/rootfs/etc/hosts"
printf '#!/bin/sh\n' >"$bundle/rootfs/bin/sh"
chmod 755 "$bundle/rootfs/bin/sh"

status=0
for t in "${targets[@]}"; do
  [[ -n ${sources[$t]+x} ]] || { echo "fuzz: no target $t (have: $all_targets)" >&2; exit 2; }
  if ! build_target "$t"; then
    echo "fuzz: $t: FAILED to build"
    status=1
    continue
  fi
  # New inputs go to the first corpus directory, outside the tree; the tree's seeds are read only.
  mkdir -p "$out/corpus/$t"
  seeds=()
  [[ -d $root/fuzz/corpus/$t ]] && seeds=("$root/fuzz/corpus/$t")
  log=$out/$t.log
  set +e
  HIPPO_FUZZ_BUNDLE=$bundle "$out/$t" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout="${FUZZ_TIMEOUT:-30}" -artifact_prefix="$out/$t-" \
    "$out/corpus/$t" "${seeds[@]}" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  corpus=$(find "$out/corpus/$t" "${seeds[@]}" -type f | wc -l)
  if [[ $rc -eq 0 ]]; then
    echo "fuzz: $t: ok: ${execs:-?} execs in ${seconds}s (${rate:-?}/s), corpus $corpus inputs"
  else
    tail -30 "$log" >&2
    echo "fuzz: $t: FAILED (exit $rc) after ${execs:-?} execs; input kept as $out/$t-*; log $log"
    status=1
  fi
done
exit $status
