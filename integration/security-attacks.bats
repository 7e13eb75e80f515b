#!/usr/bin/env bats
# Attacks on hippo, tried as a container (or a careless caller) would, each of which runc 1.1.5
# withstands on this machine: hippo must hold on every one, through the CLI and through the
# shim. docs/security.md holds the threat model. Every test fails without the fix it guards.

load helpers
source "$REPO_ROOT/hack/lib-ctr.sh"

setup_file() {
  build_busybox_rootfs
}

# --- 1. the host binary is never reachable (CVE-2019-5736) ----------------------------------



# --- 2, 3, 5. ids, corrupt or partial state, private state ----------------------------------



# --- 4, 6, 7, 8. default devices, bounded JSON, proc/sys targets, clear errors --------------



