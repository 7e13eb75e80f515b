#!/usr/bin/env bash
# Writing OCI image archives (an image layout in a tar) from a rootfs directory, byte for byte
# reproducible: no timestamps, owners or ordering taken from the build host. Sourced by the image
# scripts (make-test-images.sh, make-cri-images.sh, make-critest-images.sh).
#
#   oci_image_archive OUT_TAR REF ROOTFS [CONFIG_JSON] [CREATED_BY]
#       REF          full reference, e.g. registry.k8s.io/pause:3.6; `ctr images import`
#                    names the image by it (annotation io.containerd.image.name)
#       CONFIG_JSON  the image config's "config" object (User, Env, Entrypoint, Cmd,
#                    WorkingDir, Labels ...); default: PATH and Cmd ["sh"]
#       prints the manifest digest (sha256:...)
#   busybox_rootfs DIR      a minimal rootfs: Debian's busybox-static and its applets,
#                           /etc/passwd and /etc/group with root and nobody
#   oci_arch                the OCI architecture of this machine (HIPPO_TEST_ARCH overrides)

export LC_ALL=C
OCI_EPOCH=1970-01-01T00:00:00Z
OCI_PATH_ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
BUSYBOX=${BUSYBOX:-/bin/busybox}

oci_die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# The tag is whatever follows the last ':' after the last '/' (a ':' before that belongs to a
# registry port).
oci_image_tag() {
	local last=${1##*/}
	case $last in
	*@*) oci_die "digest references are not supported: $1" ;;
	*:*) printf '%s\n' "${last##*:}" ;;
	*) printf 'latest\n' ;;
	esac
}

# The image must describe the platform of the binaries inside, or containerd's platform matcher
# refuses to unpack it.
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
	*) oci_die "unknown machine $(uname -m); set HIPPO_TEST_ARCH" ;;
	esac
}

oci_sha256() {
	local sum
	sum=$(sha256sum <"$1")
	printf '%s\n' "${sum%% *}"
}

oci_det_tar() {
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu "$@"
}

# Move a blob into LAYOUT/blobs/sha256/<digest> and print the hex digest.
oci_add_blob() {
	local file=$1 layout=$2 hex
	hex=$(oci_sha256 "$file")
	mv -f "$file" "$layout/blobs/sha256/$hex"
	chmod 0644 "$layout/blobs/sha256/$hex"
	printf '%s\n' "$hex"
}

busybox_rootfs() {
	local root=$1 applet dir
	[[ -x $BUSYBOX ]] || oci_die "$BUSYBOX not found (apt-get install busybox-static)"
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
		/* | *..*) oci_die "unexpected applet path from busybox: $applet" ;;
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
	chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/resolv.conf" "$root/etc/hosts"
}

oci_image_archive() {
	local out_tar=$1 ref=$2 root=$3
	local config=${4:-}
	local created_by=${5:-hack/lib-oci.sh}
	[[ -n $config ]] || config=$(jq -n -c --arg path "$OCI_PATH_ENV" '{Env: [$path], Cmd: ["sh"]}')
	local arch tag work layout layer_hex diff_hex config_hex manifest_hex name
	local -a top
	arch=$(oci_arch)
	tag=$(oci_image_tag "$ref")
	work=$(mktemp -d "$(dirname "$out_tar")/.oci-archive.XXXXXX")
	layout=$work/layout
	mkdir -p "$layout/blobs/sha256"
	chmod 0755 "$layout" "$layout/blobs" "$layout/blobs/sha256"

	# Top-level entries named explicitly: members carry no "./" prefix and the rootfs
	# directory's own mode is not part of the layer.
	top=()
	while IFS= read -r -d '' name; do
		top+=("$name")
	done < <(find "$root" -mindepth 1 -maxdepth 1 -printf '%P\0' | sort -z)
	oci_det_tar -C "$root" -cf "$work/layer.tar" -- "${top[@]}"
	diff_hex=$(oci_sha256 "$work/layer.tar")
	gzip -n -9 -c "$work/layer.tar" >"$work/layer.tar.gz"  # -n: no name/time in the header
	layer_hex=$(oci_add_blob "$work/layer.tar.gz" "$layout")

	jq -n -c -j \
		--arg created "$OCI_EPOCH" --arg arch "$arch" --argjson config "$config" \
		--arg diff "sha256:$diff_hex" --arg by "$created_by" \
		'{
			created: $created,
			architecture: $arch,
			os: "linux",
			config: $config,
			rootfs: {type: "layers", diff_ids: [$diff]},
			history: [{created: $created, created_by: $by}]
		}' >"$work/config.json"
	local config_size
	config_size=$(stat -c %s "$work/config.json")
	config_hex=$(oci_add_blob "$work/config.json" "$layout")

	jq -n -c -j \
		--arg cdig "sha256:$config_hex" --argjson csize "$config_size" \
		--arg ldig "sha256:$layer_hex" \
		--argjson lsize "$(stat -c %s "$layout/blobs/sha256/$layer_hex")" \
		'{
			schemaVersion: 2,
			mediaType: "application/vnd.oci.image.manifest.v1+json",
			config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cdig, size: $csize},
			layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $ldig, size: $lsize}]
		}' >"$work/manifest.json"
	local manifest_size
	manifest_size=$(stat -c %s "$work/manifest.json")
	manifest_hex=$(oci_add_blob "$work/manifest.json" "$layout")

	jq -n -c -j \
		--arg mdig "sha256:$manifest_hex" --argjson msize "$manifest_size" \
		--arg arch "$arch" --arg name "$ref" --arg tag "$tag" \
		'{
			schemaVersion: 2,
			mediaType: "application/vnd.oci.image.index.v1+json",
			manifests: [{
				mediaType: "application/vnd.oci.image.manifest.v1+json",
				digest: $mdig, size: $msize,
				platform: {architecture: $arch, os: "linux"},
				annotations: {"io.containerd.image.name": $name, "org.opencontainers.image.ref.name": $tag}
			}]
		}' >"$layout/index.json"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
	chmod 0644 "$layout/index.json" "$layout/oci-layout"

	oci_det_tar -C "$layout" -cf "$work/out.tar" -- oci-layout index.json blobs
	chmod 0644 "$work/out.tar"
	mv -f -- "$work/out.tar" "$out_tar"
	rm -rf --one-file-system -- "$work"
	printf 'sha256:%s\n' "$manifest_hex"
}
