#!/usr/bin/env bash
# A private Kubernetes-side environment for the CRI suites, benchmarks and critest: everything
# lives under DIR and in one network namespace of its own, so pods never touch the host's network
# and no test reaches a registry outside this machine.
#
# Usage: hack/cri-env.sh start|stop|restart|env DIR
#
#   start    - a network namespace hippo-cri-<hash of DIR> (only lo up);
#            - in it, Debian's docker-registry on 127.0.0.1:5000 (data DIR/registry);
#            - in it, a private containerd (hack/private-containerd.sh, DIR/ctrd) with the CRI
#              plugin: runtime handlers `hippo` (io.containerd.hippo.v2, options ConfigPath ->
#              DIR/hippo.yaml) and `runc` (io.containerd.runc.v2), a CNI bridge network
#              10.88.0.0/16 (cni0 exists only inside that namespace), sandbox image
#              registry.k8s.io/pause:3.6, and registry mirrors: docker.io, registry.k8s.io,
#              k8s.gcr.io, gcr.io, quay.io all resolve to the local registry only;
#            - every OCI archive HIPPO_CRI_IMAGES/*.tar is imported and pushed to the registry
#              under the name it carries (hack/make-cri-images.sh, hack/make-critest-images.sh).
#   stop     removes every pod through CRI, stops containerd and the registry, deletes the
#            namespace and the pods' cgroup parent; safe to run twice.
#   restart  restarts containerd alone (pods and shims keep running).
#   env      prints exports: CRI_ENDPOINT (unix://...), CONTAINERD_ADDRESS, HIPPO_CRI_NETNS,
#            HIPPO_CRI_CGROUP_PARENT.
#
# Env: HIPPO_BUILD (default <repo>/build): its bin/ goes first on containerd's PATH (the shim)
#      and tests/hippo-cri cleans pods up on stop.
#      HIPPO_CRI_IMAGES (default HIPPO_BUILD/cri-images, built by make-cri-images.sh if absent)
#      HIPPO_CRI_DRIVER cgroupfs|systemd (default cgroupfs): hippo's cgroup_driver and runc's
#        SystemdCgroup; with systemd the pods' parent is the slice hippo_cri_<hash>.slice.
#      HIPPO_CRI_BACKEND native|runc (default native): hippo's backend.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${HIPPO_BUILD:-$root/build}" && pwd)
driver=${HIPPO_CRI_DRIVER:-cgroupfs}
shim_dir=$build/bin
[[ -z ${HIPPO_SHIM:-} ]] || shim_dir=$(cd "$(dirname "$HIPPO_SHIM")" && pwd)
backend=${HIPPO_CRI_BACKEND:-native}
# config.yaml's grouping: a shim per pod, or one node daemon (which goes 1 s after its last
# container, so that a test's teardown finds no shim left).
grouping=${HIPPO_CRI_GROUPING:-pod}
PORT=5000

die() {
	echo "cri-env: $*" >&2
	exit 1
}

