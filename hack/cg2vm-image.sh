#!/usr/bin/env bash
# Builds the disk image of the cgroup v2 test VM (hack/cg2vm-run.sh boots it; `make
# test-cgroup2` uses both). The guest is Debian 12 with systemd as PID 1 and a kernel booted with
# `cgroup_no_v1=all`, so every controller (memory, cpu, io, pids, cpuset…) lives on cgroup v2 —
# which this CI host, a v1 hybrid, cannot offer.
#
# Usage: hack/cg2vm-image.sh [--force]      (root; about 2 minutes; nothing is installed on the host
#                                            beyond hack/install-deps.sh's packages)
# Env:   CG2VM_DIR  where the image lives (default /var/tmp/hippo-cg2vm, outside every git tree;
#                   shared by all worktrees of the machine, ~0.5 GB)
#        CG2VM_MIRROR, CG2VM_SECURITY_MIRROR  Debian mirrors (default: this machine's apt sources)
#
# Output in CG2VM_DIR: vmlinux (the Debian kernel as an ELF, booted by QEMU's PVH entry: under
# emulation the bzImage's own decompressor costs many seconds), initrd.img (busybox + the
# modules that mount the root disk and the 9p shares), rootfs.qcow2 (ext4, opened read-only by
# every run), stamp (hash of this script: a changed script rebuilds the image).
set -euo pipefail

dir=${CG2VM_DIR:-/var/tmp/hippo-cg2vm}
force=false
[[ ${1:-} == --force ]] && force=true
stamp=$(sha256sum <"${BASH_SOURCE[0]}" | cut -c1-16)

