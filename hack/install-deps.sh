#!/usr/bin/env bash
# Installs every build and test dependency of hippo from Debian's archive.
# Idempotent, and silent when everything is already installed.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config git
  libprotobuf-c-dev protobuf-c-compiler
  libgrpc++-dev libprotobuf-dev protobuf-compiler-grpc
  nlohmann-json3-dev
  # config.yaml and logging: yaml-cpp, and spdlog over Debian's external fmt (header-only use)
  libyaml-cpp-dev libspdlog-dev libfmt-dev
  libsystemd-dev libseccomp-dev libcap-dev
  # tests
  libgtest-dev libgmock-dev bats jq busybox-static runc containerd
  tar gzip coreutils util-linux procps hyperfine crun
  # node-shim.bats kills the node daemon at one exact syscall (strace -e inject)
  strace
  # the CRI suites (hack/cri-env.sh): a loopback registry, CNI plugins, ip netns
  docker-registry containernetworking-plugins iproute2
  # the Docker suite (integration/docker.bats): Docker 20.10's daemon and client (tini is its --init)
  docker.io
  # the systemd sandbox (hack/systemd-sandbox.sh): systemd as its PID 1, the system bus
  systemd dbus
  # the fuzz targets (hack/fuzz.sh): clang 16 with libFuzzer and the sanitizer runtimes
  clang-16 libclang-rt-16-dev
  # the static checks (hack/lint.sh): the same LLVM 16
  clang-format-16 clang-tidy-16
  # the cgroup v2 VM (hack/cg2vm-image.sh, hack/cg2vm-run.sh; make test-cgroup2)
  qemu-system-x86 qemu-utils mmdebstrap e2fsprogs cpio kmod xz-utils
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
# Packages like containerd and docker-registry start daemons from their maintainer scripts;
# tests run their own private instances, so keep the system ones stopped while installing.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=true
fi
trap '$own_policy && rm -f "$policy"' EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
