#!/usr/bin/env bash
# Stand-ins, built from Debian packages, for every Linux image critest (cri-tools v1.26) pulls,
# named by their upstream references so that a containerd whose registry mirrors point at a
# local registry (hack/cri-env.sh) resolves them. Each stand-in reproduces what the specs check
# about its image; see docs/conformance.md for the list.
#
# Usage: hack/make-critest-images.sh OUTDIR
#   writes OUTDIR/*.tar (one OCI image archive per reference, named for it), the pause and
#   busybox archives of hack/make-cri-images.sh beside them (HIPPO_PAUSE as there), so that
#   HIPPO_CRI_IMAGES=OUTDIR is complete, and OUTDIR/test-images.yaml (critest
#   --test-images-file: the upstream names of the two overridable images).
#
# Sources: the host's busybox-static (BUSYBOX), procps' pgrep, util-linux's ipcs, coreutils'
# id and the libraries they link; two packages fetched with `apt-get download` (never
# installed) into CRITEST_DEB_DIR (default OUTDIR/debs): `busybox`, whose shell runs commands
# from PATH instead of its own applets (busybox-static's prefers applets, so a masked /bin/ls
# would still run), and `nginx` (installing it would start a system nginx).
set -euo pipefail
umask 022

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/lib-oci.sh
source "$script_dir/lib-oci.sh"

[[ $# -eq 1 ]] || {
	echo "usage: $0 OUTDIR" >&2
	exit 2
}
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)
deb_dir=${CRITEST_DEB_DIR:-$out/debs}

e2e=registry.k8s.io/e2e-test-images
staging=gcr.io/k8s-staging-cri-tools
busybox_ref=$e2e/busybox:1.29-2

for tool in jq ldd dpkg-deb apt-get /usr/bin/pgrep /usr/bin/ipcs /usr/bin/id; do
	command -v "$tool" >/dev/null || oci_die "$tool not found"
done

work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf --one-file-system -- "$work"' EXIT

# The .deb of PKG for this machine, downloaded once into deb_dir.
fetch_deb() {
	local pkg=$1 deb
	mkdir -p "$deb_dir"
	deb=$(find "$deb_dir" -maxdepth 1 -name "${pkg}_*_$(dpkg --print-architecture).deb" | sort | tail -n 1)
	if [[ -z $deb ]]; then
		(cd "$deb_dir" && apt-get download "$pkg" >/dev/null 2>&1) ||
			oci_die "apt-get download $pkg failed (run apt-get update?)"
		deb=$(find "$deb_dir" -maxdepth 1 -name "${pkg}_*_$(dpkg --print-architecture).deb" | sort | tail -n 1)
		[[ -n $deb ]] || oci_die "apt-get download $pkg left no .deb in $deb_dir"
	fi
	printf '%s\n' "$deb"
}

# Copy the host's shared libraries that BINARY needs (as ldd resolves them, the loader
# included) to the same paths under ROOT.
copy_libs() {
	local root=$1 binary=$2 lib
	while IFS= read -r lib; do
		[[ -e $root$lib ]] && continue
		mkdir -p "$root$(dirname "$lib")"
		install -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
}

# copy_tool ROOT SOURCE DEST: a host or extracted binary with its libraries.
copy_tool() {
	local root=$1 src=$2 dest=$3
	mkdir -p "$root$(dirname "$dest")"
	install -m 0755 "$src" "$root$dest"
	copy_libs "$root" "$src"
}

config_json() { # USER ENTRYPOINT_JSON CMD_JSON [WORKDIR]
	jq -n -c --arg path "$OCI_PATH_ENV" --arg user "$1" --argjson ep "$2" --argjson cmd "$3" \
		--arg wd "${4:-}" \
		'{Env: [$path], Cmd: $cmd}
		 + (if $user == "" then {} else {User: $user} end)
		 + (if $ep == null then {} else {Entrypoint: $ep} end)
		 + (if $wd == "" then {} else {WorkingDir: $wd} end)'
}