say() { echo "cg2vm-image: $*" >&2; }
die() { say "$*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (mmdebstrap, image ownership)"
for tool in qemu-img mmdebstrap mke2fs cpio xz depmod modprobe busybox; do
  command -v "$tool" >/dev/null || die "$tool missing: run hack/install-deps.sh"
done
mkdir -p "$dir"

# One builder at a time; a second caller waits and then finds the image ready.
exec 9>"$dir/.build.lock"
flock -w 1200 9 || die "another build of $dir holds the lock for 20 minutes"
if ! $force && [[ -f $dir/stamp && $(cat "$dir/stamp") == "$stamp" ]]; then
  say "image up to date in $dir"
  exit 0
fi

work=$(mktemp -d "$dir/build.XXXXXX")
trap 'umount -R "$work/root" 2>/dev/null || true; rm -rf "$work"' EXIT
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR"
started=$SECONDS
step() { say "[$((SECONDS - started)) s] $*"; }

# shellcheck source=hack/lib-apt-mirror.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-apt-mirror.sh"
mirror=${CG2VM_MIRROR:-$(apt_mirror_for bookworm | sed -n 1p)}
security=${CG2VM_SECURITY_MIRROR:-$(apt_mirror_for bookworm-security | sed -n 1p)}
[[ -n $mirror && -n $security ]] ||
  die "no bookworm mirror in /etc/apt/sources*; set CG2VM_MIRROR and CG2VM_SECURITY_MIRROR"

# --- kernel: the package is downloaded and unpacked here, never installed on the host ---------
step "kernel"
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [[ -z $kpkg ]]; then
  apt-get update -qq
  kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
fi
[[ -n $kpkg ]] || die "apt knows no linux-image-amd64"
(cd "$work" && apt-get download -q "$kpkg" >/dev/null 2>&1) || die "cannot download $kpkg"
dpkg-deb -x "$work"/"$kpkg"_*.deb "$work/k"
kver=$(ls "$work/k/lib/modules")
bz=$work/k/boot/vmlinuz-$kver
# The bzImage carries the ELF kernel as one xz stream after its setup code.
offset=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$bz" | head -1 | cut -d: -f1)
[[ -n $offset ]] || die "$bz holds no xz payload"
# (xz stops reading at the stream's end: no pipe, so tail's SIGPIPE is no failure)
xz -dc --single-stream < <(tail -c +"$((offset + 1))" "$bz") >"$work/vmlinux"
[[ $(head -c4 "$work/vmlinux" | od -An -c | tr -d ' ') == 177ELF ]] || die "$bz: payload is no ELF"

# A virtio-only guest needs none of the hardware drivers; dropping them keeps the image small.
mods=$work/k/lib/modules/$kver/kernel
find "$mods/drivers" -mindepth 1 -maxdepth 1 -type d \
  ! -name virtio ! -name block ! -name char ! -name md ! -name net -exec rm -rf {} +
find "$mods/drivers/net" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
rm -rf "$mods/sound" "$mods"/net/{wireless,mac80211,bluetooth,nfc,can,atm}
depmod -b "$work/k" "$kver"

# --- initramfs: load the disk and 9p modules, mount /dev/vda, hand over to systemd ------------
step "initramfs"
ir=$work/initrd
mkdir -p "$ir"/{bin,dev,proc,sys,root,lib/modules}
cp "$(command -v busybox)" "$ir/bin/busybox"
modprobe -d "$work/k" -S "$kver" --show-depends -a virtio_pci virtio_blk ext4 9pnet_virtio 9p |
  awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++' >"$work/modlist"
while read -r ko; do
  cp "$ko" "$ir/lib/modules/"
  basename "$ko" >>"$ir/lib/modules/order"
done <"$work/modlist"
cat >"$ir/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do insmod "/lib/modules/$m"; done </lib/modules/order
n=0
until [ -b /dev/vda ] || [ $n -ge 200 ]; do sleep 0.05; n=$((n + 1)); done
if ! mount -t ext4 /dev/vda /root; then
  echo "cg2vm initramfs: cannot mount /dev/vda" >/dev/console
  poweroff -f
fi
mount --move /dev /root/dev
umount /sys /proc
exec switch_root /root /sbin/init
EOF
chmod 755 "$ir/init"
(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.img"

# --- root filesystem --------------------------------------------------------------------------
# systemd as PID 1, what the Bats suites call (bats, jq, busybox for the test rootfs, runc for the
# runc-backend test, containerd for the shim under systemd; for the CRI suites a registry, the CNI
# plugins and the gRPC runtime libraries hippo-cri links), nothing else: hippo's binaries link
# only libc dynamically.
step "root filesystem from $mirror"
packages=(systemd systemd-sysv dbus kmod procps util-linux mount iproute2
  bats jq busybox-static runc containerd tar gzip coreutils findutils
  docker-registry containernetworking-plugins libgrpc++1.51)
root=$work/root
mmdebstrap --variant=minbase --mode=root --include="$(IFS=,; echo "${packages[*]}")" \
  --aptopt='Acquire::Languages "none"' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  bookworm "$root" \
  "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
  "deb $security bookworm-security main" >"$work/mmdebstrap.log" 2>&1 ||
  { tail -20 "$work/mmdebstrap.log" >&2; die "mmdebstrap failed"; }

step "guest setup"
cp -a "$work/k/lib/modules" "$root/lib/"
echo cg2vm >"$root/etc/hostname"
printf '127.0.0.1 localhost cg2vm\n' >"$root/etc/hosts"
echo '# / is mounted read-write by the initramfs' >"$root/etc/fstab"
chroot "$root" passwd -d root >/dev/null # a network-less throw-away VM: console login for --shell
rm -f "$root/etc/machine-id"
chroot "$root" systemd-machine-id-setup >/dev/null 2>&1 # fixed: no "first boot" on every run
mkdir -p "$root/etc/systemd/journald.conf.d" "$root/etc/systemd/system/serial-getty@ttyS0.service.d"
printf '[Journal]\nStorage=volatile\n' >"$root/etc/systemd/journald.conf.d/volatile.conf"
cat >"$root/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200 %I $TERM
EOF

# The guest half of hack/cg2vm-run.sh: two 9p shares, "ctl" (this run's command, output and exit
# code) and "src" (the host directory, mounted at the same absolute path so build paths hold).
cat >"$root/usr/local/sbin/cg2vm-guest" <<'EOF'
#!/bin/bash
ctl=/run/cg2vm
opts=trans=virtio,version=9p2000.L,msize=262144
mkdir -p "$ctl"
if ! mount -t 9p -o "$opts" ctl "$ctl"; then
  echo "cg2vm-guest: no control share" >/dev/console
  systemctl poweroff --force --force
fi
date +%s.%N >"$ctl/booted"
src=$(cat "$ctl/dir")
if [ -n "$src" ]; then
  mkdir -p "$src"
  mount -t 9p -o "$opts,cache=none" src "$src"
fi
cd "${src:-/root}"
export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
bash "$ctl/cmd" >"$ctl/out" 2>&1 </dev/null
echo $? >"$ctl/rc.new" && mv "$ctl/rc.new" "$ctl/rc"
sync
[ -e "$ctl/shell" ] || systemctl poweroff --force --force
EOF
chmod 755 "$root/usr/local/sbin/cg2vm-guest"
cat >"$root/etc/systemd/system/cg2vm-guest.service" <<'EOF'
[Unit]
Description=Run the command hack/cg2vm-run.sh passed in, then power off
ConditionKernelCommandLine=cg2vm.run
After=basic.target dbus.service
Wants=dbus.service
[Service]
Type=exec
ExecStart=/usr/local/sbin/cg2vm-guest
TimeoutStartSec=infinity
[Install]
WantedBy=multi-user.target
EOF
chroot "$root" systemctl enable cg2vm-guest.service >/dev/null 2>&1
# Under emulation every unit costs boot time; nothing periodic matters in a VM that lives minutes.
for unit in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
  fstrim.timer systemd-timesyncd.service systemd-pstore.service systemd-update-utmp.service \
  getty@tty1.service modprobe@drm.service docker-registry.service; do
  chroot "$root" systemctl mask "$unit" >/dev/null 2>&1 || true
done
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

step "ext4 image"
mke2fs -q -t ext4 -L cg2vm -d "$root" -E root_owner=0:0 "$work/rootfs.raw" 4G
qemu-img convert -O qcow2 "$work/rootfs.raw" "$work/rootfs.qcow2"

# Replace the files by rename: a VM still running keeps the old ones open.
for f in vmlinux initrd.img rootfs.qcow2; do mv -f "$work/$f" "$dir/$f"; done
echo "$kver" >"$dir/kernel.version"
echo "$stamp" >"$dir/stamp"
step "done: $dir ($(du -sh "$dir/rootfs.qcow2" | cut -f1) root disk, kernel $kver)"