poll() {  # poll SECONDS CMD...: until CMD succeeds, at most SECONDS
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

alive() { [[ -e /proc/$1 ]] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
dead() { ! alive "$1"; }
in_ns() { nsenter "--net=/run/netns/$NETNS" -- "$@"; }
registry_up() { in_ns bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null; }

write_files() {
	local host systemd=false
	[[ $driver == systemd ]] && systemd=true
	mkdir -p "$DIR/registry/data" "$DIR/net.d" "$DIR/certs.d" "$DIR/hippo-state" "$DIR/runc"
	cat >"$DIR/registry/config.yml" <<-YAML
		version: 0.1
		log:
		  level: warn
		storage:
		  filesystem:
		    rootdirectory: $DIR/registry/data
		  delete:
		    enabled: true
		http:
		  addr: 127.0.0.1:$PORT
	YAML
	# containerd 1.6 follows a hosts.toml only through a [host."http://..."] section.
	for host in docker.io registry-1.docker.io registry.k8s.io k8s.gcr.io gcr.io quay.io; do
		mkdir -p "$DIR/certs.d/$host"
		cat >"$DIR/certs.d/$host/hosts.toml" <<-TOML
			server = "http://127.0.0.1:$PORT"
			[host."http://127.0.0.1:$PORT"]
			  capabilities = ["pull", "resolve"]
		TOML
	done
	cat >"$DIR/net.d/10-hippo-cri.conflist" <<-JSON
		{
		  "cniVersion": "1.0.0",
		  "name": "hippo-cri",
		  "plugins": [{
		    "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false,
		    "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.0.0/16"}]],
		             "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$DIR/cni-ipam"}
		  }, {
		    "type": "portmap", "capabilities": {"portMappings": true}
		  }]
		}
	JSON
	# CDI spec files of the environment's own (tests write vendor specs there), not /etc/cdi.
	mkdir -p "$DIR/cdi"
	printf 'backend: %s\nrunc_root: %s\nstate_root: %s\ncgroup_driver: %s\ncdi_spec_dirs: [%s]\ngrouping: %s\nnode_idle_exit: 1\n' \
		"$backend" "$DIR/hippo-runc" "$DIR/hippo-state" "$driver" "$DIR/cdi" "$grouping" >"$DIR/hippo.yaml"
	cat >"$DIR/cri.toml" <<-TOML

		[plugins."io.containerd.grpc.v1.cri"]
		  sandbox_image = "registry.k8s.io/pause:3.6"
		  # root may not lower oom_score_adj here (no CAP_SYS_RESOURCE)
		  restrict_oom_score_adj = true
		  stream_server_address = "127.0.0.1"
		  stream_server_port = "0"
		  [plugins."io.containerd.grpc.v1.cri".containerd]
		    default_runtime_name = "runc"
		    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
		      runtime_type = "io.containerd.runc.v2"
		      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
		        Root = "$DIR/runc"
		        SystemdCgroup = $systemd
		    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hippo]
		      runtime_type = "io.containerd.hippo.v2"
		      # containerd 1.6 passes a runtime only the annotations listed: the shim's grouping
		      # and CDI device requests (docs/devices.md), as a device plugin sets them.
		      pod_annotations = ["io.containerd.hippo.v2.*", "cdi.k8s.io/*"]
		      container_annotations = ["cdi.k8s.io/*"]
		      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hippo.options]
		        ConfigPath = "$DIR/hippo.yaml"
		  [plugins."io.containerd.grpc.v1.cri".cni]
		    bin_dir = "/usr/lib/cni"
		    conf_dir = "$DIR/net.d"
		  [plugins."io.containerd.grpc.v1.cri".registry]
		    config_path = "$DIR/certs.d"
	TOML
}

start_registry() {
	# nsenter and setsid exec, so $! is the registry itself
	nsenter "--net=/run/netns/$NETNS" -- setsid docker-registry serve "$DIR/registry/config.yml" \
		</dev/null >>"$DIR/registry/registry.log" 2>&1 &
	echo $! >"$DIR/registry/pid"
	poll 20 registry_up || {
		tail -20 "$DIR/registry/registry.log" >&2
		die "the registry did not answer on 127.0.0.1:$PORT in its namespace"
	}
}

