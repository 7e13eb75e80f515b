#!/usr/bin/env bash
# Runs one command inside a throw-away cgroup v2 VM (image: hack/cg2vm-image.sh) and returns its
# exit code. DIR is shared read-write and mounted in the guest at the same absolute path; the
# command runs there as root under systemd (in cg2vm-guest.service), without network.
#
#   hack/cg2vm-run.sh [-t SECONDS] DIR 'command'    output streamed, the command's exit code returned
#   hack/cg2vm-run.sh --shell [DIR]                  root shell on the serial console; Ctrl-a x quits
#
# Exit codes besides the command's: 124 timeout, 125 the VM gave no result (console tail printed).
# Every run boots from the pristine image (the disk is opened with snapshot=on), in a run dir of
# its own (mktemp), so concurrent runs never share state. KVM is used when the CPU offers VT-x or
# AMD-V; otherwise QEMU emulates (TCG): ~25 s to boot and code 5-10x slower.
#
# Env: CG2VM_DIR (image dir, default /var/tmp/hippo-cg2vm), CG2VM_TIMEOUT (900), CG2VM_MEM (MiB,
#      2048), CG2VM_CPUS (2), CG2VM_KEEP=1 keeps the run dir (console log) after success.
set -uo pipefail

img=${CG2VM_DIR:-/var/tmp/hippo-cg2vm}
timeout_s=${CG2VM_TIMEOUT:-900}
shell=false
case ${1:-} in
  -t) timeout_s=$2; shift 2 ;;
  --shell) shell=true; shift ;;
esac
if $shell; then
  src=${1:-} cmd=true
else
  [[ $# -eq 2 ]] || { sed -n '2,16s/^# \{0,1\}//p' "$0" >&2; exit 2; }
  src=$1 cmd=$2
fi
if [[ -n $src ]]; then
  src=$(realpath -e "$src") && [[ -d $src ]] || { echo "cg2vm-run: $1 is no directory" >&2; exit 2; }
fi
for f in vmlinux initrd.img rootfs.qcow2; do
  [[ -r $img/$f ]] || { echo "cg2vm-run: $img/$f missing; build it with hack/cg2vm-image.sh" >&2; exit 125; }
done

mkdir -p "$img/runs"
run=$(mktemp -d "$img/runs/run.XXXXXX")
mkdir "$run/ctl"
printf '%s\n' "$src" >"$run/ctl/dir"
printf '%s\n' "$cmd" >"$run/ctl/cmd"
$shell && : >"$run/ctl/shell"

if [[ -w /dev/kvm ]] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
  accel=(-accel kvm -cpu host)
else
  accel=(-accel tcg,thread=multi,tb-size=512 -cpu max)
fi
append="console=ttyS0 root=/dev/vda rw quiet panic=-1 mitigations=off \
systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all cg2vm.run"
# Batch runs need no login prompt; it only costs boot time.
$shell || append+=" systemd.mask=serial-getty@ttyS0.service"
qemu=(qemu-system-x86_64 "${accel[@]}" -M pc -smp "${CG2VM_CPUS:-2}" -m "${CG2VM_MEM:-2048}"
  -nodefaults -no-user-config -display none -nic none -no-reboot
  -kernel "$img/vmlinux" -initrd "$img/initrd.img" -append "$append"
  -drive "file=$img/rootfs.qcow2,if=virtio,format=qcow2,snapshot=on,cache=unsafe"
  -device virtio-rng-pci
  -virtfs "local,path=$run/ctl,mount_tag=ctl,security_model=none,id=ctl")
# passthrough: files the guest's root writes (build/test-logs…) are the host root's.
[[ -n $src ]] && qemu+=(-virtfs "local,path=$src,mount_tag=src,security_model=passthrough,id=src")
export TMPDIR=$run # the snapshot overlay of the disk goes away with the run dir

if $shell; then
  echo "cg2vm-run: booting; Ctrl-a x quits" >&2
  "${qemu[@]}" -serial mon:stdio
  rc=$?
  rm -rf "$run"
  exit $rc
fi

started=$(date +%s.%N)
timeout -k 10 "$timeout_s" "${qemu[@]}" -serial "file:$run/console.log" >"$run/qemu.log" 2>&1 &
qpid=$!
trap 'kill $qpid 2>/dev/null; wait $qpid 2>/dev/null; rm -rf "$run"; exit 130' INT TERM
tail -n +1 -F -s 0.2 --pid=$qpid "$run/ctl/out" 2>/dev/null &
tpid=$!
wait $qpid
qrc=$?
wait $tpid 2>/dev/null

if [[ -f $run/ctl/rc ]]; then
  rc=$(cat "$run/ctl/rc")
  if [[ -f $run/ctl/booted ]]; then
    # the file's mtime is the host's clock at the guest's write
    echo "cg2vm-run: booted in $(awk -v a="$started" -v b="$(stat -c %.9Y "$run/ctl/booted")" \
      'BEGIN { printf "%.0f", b - a }') s, whole run $(awk -v a="$started" \
      -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s" >&2
  fi
else
  if [[ $qrc -eq 124 || $qrc -eq 137 ]]; then
    echo "cg2vm-run: no result within ${timeout_s} s" >&2
    rc=124
  else
    echo "cg2vm-run: the VM stopped without a result (qemu exit $qrc)" >&2
    rc=125
  fi
  tail -n 20 "$run/qemu.log" >&2
  echo "--- guest console (tail) ---" >&2
  tail -n 40 "$run/console.log" | tr -d '\r' >&2
fi
if [[ ${CG2VM_KEEP:-0} == 1 || ! -f $run/ctl/rc ]]; then
  echo "cg2vm-run: run dir kept: $run" >&2
else
  rm -rf "$run"
fi
exit "$rc"
