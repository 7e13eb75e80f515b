#!/usr/bin/env bash
# Build the busybox test rootfs and a reproducible OCI image layout tarball
# from Debian's busybox-static, so tests need no registry access.
#
# Usage: hack/make-test-images.sh [OUTDIR]      (default: <repo>/build/images)
# Env:   HIPPO_TEST_IMAGE   image name (default docker.io/hippo/busybox:latest)
#        HIPPO_TEST_ARCH    OCI architecture (default: derived from uname -m)
#
# Outputs: OUTDIR/busybox-rootfs/, OUTDIR/busybox-oci.tar,
#          OUTDIR/busybox-oci.digest (manifest digest, sha256:...)
set -euo pipefail
umask 022

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)
# shellcheck source=hack/lib-oci.sh
source "$script_dir/lib-oci.sh"

IMAGE=${HIPPO_TEST_IMAGE:-docker.io/hippo/busybox:latest}

# Scratch dir for the current run; global so the EXIT trap can see it.
work=

cleanup() {
	if [[ -n $work ]]; then
		rm -rf --one-file-system -- "$work"
	fi
}

main() {
	local outdir=${1:-$repo_root/build/images}
	[[ $# -le 1 ]] || oci_die "usage: $0 [OUTDIR]"
	local tool
	for tool in jq tar gzip sha256sum find; do
		command -v "$tool" >/dev/null || oci_die "missing tool: $tool"
	done

	mkdir -p "$outdir"
	outdir=$(cd "$outdir" && pwd)

	# Build next to the destination so the final renames stay on one
	# filesystem and a failed run never leaves half-written outputs.
	work=$(mktemp -d "$outdir/.make-test-images.XXXXXX")
	trap cleanup EXIT

	busybox_rootfs "$work/busybox-rootfs"
	oci_image_archive "$work/busybox-oci.tar" "$IMAGE" "$work/busybox-rootfs" "" \
		hack/make-test-images.sh >"$work/busybox-oci.digest"

	# --one-file-system: a previous rootfs may still have a bundle's
	# mounts on it; never recurse into those.
	if [[ -e $outdir/busybox-rootfs ]]; then
		mv -- "$outdir/busybox-rootfs" "$work/old-rootfs"
	fi
	mv -- "$work/busybox-rootfs" "$outdir/busybox-rootfs"
	chmod 0644 "$work/busybox-oci.tar" "$work/busybox-oci.digest"
	mv -f -- "$work/busybox-oci.tar" "$outdir/busybox-oci.tar"
	mv -f -- "$work/busybox-oci.digest" "$outdir/busybox-oci.digest"

	echo "image:    $IMAGE"
	echo "manifest: $(cat "$outdir/busybox-oci.digest")"
	echo "rootfs:   $outdir/busybox-rootfs"
	echo "oci tar:  $outdir/busybox-oci.tar"
	echo "digest:   $outdir/busybox-oci.digest"
}

main "$@"
