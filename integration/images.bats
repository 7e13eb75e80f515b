#!/usr/bin/env bats
# Test images built by hack/make-test-images.sh, and that a private
# containerd started by hack/private-containerd.sh can import and run them.
# Run from the repo root, as root: bats integration/images.bats

bats_require_minimum_version 1.5.0

# Build once per file: the build takes a few seconds and every test only
# reads the result.
setup_file() {
	REPO_ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	IMAGES=$BATS_FILE_TMPDIR/images
	IMAGE=${HIPPO_TEST_IMAGE:-docker.io/hippo/busybox:latest}
	export REPO_ROOT IMAGES IMAGE
	"$REPO_ROOT/hack/make-test-images.sh" "$IMAGES" >/dev/null
}

setup() {
	# Unique per test (and per bats run) so tests never share state.
	TEST_ID=$$-$BATS_TEST_NUMBER
	NS=hippo-test-$TEST_ID
	CID=hippo-img-$TEST_ID
	CTRD_DIR=
}

teardown() {
	local rc=0
	if [[ -n $CTRD_DIR ]]; then
		"$REPO_ROOT/hack/private-containerd.sh" stop "$CTRD_DIR" || rc=1
		# Empty cgroups runc may leave behind; rmdir refuses non-empty ones.
		rmdir /sys/fs/cgroup/*/"$CID" /sys/fs/cgroup/*/"$NS" 2>/dev/null || true
		if grep -qF " $CTRD_DIR" /proc/self/mountinfo; then
			echo "mounts left under $CTRD_DIR:" >&2
			grep -F " $CTRD_DIR" /proc/self/mountinfo >&2
			rc=1
		else
			rm -rf --one-file-system -- "$CTRD_DIR"
		fi
	fi
	return "$rc"
}

require_root() {
	[[ $EUID -eq 0 ]] || skip "needs root"
}

sha256_of() {
	local sum
	sum=$(sha256sum <"$1")
	printf '%s\n' "${sum%% *}"
}

# Start a private containerd in a per-test dir; teardown stops it.
start_containerd() {
	require_root
	command -v containerd >/dev/null || skip "containerd not installed"
	command -v ctr >/dev/null || skip "ctr not installed"
	CTRD_DIR=$BATS_TEST_TMPDIR/ctrd
	"$REPO_ROOT/hack/private-containerd.sh" start "$CTRD_DIR"
	SOCK=$CTRD_DIR/containerd.sock
}

ctr_() {
	timeout 120 ctr --address "$SOCK" --namespace "$NS" "$@"
}

@test "rootfs: busybox applets as symlinks, chroot runs sh" {
	require_root
	local root=$IMAGES/busybox-rootfs
	[ -x "$root/bin/busybox" ]
	[ -L "$root/bin/sh" ]
	[ "$(readlink "$root/bin/sh")" = /bin/busybox ]
	[ "$(readlink "$root/usr/bin/env")" = /bin/busybox ]
	grep -qx 'root:x:0:0:root:/root:/bin/sh' "$root/etc/passwd"
	grep -q '^nobody:x:65534:65534:' "$root/etc/passwd"
	grep -qx 'tty:x:5:' "$root/etc/group"
	grep -qx 'nogroup:x:65534:' "$root/etc/group"
	# Separate lines: errexit ignores a failure on the left of &&.
	[ -f "$root/etc/resolv.conf" ]
	[ ! -s "$root/etc/resolv.conf" ]
	[ -f "$root/etc/hosts" ]
	[ ! -s "$root/etc/hosts" ]
	[ "$(stat -c %a "$root/tmp")" = 1777 ]
	local d
	for d in proc sys dev root run var/tmp etc; do
		[ -d "$root/$d" ]
	done

	run -0 chroot "$root" /bin/sh -c 'echo ok'
	[ "$output" = ok ]
}

@test "build is deterministic" {
	local a=$BATS_TEST_TMPDIR/a b=$BATS_TEST_TMPDIR/b
	"$REPO_ROOT/hack/make-test-images.sh" "$a" >/dev/null
	"$REPO_ROOT/hack/make-test-images.sh" "$b" >/dev/null
	# Rebuilding over an existing output must work and change nothing.
	"$REPO_ROOT/hack/make-test-images.sh" "$b" >/dev/null

	[ "$(sha256_of "$a/busybox-oci.tar")" = "$(sha256_of "$b/busybox-oci.tar")" ]
	[ "$(sha256_of "$a/busybox-oci.tar")" = "$(sha256_of "$IMAGES/busybox-oci.tar")" ]
	cmp "$a/busybox-oci.digest" "$b/busybox-oci.digest"
	cmp "$a/busybox-oci.digest" "$IMAGES/busybox-oci.digest"
	grep -qxE 'sha256:[0-9a-f]{64}' "$a/busybox-oci.digest"
	# No scratch dirs left next to the outputs.
	[ -z "$(find "$b" -maxdepth 1 -name '.make-test-images.*')" ]
}

