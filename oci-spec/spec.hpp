#pragma once
// C++ model of the OCI runtime-spec config.json, versions 1.0 to 1.2, Linux fields.
//
// Every optional JSON property is a std::optional so that parse -> serialize gives back what was
// read (a present-but-empty array stays present). Enumerations stay strings as the JSON has them;
// validate() guarantees they are known names, and names.hpp maps them to kernel values.
// Properties the model does not know are ignored, as the spec requires of runtimes.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hippo::spec {

template <class T>
using Opt = std::optional<T>;
using Strings = std::vector<std::string>;
using StringMap = std::map<std::string, std::string>;

struct IdMapping {
  uint32_t containerID = 0;
  uint32_t hostID = 0;
  uint32_t size = 0;
};

struct Box {
  uint32_t height = 0;
  uint32_t width = 0;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  Opt<uint32_t> umask;
  Opt<std::vector<uint32_t>> additionalGids;
  Opt<std::string> username;
};

struct Capabilities {
  Opt<Strings> bounding, effective, inheritable, permitted, ambient;
};

struct Rlimit {
  std::string type;
  uint64_t soft = 0;
  uint64_t hard = 0;
};

struct Scheduler {
  std::string policy;
  Opt<int32_t> nice;
  Opt<int32_t> priority;
  Opt<Strings> flags;
  Opt<uint64_t> runtime;
  Opt<uint64_t> deadline;
  Opt<uint64_t> period;
};

struct IoPriority {
  std::string ioClass;  // JSON "class"
  Opt<int32_t> priority;
};

struct CpuAffinity {
  Opt<std::string> initial;
  Opt<std::string> final;
};

struct Process {
  Opt<bool> terminal;
  Opt<Box> consoleSize;
  User user;
  Opt<Strings> args;
  Opt<Strings> env;
  std::string cwd;
  Opt<Capabilities> capabilities;
  Opt<std::vector<Rlimit>> rlimits;
  Opt<bool> noNewPrivileges;
  Opt<std::string> apparmorProfile;
  Opt<int32_t> oomScoreAdj;
  Opt<Scheduler> scheduler;
  Opt<std::string> selinuxLabel;
  Opt<IoPriority> ioPriority;
  Opt<CpuAffinity> execCPUAffinity;
};

struct Root {
  std::string path;
  Opt<bool> readonly;
};

struct Mount {
  std::string destination;
  Opt<std::string> source;
  Opt<Strings> options;
  Opt<std::string> type;
  Opt<std::vector<IdMapping>> uidMappings;
  Opt<std::vector<IdMapping>> gidMappings;
};

struct Hook {
  std::string path;
  Opt<Strings> args;
  Opt<Strings> env;
  Opt<int64_t> timeout;
};

struct Hooks {
  Opt<std::vector<Hook>> prestart, createRuntime, createContainer, startContainer, poststart,
      poststop;
};

struct Namespace {
  std::string type;
  Opt<std::string> path;
};

struct TimeOffset {
  Opt<int64_t> secs;
  Opt<uint32_t> nanosecs;
};

struct Device {
  std::string type;
  std::string path;
  Opt<int64_t> major;
  Opt<int64_t> minor;
  Opt<uint32_t> fileMode;
  Opt<uint32_t> uid;
  Opt<uint32_t> gid;
};

struct DeviceRule {
  bool allow = false;
  Opt<std::string> type;
  Opt<int64_t> major;
  Opt<int64_t> minor;
  Opt<std::string> access;
};

struct Memory {
  Opt<int64_t> limit;
  Opt<int64_t> reservation;
  Opt<int64_t> swap;
  Opt<int64_t> kernel;
  Opt<int64_t> kernelTCP;
  Opt<uint64_t> swappiness;
  Opt<bool> disableOOMKiller;
  Opt<bool> useHierarchy;
  Opt<bool> checkBeforeUpdate;
};

