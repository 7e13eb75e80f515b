#pragma once
// Internal: the JSON property names of every spec struct, written once and walked by both the
// reader and the writer (json_codec.hpp), so parsing and serializing cannot drift apart.
// A plain member is a REQUIRED property; an Opt<> member is OPTIONAL.

#include "oci-spec/json_codec.hpp"
#include "oci-spec/spec.hpp"

namespace hippo::spec {

template <class V, Is<IdMapping> M>
void describe(V& v, M& m) {
  v("containerID", m.containerID);
  v("hostID", m.hostID);
  v("size", m.size);
}

template <class V, Is<Box> M>
void describe(V& v, M& m) {
  v("height", m.height);
  v("width", m.width);
}

template <class V, Is<User> M>
void describe(V& v, M& m) {
  v("uid", m.uid);
  v("gid", m.gid);
  v("umask", m.umask);
  v("additionalGids", m.additionalGids);
  v("username", m.username);
}

template <class V, Is<Capabilities> M>
void describe(V& v, M& m) {
  v("bounding", m.bounding);
  v("effective", m.effective);
  v("inheritable", m.inheritable);
  v("permitted", m.permitted);
  v("ambient", m.ambient);
}

template <class V, Is<Rlimit> M>
void describe(V& v, M& m) {
  v("type", m.type);
  v("hard", m.hard);
  v("soft", m.soft);
}

template <class V, Is<Scheduler> M>
void describe(V& v, M& m) {
  v("policy", m.policy);
  v("nice", m.nice);
  v("priority", m.priority);
  v("flags", m.flags);
  v("runtime", m.runtime);
  v("deadline", m.deadline);
  v("period", m.period);
}

template <class V, Is<IoPriority> M>
void describe(V& v, M& m) {
  v("class", m.ioClass);
  v("priority", m.priority);
}

template <class V, Is<CpuAffinity> M>
void describe(V& v, M& m) {
  v("initial", m.initial);
  v("final", m.final);
}

template <class V, Is<Process> M>
void describe(V& v, M& m) {
  v("terminal", m.terminal);
  v("consoleSize", m.consoleSize);
  v("user", m.user);
  v("args", m.args);
  v("env", m.env);
  v("cwd", m.cwd);
  v("capabilities", m.capabilities);
  v("rlimits", m.rlimits);
  v("noNewPrivileges", m.noNewPrivileges);
  v("apparmorProfile", m.apparmorProfile);
  v("oomScoreAdj", m.oomScoreAdj);
  v("scheduler", m.scheduler);
  v("selinuxLabel", m.selinuxLabel);
  v("ioPriority", m.ioPriority);
  v("execCPUAffinity", m.execCPUAffinity);
}

template <class V, Is<Root> M>
void describe(V& v, M& m) {
  v("path", m.path);
  v("readonly", m.readonly);
}

template <class V, Is<Mount> M>
void describe(V& v, M& m) {
  v("destination", m.destination);
  v("type", m.type);
  v("source", m.source);
  v("options", m.options);
  v("uidMappings", m.uidMappings);
  v("gidMappings", m.gidMappings);
}

template <class V, Is<Hook> M>
void describe(V& v, M& m) {
  v("path", m.path);
  v("args", m.args);
  v("env", m.env);
  v("timeout", m.timeout);
}

template <class V, Is<Hooks> M>
void describe(V& v, M& m) {
  v("prestart", m.prestart);
  v("createRuntime", m.createRuntime);
  v("createContainer", m.createContainer);
  v("startContainer", m.startContainer);
  v("poststart", m.poststart);
  v("poststop", m.poststop);
}

template <class V, Is<Namespace> M>
void describe(V& v, M& m) {
  v("type", m.type);
  v("path", m.path);
}

template <class V, Is<TimeOffset> M>
void describe(V& v, M& m) {
  v("secs", m.secs);
  v("nanosecs", m.nanosecs);
}

template <class V, Is<Device> M>
void describe(V& v, M& m) {
  v("type", m.type);
  v("path", m.path);
  v("major", m.major);
  v("minor", m.minor);
  v("fileMode", m.fileMode);
  v("uid", m.uid);
  v("gid", m.gid);
}

template <class V, Is<DeviceRule> M>
void describe(V& v, M& m) {
  v("allow", m.allow);
  v("type", m.type);
  v("major", m.major);
  v("minor", m.minor);
  v("access", m.access);
}

template <class V, Is<Memory> M>
void describe(V& v, M& m) {
  v("limit", m.limit);
  v("reservation", m.reservation);
  v("swap", m.swap);
  v("kernel", m.kernel);
  v("kernelTCP", m.kernelTCP);
  v("swappiness", m.swappiness);
  v("disableOOMKiller", m.disableOOMKiller);
  v("useHierarchy", m.useHierarchy);
  v("checkBeforeUpdate", m.checkBeforeUpdate);
}

template <class V, Is<Cpu> M>
void describe(V& v, M& m) {
  v("shares", m.shares);
  v("quota", m.quota);
  v("burst", m.burst);
  v("period", m.period);
  v("realtimeRuntime", m.realtimeRuntime);
  v("realtimePeriod", m.realtimePeriod);
  v("cpus", m.cpus);
  v("mems", m.mems);
  v("idle", m.idle);
}

template <class V, Is<Pids> M>
void describe(V& v, M& m) {
  v("limit", m.limit);
}

template <class V, Is<WeightDevice> M>
void describe(V& v, M& m) {
  v("major", m.major);
  v("minor", m.minor);
  v("weight", m.weight);
  v("leafWeight", m.leafWeight);
}

template <class V, Is<ThrottleDevice> M>
void describe(V& v, M& m) {
  v("major", m.major);
  v("minor", m.minor);
  v("rate", m.rate);
}

template <class V, Is<BlockIO> M>
void describe(V& v, M& m) {
  v("weight", m.weight);
  v("leafWeight", m.leafWeight);
  v("weightDevice", m.weightDevice);
  v("throttleReadBpsDevice", m.throttleReadBpsDevice);
  v("throttleWriteBpsDevice", m.throttleWriteBpsDevice);
  v("throttleReadIOPSDevice", m.throttleReadIOPSDevice);
  v("throttleWriteIOPSDevice", m.throttleWriteIOPSDevice);
}

template <class V, Is<HugepageLimit> M>
void describe(V& v, M& m) {
  v("pageSize", m.pageSize);
  v("limit", m.limit);
}

template <class V, Is<InterfacePriority> M>
void describe(V& v, M& m) {
  v("name", m.name);
  v("priority", m.priority);
}

template <class V, Is<Network> M>
void describe(V& v, M& m) {
  v("classID", m.classID);
  v("priorities", m.priorities);
}

template <class V, Is<Rdma> M>
void describe(V& v, M& m) {
  v("hcaHandles", m.hcaHandles);
  v("hcaObjects", m.hcaObjects);
}

template <class V, Is<Resources> M>
void describe(V& v, M& m) {
  v("devices", m.devices);
  v("memory", m.memory);
  v("cpu", m.cpu);
  v("pids", m.pids);
  v("blockIO", m.blockIO);
  v("hugepageLimits", m.hugepageLimits);
  v("network", m.network);
  v("rdma", m.rdma);
  v("unified", m.unified);
}

template <class V, Is<SeccompArg> M>
void describe(V& v, M& m) {
  v("index", m.index);
  v("value", m.value);
  v("valueTwo", m.valueTwo);
  v("op", m.op);
}

template <class V, Is<SeccompSyscall> M>
void describe(V& v, M& m) {
  v("names", m.names);
  v("action", m.action);
  v("errnoRet", m.errnoRet);
  v("args", m.args);
}

template <class V, Is<Seccomp> M>
void describe(V& v, M& m) {
  v("defaultAction", m.defaultAction);
  v("defaultErrnoRet", m.defaultErrnoRet);
  v("architectures", m.architectures);
  v("flags", m.flags);
  v("listenerPath", m.listenerPath);
  v("listenerMetadata", m.listenerMetadata);
  v("syscalls", m.syscalls);
}

template <class V, Is<IntelRdt> M>
void describe(V& v, M& m) {
  v("closID", m.closID);
  v("l3CacheSchema", m.l3CacheSchema);
  v("memBwSchema", m.memBwSchema);
  v("enableCMT", m.enableCMT);
  v("enableMBM", m.enableMBM);
}

template <class V, Is<Personality> M>
void describe(V& v, M& m) {
  v("domain", m.domain);
  v("flags", m.flags);
}

template <class V, Is<NetDevice> M>
void describe(V& v, M& m) {
  v("name", m.name);
}

template <class V, Is<Linux> M>
void describe(V& v, M& m) {
  v("uidMappings", m.uidMappings);
  v("gidMappings", m.gidMappings);
  v("sysctl", m.sysctl);
  v("resources", m.resources);
  v("cgroupsPath", m.cgroupsPath);
  v("namespaces", m.namespaces);
  v("timeOffsets", m.timeOffsets);
  v("devices", m.devices);
  v("netDevices", m.netDevices);
  v("seccomp", m.seccomp);
  v("rootfsPropagation", m.rootfsPropagation);
  v("maskedPaths", m.maskedPaths);
  v("readonlyPaths", m.readonlyPaths);
  v("mountLabel", m.mountLabel);
  v("intelRdt", m.intelRdt);
  v("personality", m.personality);
}

template <class V, Is<Spec> M>
void describe(V& v, M& m) {
  v("ociVersion", m.ociVersion);
  v("process", m.process);
  v("root", m.root);
  v("hostname", m.hostname);
  v("domainname", m.domainname);
  v("mounts", m.mounts);
  v("hooks", m.hooks);
  v("annotations", m.annotations);
  v("linux", m.linux);
}

}  // namespace hippo::spec
