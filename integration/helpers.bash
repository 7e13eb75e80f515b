# Shared helpers for hippo's Bats suites. Suites are run by hack/run-tests.sh, which exports
# HIPPO_BIN, HIPPO_SHIM and HIPPO_BUILD; run alone, they default to ./build.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HIPPO_BUILD=${HIPPO_BUILD:-$REPO_ROOT/build}
HIPPO_BIN=${HIPPO_BIN:-$HIPPO_BUILD/bin/hippo}
HIPPO_SHIM=${HIPPO_SHIM:-$HIPPO_BUILD/bin/containerd-shim-hippo-v2}
export REPO_ROOT HIPPO_BUILD HIPPO_BIN HIPPO_SHIM

# hippo with a private state root and no system config, so tests never touch /run/hippo or
# /etc/hippo and never see each other's containers.
hippo() {
  HIPPO_CONFIG=${HIPPO_TEST_CONFIG:-/dev/null} "$HIPPO_BIN" --root "$BATS_TEST_TMPDIR/state" "$@"
}

# A bundle dir holding `hippo spec`'s config.json and an empty rootfs.
make_bundle() {
  local dir=$1
  mkdir -p "$dir/rootfs"
  (cd "$dir" && hippo spec)
}