# The archive for REF, named after it: registry.k8s.io/e2e-test-images/busybox:1.29-2 →
# registry.k8s.io_e2e-test-images_busybox_1.29-2.tar.
archive() { # REF ROOTFS CONFIG_JSON
	local ref=$1 name digest
	name=${ref//\//_}
	name=${name//:/_}
	digest=$(oci_image_archive "$out/$name.tar" "$ref" "$2" "$3" hack/make-critest-images.sh)
	printf '%-70s %s\n' "$ref" "$digest"
}

add_account() { # ROOT NAME UID GID [GROUP_MEMBERS_OF...]
	printf '%s:x:%s:%s:%s:/home/%s:/bin/sh\n' "$2" "$3" "$4" "$2" "$2" >>"$1/etc/passwd"
	printf '%s:x:%s:\n' "$2" "$4" >>"$1/etc/group"
}

# --- the busybox of the e2e images: applets as hard links (a path masked by the runtime covers
# that applet only, not the busybox binary a symlink would resolve to), a shell that runs
# commands from PATH, pgrep and ipcs (procps and util-linux; busybox-static has neither).
critest_busybox_rootfs() {
	local root=$1 link deb
	busybox_rootfs "$root"
	while IFS= read -r -d '' link; do
		ln -f "$root/bin/busybox" "$link"
	done < <(find "$root" -type l -lname /bin/busybox -print0)

	deb=$(fetch_deb busybox)
	mkdir -p "$work/busybox-deb"
	dpkg-deb -x "$deb" "$work/busybox-deb"
	rm -f "$root/bin/sh" "$root/bin/ash"
	copy_tool "$root" "$work/busybox-deb/bin/busybox" /bin/sh
	ln -f "$root/bin/sh" "$root/bin/ash"

	copy_tool "$root" /usr/bin/pgrep /usr/bin/pgrep
	copy_tool "$root" /usr/bin/ipcs /usr/bin/ipcs
	add_account "$root" www-data 33 33
	ln -sfn /run "$root/var/run"
}

bb=$work/busybox
critest_busybox_rootfs "$bb"
archive "$busybox_ref" "$bb" "$(config_json "" null '["sh"]')"

# A copy of the busybox rootfs to extend.
derive() {
	rm -rf "${work:?}/$1"
	cp -a "$bb" "$work/$1"
	printf '%s\n' "$work/$1"
}

# --- nginx (Debian's): the namespace specs look for its master process by name (pidof nginx),
# by its pid file (/var/run/nginx.pid) and by its title in /proc/1/cmdline ("master process").
nginx_deb=$(fetch_deb nginx)
mkdir -p "$work/nginx-deb"
dpkg-deb -x "$nginx_deb" "$work/nginx-deb"

nginx_rootfs() { # NAME PORT
	local root
	root=$(derive "$1")
	copy_tool "$root" "$work/nginx-deb/usr/sbin/nginx" /usr/sbin/nginx
	mkdir -p "$root/etc/nginx" "$root/usr/share/nginx/html" "$root/var/log/nginx" "$root/var/lib/nginx"
	cat >"$root/etc/nginx/nginx.conf" <<-EOF
		user www-data www-data;
		worker_processes 1;
		pid /var/run/nginx.pid;
		error_log stderr;
		events { worker_connections 64; }
		http {
		    access_log off;
		    server {
		        listen $2;
		        root /usr/share/nginx/html;
		        index index.html;
		    }
		}
	EOF
	printf '<html><body>hippo stand-in for nginx, port %s</body></html>\n' "$2" \
		>"$root/usr/share/nginx/html/index.html"
	printf '%s\n' "$root"
}
nginx_config=$(config_json "" null '["nginx","-g","daemon off;"]')
root=$(nginx_rootfs nginx 80)
archive "$e2e/nginx:1.14-2" "$root" "$nginx_config"
root=$(nginx_rootfs hostnet-nginx 12003)
archive "$staging/hostnet-nginx-$(oci_arch):latest" "$root" "$nginx_config"

# --- httpd: busybox's, serving on port 80; the multi-container spec expects Apache's start line
# ("... 'httpd -D FOREGROUND'") in the container log.
root=$(derive httpd)
mkdir -p "$root/usr/local/apache2/htdocs" "$root/usr/local/bin"
printf '<html><body>hippo stand-in for httpd</body></html>\n' >"$root/usr/local/apache2/htdocs/index.html"
cat >"$root/usr/local/bin/httpd-foreground" <<-'EOF'
	#!/bin/sh
	echo "hippo stand-in for Apache httpd (busybox httpd); Command line: 'httpd -D FOREGROUND'" >&2
	exec httpd -f -p 80 -h /usr/local/apache2/htdocs
EOF
chmod 0755 "$root/usr/local/bin/httpd-foreground"
archive "$e2e/httpd:2.4.39-4" "$root" "$(config_json "" null '["httpd-foreground"]' /usr/local/apache2)"

# --- nonewprivs: prints the effective uid after executing a set-user-ID-root program (a copy of
# coreutils' id; busybox drops set-user-ID privileges itself), as the user the spec runs it as.
root=$(derive nonewprivs)
copy_tool "$root" /usr/bin/id /usr/local/bin/setuid-id
chmod 4755 "$root/usr/local/bin/setuid-id"
# shellcheck disable=SC2016 # the container's shell expands $(...)
archive "$e2e/nonewprivs:1.3" "$root" \
	"$(config_json "" '["/bin/sh","-c","echo \"Effective uid: $(/usr/local/bin/setuid-id -u)\""]' null)"

# --- the image-manager specs: only their names, tags, ids and USER matter.
plain=$work/plain
busybox_rootfs "$plain"
test_image() { # REF FILE [USER]
	local root=$work/test-image
	rm -rf "$root"
	cp -a "$plain" "$root"
	# Distinct content gives a distinct image id; the same content under several tags, one id.
	printf '%s\n' "$2" >"$root/$2"
	archive "$1" "$root" "$(config_json "${3:-}" null '["sh"]')"
}
for name in test-image-1 test-image-2 test-image-3 test-image-latest; do
	test_image "$staging/$name:latest" "$name"
done
for tag in 1 2 3; do
	test_image "$staging/test-image-tags:$tag" same-image
done
for tag in test all; do
	test_image "$staging/test-image-tag:$tag" "$tag"
done
test_image "$staging/test-image-user-uid:latest" user 1002
test_image "$staging/test-image-user-username:latest" user www-data
test_image "$staging/test-image-user-uid-group:latest" user 1003:1004
test_image "$staging/test-image-user-username-group:latest" user www-data:1004

# Its user (1000) belongs to a group defined only in the image's /etc/group.
root=$work/predefined-group
cp -a "$plain" "$root"
add_account "$root" default-user 1000 1000
printf 'group-defined-in-image:x:50000:default-user\n' >>"$root/etc/group"
archive "$staging/test-image-predefined-group:latest" "$root" "$(config_json 1000 null '["sh"]')"

cat >"$out/test-images.yaml" <<EOF
defaultTestContainerImage: $busybox_ref
webServerTestImage: $e2e/nginx:1.14-2
EOF

"$script_dir/make-cri-images.sh" "$out" >/dev/null
echo "make-critest-images: $(find "$out" -maxdepth 1 -name '*.tar' | wc -l) archives in $out"
