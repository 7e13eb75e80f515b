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

# Byte-order sorting everywhere (globs, tar --sort) keeps output reproducible.
export LC_ALL=C
umask 022

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)

BUSYBOX=${BUSYBOX:-/bin/busybox}
IMAGE=${HIPPO_TEST_IMAGE:-docker.io/hippo/busybox:latest}
EPOCH=1970-01-01T00:00:00Z
PATH_ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() {
	echo "make-test-images: $*" >&2
	exit 1
}

# The tag is whatever follows the last ':' after the last '/' (a ':' before
# that belongs to a registry port).
image_tag() {
	local last=${1##*/}
	case $last in
	*@*) die "digest references are not supported: $1" ;;
	*:*) printf '%s\n' "${last##*:}" ;;
	*) printf 'latest\n' ;;
	esac
}

# The image must describe the platform of the busybox binary we copy in,
# otherwise containerd's platform matcher refuses to unpack/run it.
oci_arch() {
	if [[ -n ${HIPPO_TEST_ARCH:-} ]]; then
		printf '%s\n' "$HIPPO_TEST_ARCH"
		return
	fi
	case $(uname -m) in
	x86_64) echo amd64 ;;
	aarch64) echo arm64 ;;
	ppc64le) echo ppc64le ;;
	s390x) echo s390x ;;
	riscv64) echo riscv64 ;;
	*) die "unknown machine $(uname -m); set HIPPO_TEST_ARCH" ;;
	esac
}

sha256_of() {
	local sum
	sum=$(sha256sum <"$1")
	printf '%s\n' "${sum%% *}"
}

size_of() {
	stat -c %s "$1"
}

# One set of options for every tar we write: no timestamps, owners or
# ordering taken from the build host.
det_tar() {
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
		--format=gnu "$@"
}

# Move a blob into blobs/sha256/<digest> and print the hex digest.
add_blob() {
	local file=$1 layout=$2 hex
	hex=$(sha256_of "$file")
	mv -f "$file" "$layout/blobs/sha256/$hex"
	chmod 0644 "$layout/blobs/sha256/$hex"
	printf '%s\n' "$hex"
}