@test "OCI layout: blobs, sizes, digests and diff_id are consistent" {
	local layout=$BATS_TEST_TMPDIR/layout
	mkdir -p "$layout"
	tar -xf "$IMAGES/busybox-oci.tar" -C "$layout"

	[ "$(jq -c . "$layout/oci-layout")" = '{"imageLayoutVersion":"1.0.0"}' ]

	local blob
	for blob in "$layout"/blobs/sha256/*; do
		[ "$(sha256_of "$blob")" = "$(basename "$blob")" ]
	done

	local index=$layout/index.json
	[ "$(jq -r '.manifests | length' "$index")" = 1 ]
	[ "$(jq -r '.manifests[0].annotations["io.containerd.image.name"]' "$index")" = "$IMAGE" ]
	[ "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$index")" = "${IMAGE##*:}" ]

	local mdigest manifest
	mdigest=$(jq -r '.manifests[0].digest' "$index")
	[ "$mdigest" = "$(cat "$IMAGES/busybox-oci.digest")" ]
	manifest=$layout/blobs/sha256/${mdigest#sha256:}
	[ "$(jq -r '.manifests[0].size' "$index")" = "$(stat -c %s "$manifest")" ]
	[ "$(jq -r .schemaVersion "$manifest")" = 2 ]
	[ "$(jq -r .mediaType "$manifest")" = application/vnd.oci.image.manifest.v1+json ]

	local cdigest config
	cdigest=$(jq -r .config.digest "$manifest")
	config=$layout/blobs/sha256/${cdigest#sha256:}
	[ "$(jq -r .config.size "$manifest")" = "$(stat -c %s "$config")" ]
	[ "$(jq -r .config.mediaType "$manifest")" = application/vnd.oci.image.config.v1+json ]
	[ "$(jq -r .os "$config")" = linux ]
	[ "$(jq -r .created "$config")" = 1970-01-01T00:00:00Z ]
	[ "$(jq -c .config.Cmd "$config")" = '["sh"]' ]
	jq -e '.config.Env | any(startswith("PATH="))' "$config" >/dev/null
	[ "$(jq -r .rootfs.type "$config")" = layers ]

	[ "$(jq -r '.layers | length' "$manifest")" = 1 ]
	[ "$(jq -r '.rootfs.diff_ids | length' "$config")" = 1 ]
	local ldigest layer
	ldigest=$(jq -r '.layers[0].digest' "$manifest")
	layer=$layout/blobs/sha256/${ldigest#sha256:}
	[ "$(jq -r '.layers[0].mediaType' "$manifest")" = application/vnd.oci.image.layer.v1.tar+gzip ]
	[ "$(jq -r '.layers[0].size' "$manifest")" = "$(stat -c %s "$layer")" ]

	local diff_id
	diff_id=$(gzip -dc "$layer" | sha256sum)
	[ "$(jq -r '.rootfs.diff_ids[0]' "$config")" = "sha256:${diff_id%% *}" ]
}

@test "containerd imports the image and runs it with runc" {
	start_containerd

	run -0 ctr_ images import "$IMAGES/busybox-oci.tar"

	run -0 ctr_ images ls -q
	[[ $'\n'$output$'\n' == *$'\n'"$IMAGE"$'\n'* ]]

	run -0 ctr_ images check
	local line
	line=$(grep -F "$IMAGE " <<<"$output")
	[[ $line == *"$(cat "$IMAGES/busybox-oci.digest")"* ]]
	[[ $line == *complete* ]]

	# FIFOs and runc state go under the private dir rather than the
	# /run/containerd defaults; a one-level cgroup is removed by runc.
	run -0 --separate-stderr ctr_ run --rm \
		--fifo-dir "$CTRD_DIR/fifo" --runc-root "$CTRD_DIR/runc" \
		--cgroup "/$CID" \
		"$IMAGE" "$CID" /bin/echo hello
	[ "$output" = hello ]

	# --rm must have removed the container and its snapshot.
	run -0 ctr_ containers ls -q
	[ -z "$output" ]
	run -0 ctr_ snapshots ls
	[[ $output != *"$CID"* ]]
}
