#!/usr/bin/env bats
# The foundation's CLI surface: spec, features, validate, version, and create's config errors.

load ../helpers

setup() {
  BUNDLE=$BATS_TEST_TMPDIR/bundle
}

@test "hippo --version names version, commit, spec and libseccomp" {
  run hippo --version
  [ "$status" -eq 0 ]
  [[ ${lines[0]} =~ ^hippo\ version\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
  [[ ${lines[1]} == commit:* ]]
  [ "${lines[2]}" = "spec: 1.2.0" ]
  [[ ${lines[3]} =~ ^libseccomp:\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
  run hippo -v
  [ "$status" -eq 0 ]
}

@test "hippo spec writes a config.json that jq parses and hippo reads back identically" {
  mkdir -p "$BUNDLE/rootfs"
  cd "$BUNDLE"
  run hippo spec
  [ "$status" -eq 0 ]
  jq -e '.ociVersion == "1.2.0" and .process.args == ["sh"] and .root.path == "rootfs"' config.json
  hippo validate --print >printed.json
  diff <(jq -S . config.json) <(jq -S . printed.json)
  # Byte-identical too: the writer is deterministic.
  cmp config.json printed.json
}

@test "hippo spec --bundle writes there and refuses to overwrite" {
  mkdir -p "$BUNDLE"
  run hippo spec --bundle "$BUNDLE"
  [ "$status" -eq 0 ]
  [ -f "$BUNDLE/config.json" ]
  run hippo spec -b "$BUNDLE"
  [ "$status" -eq 1 ]
  [[ $output == *"$BUNDLE/config.json exists. Remove it first"* ]]
}

@test "hippo spec --rootless maps the caller and drops the network namespace" {
  mkdir -p "$BUNDLE"
  hippo spec --rootless --bundle "$BUNDLE"
  jq -e '.linux.uidMappings[0].hostID == 0 and .linux.uidMappings[0].size == 1' "$BUNDLE/config.json"
  jq -e '[.linux.namespaces[].type] | index("user") != null and index("network") == null' \
    "$BUNDLE/config.json"
}

@test "runc's own default config round-trips through hippo" {
  command -v runc >/dev/null || skip "runc is not installed (hack/install-deps.sh installs it)"
  mkdir -p "$BUNDLE/rootfs"
  (cd "$BUNDLE" && runc spec)
  hippo validate --bundle "$BUNDLE" --print >"$BATS_TEST_TMPDIR/printed.json"
  diff <(jq -S . "$BUNDLE/config.json") <(jq -S . "$BATS_TEST_TMPDIR/printed.json")
}

@test "hippo features is runtime-spec features JSON" {
  run hippo features
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.ociVersionMin == "1.0.0" and .ociVersionMax == "1.2.0"'
  echo "$output" | jq -e '.hooks | length == 6'
  echo "$output" | jq -e '.linux.namespaces | index("time") != null'
  echo "$output" | jq -e '.linux.capabilities | index("CAP_SYS_ADMIN") != null'
  echo "$output" | jq -e '.annotations["io.github.seccomp.libseccomp.version"] | test("^[0-9]+\\.")'
}

@test "create reports a string memory limit by its JSON path" {
  make_bundle "$BUNDLE"
  jq '.linux.resources.memory = {"limit": "1G"}' "$BUNDLE/config.json" >"$BUNDLE/c.json"
  mv "$BUNDLE/c.json" "$BUNDLE/config.json"
  run hippo create --bundle "$BUNDLE" c1
  [ "$status" -eq 1 ]
  [ "$output" = 'hippo: config.json: linux.resources.memory.limit: expected an integer, got string "1G"' ]
  run hippo run -b "$BUNDLE" c1
  [ "$status" -eq 1 ]
  [[ $output == *"linux.resources.memory.limit"* ]]
}

@test "create names an unknown namespace and a missing rootfs" {
  make_bundle "$BUNDLE"
  jq '.linux.namespaces[2].type = "pidd"' "$BUNDLE/config.json" >"$BUNDLE/c.json"
  mv "$BUNDLE/c.json" "$BUNDLE/config.json"
  run hippo create -b "$BUNDLE" c2
  [ "$status" -eq 1 ]
  [ "$output" = 'hippo: invalid configuration: config.json: linux.namespaces[2].type: unknown namespace "pidd"' ]

  rm -rf "$BUNDLE" && make_bundle "$BUNDLE" && rmdir "$BUNDLE/rootfs"
  run hippo create -b "$BUNDLE" c2
  [ "$status" -eq 1 ]
  [ "$output" = "hippo: config.json: root.path: rootfs $BUNDLE/rootfs: No such file or directory" ]
}

@test "create refuses a bad container id before touching anything" {
  make_bundle "$BUNDLE"
  run hippo create -b "$BUNDLE" 'bad/id'
  [ "$status" -eq 1 ]
  [[ $output == 'hippo: invalid container ID format: "bad/id" ('* ]]
  [ ! -e "$BATS_TEST_TMPDIR/state/bad" ]
}

@test "--log --log-format json writes runc's JSON error line for engines" {
  make_bundle "$BUNDLE"
  jq '.process.cwd = "relative"' "$BUNDLE/config.json" >"$BUNDLE/c.json"
  mv "$BUNDLE/c.json" "$BUNDLE/config.json"
  log=$BATS_TEST_TMPDIR/hippo.log
  run hippo --log "$log" --log-format json create -b "$BUNDLE" c4
  [ "$status" -eq 1 ]
  [[ $output == *'process.cwd: must be an absolute path'* ]]
  jq -e 'select(.level == "error") | .msg | test("^invalid configuration: config.json: process.cwd: must be an absolute path")' "$log"
  jq -e '.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' "$log"
}

@test "commands on an unknown container say so" {
  for cmd in start state delete pause resume events update; do
    run hippo "$cmd" some-id
    [ "$status" -eq 1 ]
    [ "$output" = 'hippo: container "some-id" does not exist' ]
  done
  # exec's runtime errors exit 255, as runc's do (a caller tells them from the process's own).
  run hippo exec some-id sh -c true
  [ "$status" -eq 255 ]
  [ "$output" = 'hippo: container "some-id" does not exist' ]
  run hippo list
  [ "$status" -eq 0 ]
}

@test "usage errors are one clear line" {
  run hippo frobnicate
  [ "$status" -eq 1 ]
  [ "$output" = 'hippo: unknown command "frobnicate" (see hippo --help)' ]
  run hippo create
  [ "$status" -eq 1 ]
  [ "$output" = 'hippo: create: expects exactly 1 argument(s): <container-id>, got 0' ]
  run hippo create --bundel x id
  [ "$status" -eq 1 ]
  [ "$output" = 'hippo: create: flag provided but not defined: -bundel' ]
  run hippo --log-format xml features
  [ "$status" -eq 1 ]
  [ "$output" = 'hippo: --log-format: must be "text" or "json", got "xml"' ]
}

@test "a bad config.yaml is reported with its path and key" {
  cfg=$BATS_TEST_TMPDIR/config.yaml
  printf 'backend: native\nstate_rooot: /x\n' >"$cfg"
  run env HIPPO_CONFIG="$cfg" "$HIPPO_BIN" features
  [ "$status" -eq 1 ]
  [ "$output" = "hippo: $cfg: unknown key \"state_rooot\" (line 2)" ]
  run "$HIPPO_BIN" --config "$cfg" features
  [ "$status" -eq 1 ]
  [[ $output == *'unknown key "state_rooot"'* ]]
}

@test "containerd-shim-hippo-v2 answers -v" {
  run "$HIPPO_SHIM" -v
  [ "$status" -eq 0 ]
  [[ $output == *"Version:"* ]]
}