build_rootfs() {
	local root=$1 applet dir
	mkdir -p "$root"
	chmod 0755 "$root"
	(
		cd "$root"
		mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root run var/tmp
		chmod 0755 bin sbin usr usr/bin usr/sbin etc proc sys dev run var
		chmod 1777 tmp var/tmp
		chmod 0700 root
	)
	install -m 0755 "$BUSYBOX" "$root/bin/busybox"

	while IFS= read -r applet; do
		[[ -n $applet && $applet != bin/busybox ]] || continue
		case $applet in
		/* | *..*) die "unexpected applet path from busybox: $applet" ;;
		esac
		dir=$(dirname "$applet")
		if [[ ! -d $root/$dir ]]; then
			mkdir -p "$root/$dir"
			chmod 0755 "$root/$dir"
		fi
		ln -sfn /bin/busybox "$root/$applet"
	done < <("$BUSYBOX" --list-full)

	printf '%s\n' \
		'root:x:0:0:root:/root:/bin/sh' \
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' \
		>"$root/etc/passwd"
	printf '%s\n' \
		'root:x:0:' \
		'tty:x:5:' \
		'nogroup:x:65534:' \
		>"$root/etc/group"
	# Placeholders: runtimes bind-mount the real files over these.
	: >"$root/etc/resolv.conf"
	: >"$root/etc/hosts"
	chmod 0644 "$root/etc/passwd" "$root/etc/group" \
		"$root/etc/resolv.conf" "$root/etc/hosts"
}

build_oci_tar() {
	local root=$1 work=$2 out_tar=$3 out_digest=$4
	local arch tag layout layer_hex diff_hex config_hex manifest_hex
	local -a top
	arch=$(oci_arch)
	tag=$(image_tag "$IMAGE")
	layout=$work/layout
	mkdir -p "$layout/blobs/sha256"
	chmod 0755 "$layout" "$layout/blobs" "$layout/blobs/sha256"

	# Name top-level entries explicitly so members carry no "./" prefix and
	# the rootfs directory's own mode is not part of the layer.
	top=()
	while IFS= read -r -d '' name; do
		top+=("$name")
	done < <(find "$root" -mindepth 1 -maxdepth 1 -printf '%P\0' | sort -z)
	det_tar -C "$root" -cf "$work/layer.tar" -- "${top[@]}"
	diff_hex=$(sha256_of "$work/layer.tar")
	# -n: no name/timestamp in the gzip header.
	gzip -n -9 -c "$work/layer.tar" >"$work/layer.tar.gz"
	layer_hex=$(add_blob "$work/layer.tar.gz" "$layout")

	jq -n -c -j \
		--arg created "$EPOCH" --arg arch "$arch" --arg path "$PATH_ENV" \
		--arg diff "sha256:$diff_hex" \
		'{
			created: $created,
			architecture: $arch,
			os: "linux",
			config: {Env: [$path], Cmd: ["sh"]},
			rootfs: {type: "layers", diff_ids: [$diff]},
			history: [{created: $created, created_by: "hack/make-test-images.sh"}]
		}' >"$work/config.json"
	local config_size
	config_size=$(size_of "$work/config.json")
	config_hex=$(add_blob "$work/config.json" "$layout")

	jq -n -c -j \
		--arg cdig "sha256:$config_hex" --argjson csize "$config_size" \
		--arg ldig "sha256:$layer_hex" \
		--argjson lsize "$(size_of "$layout/blobs/sha256/$layer_hex")" \
		'{
			schemaVersion: 2,
			mediaType: "application/vnd.oci.image.manifest.v1+json",
			config: {
				mediaType: "application/vnd.oci.image.config.v1+json",
				digest: $cdig, size: $csize
			},
			layers: [{
				mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
				digest: $ldig, size: $lsize
			}]
		}' >"$work/manifest.json"
	local manifest_size
	manifest_size=$(size_of "$work/manifest.json")
	manifest_hex=$(add_blob "$work/manifest.json" "$layout")

	jq -n -c -j \
		--arg mdig "sha256:$manifest_hex" --argjson msize "$manifest_size" \
		--arg arch "$arch" --arg name "$IMAGE" --arg tag "$tag" \
		'{
			schemaVersion: 2,
			mediaType: "application/vnd.oci.image.index.v1+json",
			manifests: [{
				mediaType: "application/vnd.oci.image.manifest.v1+json",
				digest: $mdig, size: $msize,
				platform: {architecture: $arch, os: "linux"},
				annotations: {
					"io.containerd.image.name": $name,
					"org.opencontainers.image.ref.name": $tag
				}
			}]
		}' >"$layout/index.json"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
	chmod 0644 "$layout/index.json" "$layout/oci-layout"

	det_tar -C "$layout" -cf "$out_tar" -- oci-layout index.json blobs
	printf 'sha256:%s\n' "$manifest_hex" >"$out_digest"
}

# Scratch dir for the current run; global so the EXIT trap can see it.
work=

cleanup() {
	if [[ -n $work ]]; then
		rm -rf --one-file-system -- "$work"
	fi
}

main() {
	local outdir=${1:-$repo_root/build/images}
	[[ $# -le 1 ]] || die "usage: $0 [OUTDIR]"
	[[ -x $BUSYBOX ]] || die "$BUSYBOX not found (apt-get install busybox-static)"
	local tool
	for tool in jq tar gzip sha256sum find; do
		command -v "$tool" >/dev/null || die "missing tool: $tool"
	done

	mkdir -p "$outdir"
	outdir=$(cd "$outdir" && pwd)

	# Build next to the destination so the final renames stay on one
	# filesystem and a failed run never leaves half-written outputs.
	work=$(mktemp -d "$outdir/.make-test-images.XXXXXX")
	trap cleanup EXIT

	build_rootfs "$work/busybox-rootfs"
	build_oci_tar "$work/busybox-rootfs" "$work" \
		"$work/busybox-oci.tar" "$work/busybox-oci.digest"

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