push_images() {
	local images=${HIPPO_CRI_IMAGES:-$build/cri-images} tar name
	if [[ -z ${HIPPO_CRI_IMAGES:-} && ! -f $images/pause.tar ]]; then
		HIPPO_PAUSE=$build/tests/hippo-pause "$root/hack/make-cri-images.sh" "$images" >/dev/null
	fi
	local ctr=(in_ns ctr --address "$DIR/ctrd/containerd.sock" -n hippo-cri-staging)
	for tar in "$images"/*.tar; do
		[[ -f $tar ]] || die "no OCI archives in $images"
		name=$(tar -xOf "$tar" index.json | jq -r '.manifests[0].annotations["io.containerd.image.name"]')
		[[ -n $name && $name != null ]] || die "$tar names no image (io.containerd.image.name)"
		"${ctr[@]}" images import "$tar" >/dev/null
		# the registry holds the repository path without its host
		local local_ref=127.0.0.1:$PORT/${name#*/}
		"${ctr[@]}" images tag --force "$name" "$local_ref" >/dev/null
		"${ctr[@]}" images push --plain-http "$local_ref" >/dev/null ||
			die "pushing $name to the local registry failed"
	done
	local -a staged
	mapfile -t staged < <("${ctr[@]}" images ls -q)
	((${#staged[@]} == 0)) || "${ctr[@]}" images rm "${staged[@]}" >/dev/null
}

cmd_start() {
	[[ -x $shim_dir/containerd-shim-hippo-v2 ]] || die "$shim_dir/containerd-shim-hippo-v2 missing (make build)"
	command -v docker-registry >/dev/null || die "docker-registry missing (hack/install-deps.sh)"
	[[ -x /usr/lib/cni/bridge ]] || die "/usr/lib/cni/bridge missing (hack/install-deps.sh)"
	[[ ! -e /run/netns/$NETNS ]] || die "namespace $NETNS exists: run '$0 stop $DIR' first"
	mkdir -p "$DIR"
	write_files
	ip netns add "$NETNS"
	echo "$NETNS" >"$DIR/netns"
	# nsenter, not `ip -n`: ip remounts /sys for -n, which a user namespace refuses (no sysfs left
	# visible after its umount: mnt_too_revealing).
	in_ns ip link set lo up
	start_registry
	HIPPO_CONTAINERD_EXTRA_CONFIG=$DIR/cri.toml HIPPO_CONTAINERD_NETNS=/run/netns/$NETNS \
		PATH=$shim_dir:$PATH "$root/hack/private-containerd.sh" start "$DIR/ctrd" >/dev/null
	push_images
	echo "cri-env: containerd with CRI at unix://$DIR/ctrd/containerd.sock (namespace $NETNS)"
}

cmd_restart() {
	HIPPO_CONTAINERD_EXTRA_CONFIG=$DIR/cri.toml HIPPO_CONTAINERD_NETNS=/run/netns/$NETNS \
		PATH=$shim_dir:$PATH "$root/hack/private-containerd.sh" restart "$DIR/ctrd" >/dev/null
}

remove_cgroup_tree() {  # deepest first; only the tree this environment's pods live in
	local base dir
	for base in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do  # v1 hierarchies and unified, or a v2 root
		dir=$base${CGROUP_PARENT#/}
		[[ -d $dir ]] || continue
		find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

cmd_stop() {
	local rc=0 pid
	if [[ -S $DIR/ctrd/containerd.sock && -x $build/tests/hippo-cri ]]; then
		"$build/tests/hippo-cri" --endpoint "unix://$DIR/ctrd/containerd.sock" --timeout 30 \
			remove-all-pods >/dev/null 2>&1 || true
	fi
	HIPPO_CONTAINERD_NETNS=/run/netns/$NETNS "$root/hack/private-containerd.sh" stop "$DIR/ctrd" \
		>/dev/null || rc=1
	if [[ -f $DIR/registry/pid ]]; then
		pid=$(<"$DIR/registry/pid")
		if alive "$pid" && grep -q docker-registry "/proc/$pid/cmdline" 2>/dev/null; then
			kill -TERM "$pid"
			poll 10 dead "$pid" || kill -KILL "$pid" 2>/dev/null || true
		fi
		rm -f "$DIR/registry/pid"
	fi
	if [[ -e /run/netns/$NETNS ]]; then ip netns delete "$NETNS" || rc=1; fi
	[[ $driver == systemd ]] || remove_cgroup_tree
	return "$rc"
}

cmd_env() {
	printf 'export CRI_ENDPOINT=%q CONTAINERD_ADDRESS=%q HIPPO_CRI_NETNS=%q HIPPO_CRI_CGROUP_PARENT=%q\n' \
		"unix://$DIR/ctrd/containerd.sock" "$DIR/ctrd/containerd.sock" "$NETNS" "$CGROUP_PARENT"
}

[[ $# -eq 2 ]] || die "usage: $0 start|stop|restart|env DIR"
DIR=$(realpath -m -- "$2")
[[ $DIR != / ]] || die "refusing / as DIR"
hash=$(printf '%s' "$DIR" | sha256sum | cut -c1-10)
NETNS=hippo-cri-$hash
if [[ $driver == systemd ]]; then CGROUP_PARENT=hippo_cri_$hash.slice; else CGROUP_PARENT=/hippo-cri-$hash; fi
case $1 in
start | stop | restart | env) "cmd_$1" ;;
*) die "usage: $0 start|stop|restart|env DIR" ;;
esac