struct Cpu {
  Opt<uint64_t> shares;
  Opt<int64_t> quota;
  Opt<uint64_t> burst;
  Opt<uint64_t> period;
  Opt<int64_t> realtimeRuntime;
  Opt<uint64_t> realtimePeriod;
  Opt<std::string> cpus;
  Opt<std::string> mems;
  Opt<int64_t> idle;
};

struct Pids {
  int64_t limit = 0;
};

struct WeightDevice {
  int64_t major = 0;
  int64_t minor = 0;
  Opt<uint16_t> weight;
  Opt<uint16_t> leafWeight;
};

struct ThrottleDevice {
  int64_t major = 0;
  int64_t minor = 0;
  uint64_t rate = 0;
};

struct BlockIO {
  Opt<uint16_t> weight;
  Opt<uint16_t> leafWeight;
  Opt<std::vector<WeightDevice>> weightDevice;
  Opt<std::vector<ThrottleDevice>> throttleReadBpsDevice, throttleWriteBpsDevice,
      throttleReadIOPSDevice, throttleWriteIOPSDevice;
};

struct HugepageLimit {
  std::string pageSize;
  uint64_t limit = 0;
};

struct InterfacePriority {
  std::string name;
  uint32_t priority = 0;
};

struct Network {
  Opt<uint32_t> classID;
  Opt<std::vector<InterfacePriority>> priorities;
};

struct Rdma {
  Opt<uint32_t> hcaHandles;
  Opt<uint32_t> hcaObjects;
};

struct Resources {
  Opt<std::vector<DeviceRule>> devices;
  Opt<Memory> memory;
  Opt<Cpu> cpu;
  Opt<Pids> pids;
  Opt<BlockIO> blockIO;
  Opt<std::vector<HugepageLimit>> hugepageLimits;
  Opt<Network> network;
  Opt<std::map<std::string, Rdma>> rdma;
  Opt<StringMap> unified;
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  Opt<uint64_t> valueTwo;
  std::string op;
};

struct SeccompSyscall {
  Strings names;
  std::string action;
  Opt<uint32_t> errnoRet;
  Opt<std::vector<SeccompArg>> args;
};

struct Seccomp {
  std::string defaultAction;
  Opt<uint32_t> defaultErrnoRet;
  Opt<Strings> architectures;
  Opt<Strings> flags;
  Opt<std::string> listenerPath;
  Opt<std::string> listenerMetadata;
  Opt<std::vector<SeccompSyscall>> syscalls;
};

struct IntelRdt {
  Opt<std::string> closID;
  Opt<std::string> l3CacheSchema;
  Opt<std::string> memBwSchema;
  Opt<bool> enableCMT;
  Opt<bool> enableMBM;
};

struct Personality {
  std::string domain;
  Opt<Strings> flags;
};

struct NetDevice {
  Opt<std::string> name;
};

struct Linux {
  Opt<std::vector<Namespace>> namespaces;
  Opt<std::vector<IdMapping>> uidMappings;
  Opt<std::vector<IdMapping>> gidMappings;
  Opt<std::map<std::string, TimeOffset>> timeOffsets;
  Opt<std::vector<Device>> devices;
  Opt<std::string> cgroupsPath;
  Opt<Resources> resources;
  Opt<std::string> rootfsPropagation;
  Opt<Seccomp> seccomp;
  Opt<StringMap> sysctl;
  Opt<Strings> maskedPaths;
  Opt<Strings> readonlyPaths;
  Opt<std::string> mountLabel;
  Opt<IntelRdt> intelRdt;
  Opt<Personality> personality;
  Opt<std::map<std::string, NetDevice>> netDevices;
};

struct Spec {
  std::string ociVersion;
  Opt<Process> process;
  Opt<Root> root;
  Opt<std::string> hostname;
  Opt<std::string> domainname;
  Opt<std::vector<Mount>> mounts;
  Opt<Hooks> hooks;
  Opt<StringMap> annotations;
  Opt<Linux> linux;
};

}  // namespace hippo::spec
