#!/usr/bin/env bash
# The images the CRI suites and benchmarks pull from their loopback registry, as OCI archives
# (one *.tar each, named inside by its upstream reference): hack/cri-env.sh pushes every archive
# of a directory under that name, and containerd's mirror configuration resolves the name there.
#
# Usage: hack/make-cri-images.sh OUTDIR
# Env:   HIPPO_PAUSE  our static pause binary (default <repo>/build/tests/hippo-pause)
#
#   OUTDIR/pause.tar    registry.k8s.io/pause:3.6 (containerd 1.6's default sandbox image name),
#                       holding only /pause, run as 65535 like the upstream image
#   OUTDIR/busybox.tar  docker.io/library/busybox:latest, Debian's busybox-static
set -euo pipefail
umask 022
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)
# shellcheck source=hack/lib-oci.sh
source "$script_dir/lib-oci.sh"

outdir=${1:?usage: $0 OUTDIR}
pause=${HIPPO_PAUSE:-$repo_root/build/tests/hippo-pause}
[[ -x $pause ]] || oci_die "$pause not found (make build)"
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
work=$(mktemp -d "$outdir/.make-cri-images.XXXXXX")
trap 'rm -rf --one-file-system -- "$work"' EXIT

mkdir -m 0755 "$work/pause"
install -m 0755 "$pause" "$work/pause/pause"
oci_image_archive "$outdir/pause.tar" registry.k8s.io/pause:3.6 "$work/pause" \
	'{"User":"65535:65535","Entrypoint":["/pause"]}' hack/make-cri-images.sh >/dev/null

busybox_rootfs "$work/busybox"
oci_image_archive "$outdir/busybox.tar" docker.io/library/busybox:latest "$work/busybox" "" \
	hack/make-cri-images.sh >/dev/null
echo "make-cri-images: pause.tar busybox.tar in $outdir"
