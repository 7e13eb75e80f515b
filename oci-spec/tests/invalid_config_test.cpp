// Each invalid config names the exact JSON path and reason of its problem.

#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>

#include "oci-spec/config.hpp"

namespace hippo::spec {
namespace {

struct Case {
  std::string name;
  std::function<void(Json&)> mutate;
  std::string expected;
};

// Keeps test names readable in ctest's listing instead of a byte dump of the struct.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

Json base() { return to_json(default_spec()); }

Json& user_ns(Json& j) {
  j["linux"]["namespaces"].push_back({{"type", "user"}});
  j["linux"]["uidMappings"] = Json::parse(R"([{"containerID":0,"hostID":1000,"size":1}])");
  j["linux"]["gidMappings"] = Json::parse(R"([{"containerID":0,"hostID":1000,"size":1}])");
  return j;
}

const Case kCases[] = {
    {"UnknownNamespace", [](Json& j) { j["linux"]["namespaces"][2]["type"] = "pidd"; },
     "linux.namespaces[2].type: unknown namespace \"pidd\""},
    {"MemoryLimitAsString",
     [](Json& j) {
       j["linux"]["resources"]["memory"] = {{"limit", "1G"}};
     },
     "linux.resources.memory.limit: expected an integer, got string \"1G\""},
    {"MissingOciVersion", [](Json& j) { j.erase("ociVersion"); },
     "ociVersion: required property is missing"},
    {"MajorVersionTwo", [](Json& j) { j["ociVersion"] = "2.0.0"; },
     "ociVersion: unsupported version \"2.0.0\" (hippo reads 1.x, 1.0.0 to 1.2.0)"},
    {"VersionNotSemver", [](Json& j) { j["ociVersion"] = "one"; },
     "ociVersion: \"one\" is not a semantic version like \"1.2.0\""},
    {"MissingRoot", [](Json& j) { j.erase("root"); },
     "root: required on Linux: the container's root filesystem"},
    {"EmptyRootPath", [](Json& j) { j["root"]["path"] = ""; }, "root.path: must not be empty"},
    {"RootNotAnObject", [](Json& j) { j["root"] = "rootfs"; },
     "root: expected an object, got string \"rootfs\""},
    {"RelativeCwd", [](Json& j) { j["process"]["cwd"] = "work"; },
     "process.cwd: must be an absolute path, got \"work\""},
    {"EmptyArgs", [](Json& j) { j["process"]["args"] = Json::array(); },
     "process.args: must contain at least the program"},
    {"EnvWithoutEquals", [](Json& j) { j["process"]["env"][1] = "TERM"; },
     "process.env[1]: \"TERM\" is not of the form KEY=VALUE"},
    {"EnvWithEmptyName", [](Json& j) { j["process"]["env"][0] = "=x"; },
     "process.env[0]: \"=x\" has an empty variable name"},
    {"UnknownCapability", [](Json& j) { j["process"]["capabilities"]["bounding"][1] = "CAP_FOO"; },
     "process.capabilities.bounding[1]: unknown capability \"CAP_FOO\""},
    {"UnknownRlimit", [](Json& j) { j["process"]["rlimits"][0]["type"] = "RLIMIT_FOO"; },
     "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\""},
    {"DuplicateRlimit",
     [](Json& j) { j["process"]["rlimits"].push_back(j["process"]["rlimits"][0]); },
     "process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\""},
    {"SoftAboveHard", [](Json& j) { j["process"]["rlimits"][0]["soft"] = 2048; },
     "process.rlimits[0]: soft limit 2048 exceeds hard limit 1024"},
    {"NegativeUid", [](Json& j) { j["process"]["user"]["uid"] = -1; },
     "process.user.uid: -1 is out of range for an unsigned 32-bit integer"},
    {"MissingUser", [](Json& j) { j["process"].erase("user"); },
     "process.user: required property is missing"},
    {"OomScoreAdjOutOfRange", [](Json& j) { j["process"]["oomScoreAdj"] = 2000; },
     "process.oomScoreAdj: must be between -1000 and 1000, got 2000"},
    {"UnknownSchedulerPolicy",
     [](Json& j) {
       j["process"]["scheduler"] = {{"policy", "SCHED_FOO"}};
     },
     "process.scheduler.policy: unknown scheduler policy \"SCHED_FOO\""},
    {"PriorityForNonRealtimePolicy",
     [](Json& j) {
       j["process"]["scheduler"] = {{"policy", "SCHED_OTHER"}, {"priority", 5}};
     },
     "process.scheduler.priority: can only be set for SCHED_FIFO and SCHED_RR"},
    {"UnknownIoPriorityClass",
     [](Json& j) {
       j["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_FAST"}};
     },
     "process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_FAST\""},
    {"TerminalNotBoolean", [](Json& j) { j["process"]["terminal"] = "yes"; },
     "process.terminal: expected a boolean, got string \"yes\""},
    {"DuplicateNamespace",
     [](Json& j) {
       j["linux"]["namespaces"].push_back({{"type", "pid"}});
     },
     "linux.namespaces[5].type: duplicate namespace \"pid\""},
    {"RelativeNamespacePath",
     [](Json& j) { j["linux"]["namespaces"][1]["path"] = "proc/1/ns/net"; },
     "linux.namespaces[1].path: must be an absolute path, got \"proc/1/ns/net\""},
    {"MappingsWithoutUserNamespace",
     [](Json& j) {
       j["linux"]["uidMappings"] = Json::parse(R"([{"containerID":0,"hostID":1,"size":1}])");
     },
     "linux.uidMappings: id mappings need a user namespace in linux.namespaces"},
    {"UserNamespaceWithoutMappings",
     [](Json& j) {
       j["linux"]["namespaces"].push_back({{"type", "user"}});
     },
     "linux.uidMappings: a new user namespace needs at least one uid mapping"},
    {"ZeroSizeMapping", [](Json& j) { user_ns(j)["linux"]["gidMappings"][0]["size"] = 0; },
     "linux.gidMappings[0].size: must be > 0"},
    {"OverlappingContainerIds",
     [](Json& j) {
       user_ns(j)["linux"]["uidMappings"] = Json::parse(
           R"([{"containerID":0,"hostID":100000,"size":65536},
               {"containerID":1000,"hostID":1000,"size":1}])");
     },
     "linux.uidMappings[1]: container ids 1000-1000 overlap those of linux.uidMappings[0] "
     "(0-65535)"},
    {"OverlappingHostIds",
     [](Json& j) {
       user_ns(j)["linux"]["gidMappings"] = Json::parse(
           R"([{"containerID":0,"hostID":1000,"size":1},
               {"containerID":1,"hostID":500,"size":1000}])");
     },
     "linux.gidMappings[1]: host ids 500-1499 overlap those of linux.gidMappings[0] (1000-1000)"},
    {"OverlappingIdmappedMountIds",
     [](Json& j) {
       j["mounts"][0]["uidMappings"] = Json::parse(
           R"([{"containerID":0,"hostID":1,"size":10},{"containerID":5,"hostID":20,"size":1}])");
       j["mounts"][0]["gidMappings"] = Json::parse(R"([{"containerID":0,"hostID":1,"size":1}])");
     },
     "mounts[0].uidMappings[1]: container ids 5-5 overlap those of mounts[0].uidMappings[0] (0-9)"},
    {"TimeOffsetsWithoutTimeNamespace",
     [](Json& j) {
       j["linux"]["timeOffsets"] = {{"monotonic", {{"secs", 1}}}};
     },
     "linux.timeOffsets: needs a time namespace in linux.namespaces"},
    {"UnknownDeviceType",
     [](Json& j) {
       j["linux"]["devices"] = {{{"type", "x"}, {"path", "/dev/x"}}};
     },
     "linux.devices[0].type: unknown device type \"x\" (expected \"c\", \"b\", \"u\" or \"p\")"},
    {"RelativeDevicePath",
     [](Json& j) {
       j["linux"]["devices"] = {{{"type", "c"}, {"path", "dev/x"}, {"major", 1}, {"minor", 3}}};
     },
     "linux.devices[0].path: must be an absolute path, got \"dev/x\""},
    {"CharDeviceWithoutNumbers",
     [](Json& j) {
       j["linux"]["devices"] = {{{"type", "c"}, {"path", "/dev/x"}}};
     },
     "linux.devices[0]: a \"c\" device needs major and minor numbers"},
    {"BadDeviceRuleAccess",
     [](Json& j) { j["linux"]["resources"]["devices"][0]["access"] = "rwx"; },
     "linux.resources.devices[0].access: invalid access \"rwx\" (letters r, w, m only)"},
    {"EmptyDeviceRuleAccess", [](Json& j) { j["linux"]["resources"]["devices"][0]["access"] = ""; },
     "linux.resources.devices[0].access: must not be empty (letters r, w, m)"},
    {"MissingDeviceRuleAccess",
     [](Json& j) { j["linux"]["resources"]["devices"][0].erase("access"); },
     "linux.resources.devices[0].access: must not be empty (letters r, w, m)"},
    {"SwappinessAbove100",
     [](Json& j) {
       j["linux"]["resources"]["memory"] = {{"swappiness", 101}};
     },
     "linux.resources.memory.swappiness: must be between 0 and 100, got 101"},
    {"SwapBelowLimit",
     [](Json& j) {
       j["linux"]["resources"]["memory"] = {{"limit", 2000000}, {"swap", 1000000}};
     },
     "linux.resources.memory.swap: memory+swap limit 1000000 is below the memory limit 2000000"},
    {"NegativeMemoryLimit",
     [](Json& j) {
       j["linux"]["resources"]["memory"] = {{"limit", -2}};
     },
     "linux.resources.memory.limit: must be -1 (unlimited) or a number of bytes, got -2"},
    {"BadCpuList",
     [](Json& j) {
       j["linux"]["resources"]["cpu"] = {{"cpus", "0-a"}};
     },
     "linux.resources.cpu.cpus: invalid CPU list \"0-a\""},
    {"CpuPeriodTooShort",
     [](Json& j) {
       j["linux"]["resources"]["cpu"] = {{"period", 10}};
     },
     "linux.resources.cpu.period: must be between 1000 and 1000000, got 10"},
    {"CpuQuotaTooSmall",
     [](Json& j) {
       j["linux"]["resources"]["cpu"] = {{"quota", 10}};
     },
     "linux.resources.cpu.quota: must be -1 (unlimited) or at least 1000 microseconds, got 10"},
    {"PidsWithoutLimit", [](Json& j) { j["linux"]["resources"]["pids"] = Json::object(); },
     "linux.resources.pids.limit: required property is missing"},
    {"PidsLimitNotInteger",
     [](Json& j) {
       j["linux"]["resources"]["pids"] = {{"limit", 1.5}};
     },
     "linux.resources.pids.limit: expected an integer, got number 1.5"},
    {"BlkioWeightTooSmall",
     [](Json& j) {
       j["linux"]["resources"]["blockIO"] = {{"weight", 5}};
     },
     "linux.resources.blockIO.weight: must be between 10 and 1000, got 5"},
    {"BlkioWeightBeyond16Bits",
     [](Json& j) {
       j["linux"]["resources"]["blockIO"] = {{"weight", 70000}};
     },
     "linux.resources.blockIO.weight: 70000 is out of range for an unsigned 16-bit integer"},
    {"BadHugepageSize",
     [](Json& j) {
       j["linux"]["resources"]["hugepageLimits"] = {{{"pageSize", "2XB"}, {"limit", 1}}};
     },
     "linux.resources.hugepageLimits[0].pageSize: invalid page size \"2XB\" (expected a size like "
     "\"2MB\" or \"1GB\")"},
    {"UnifiedKeyWithSlash",
     [](Json& j) {
       j["linux"]["resources"]["unified"] = {{"memory/high", "1"}};
     },
     "linux.resources.unified[\"memory/high\"]: not a cgroup v2 interface file name like "
     "\"memory.high\""},
    {"HostSysctl",
     [](Json& j) {
       j["linux"]["sysctl"] = {{"vm.swappiness", "10"}};
     },
     "linux.sysctl[\"vm.swappiness\"]: not a namespaced sysctl: setting it would change the host"},
    {"NetSysctlInHostNetwork",
     [](Json& j) {
       j["linux"]["namespaces"].erase(1);
       j["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
     },
     "linux.sysctl[\"net.ipv4.ip_forward\"]: needs a network namespace of the container's own"},
    {"UnknownSeccompAction",
     [](Json& j) {
       j["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_MAYBE"}};
     },
     "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_MAYBE\""},
    {"UnknownSeccompArch",
     [](Json& j) {
       j["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                {"architectures", {"SCMP_ARCH_Z80"}}};
     },
     "linux.seccomp.architectures[0]: unknown seccomp architecture \"SCMP_ARCH_Z80\""},
    {"SeccompRuleWithoutNames",
     [](Json& j) {
       j["linux"]["seccomp"] = Json::parse(
           R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[],"action":"SCMP_ACT_ERRNO"}]})");
     },
     "linux.seccomp.syscalls[0].names: must name at least one syscall"},
    {"UnknownSeccompOperator",
     [](Json& j) {
       j["linux"]["seccomp"] = Json::parse(
           R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO",
               "args":[{"index":0,"value":1,"op":"SCMP_CMP_SORTA"}]}]})");
     },
     "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_SORTA\""},
    {"SeccompArgIndexAbove5",
     [](Json& j) {
       j["linux"]["seccomp"] = Json::parse(
           R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO",
               "args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]})");
     },
     "linux.seccomp.syscalls[0].args[0].index: a syscall has arguments 0 to 5, got 6"},
    {"SeccompNotifyWithoutListener",
     [](Json& j) {
       j["linux"]["seccomp"] = Json::parse(
           R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]})");
     },
     "linux.seccomp.listenerPath: SCMP_ACT_NOTIFY needs a listenerPath"},
    {"SeccompNotifyOnWrite",
     [](Json& j) {
       j["linux"]["seccomp"] = Json::parse(
           R"({"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/agent.sock",
               "syscalls":[{"names":["mkdir","write"],"action":"SCMP_ACT_NOTIFY"}]})");
     },
     "linux.seccomp.syscalls[0].names: SCMP_ACT_NOTIFY cannot be used for the write syscall"},
    {"UnknownRootfsPropagation", [](Json& j) { j["linux"]["rootfsPropagation"] = "sideways"; },
     "linux.rootfsPropagation: unknown propagation \"sideways\""},
    {"RelativeMaskedPath", [](Json& j) { j["linux"]["maskedPaths"][3] = "proc/keys"; },
     "linux.maskedPaths[3]: must be an absolute path, got \"proc/keys\""},
    {"RelativeReadonlyPath", [](Json& j) { j["linux"]["readonlyPaths"][0] = "proc/bus"; },
     "linux.readonlyPaths[0]: must be an absolute path, got \"proc/bus\""},
    {"UnknownPersonality",
     [](Json& j) {
       j["linux"]["personality"] = {{"domain", "LINUX64"}};
     },
     "linux.personality.domain: unknown personality domain \"LINUX64\""},
    {"RelativeHookPath",
     [](Json& j) {
       j["hooks"] = {{"poststart", {{{"path", "bin/hook"}}}}};
     },
     "hooks.poststart[0].path: must be an absolute path, got \"bin/hook\""},
    {"ZeroHookTimeout",
     [](Json& j) {
       j["hooks"] = {{"prestart", {{{"path", "/bin/hook"}, {"timeout", 0}}}}};
     },
     "hooks.prestart[0].timeout: must be > 0 seconds, got 0"},
    {"RelativeMountDestination", [](Json& j) { j["mounts"][1]["destination"] = "dev"; },
     "mounts[1].destination: must be an absolute path, got \"dev\""},
    {"MountWithoutDestination", [](Json& j) { j["mounts"][4].erase("destination"); },
     "mounts[4].destination: required property is missing"},
    {"MountsNotAnArray", [](Json& j) { j["mounts"] = Json::object(); },
     "mounts: expected an array, got object"},
    {"IdmappedMountWithOnlyUidMappings",
     [](Json& j) {
       j["mounts"][0]["uidMappings"] = Json::parse(R"([{"containerID":0,"hostID":1,"size":1}])");
     },
     "mounts[0]: an idmapped mount needs both uidMappings and gidMappings"},
    {"HostnameWithoutUtsNamespace", [](Json& j) { j["linux"]["namespaces"].erase(3); },
     "hostname: setting a hostname needs a uts namespace in linux.namespaces"},
    {"AnnotationNotString",
     [](Json& j) {
       j["annotations"] = {{"a", 1}};
     },
     "annotations[\"a\"]: expected a string, got number 1"},
};

class InvalidConfig : public testing::TestWithParam<Case> {};

TEST_P(InvalidConfig, NamesPathAndReason) {
  const auto& c = GetParam();
  auto j = base();
  c.mutate(j);
  auto parsed = parse(j.dump());
  Result<void> checked = parsed ? validate(*parsed) : Result<void>(std::unexpected(parsed.error()));
  ASSERT_FALSE(checked) << c.name << " was accepted";
  EXPECT_EQ(checked.error().message, "config.json: " + c.expected);
}

INSTANTIATE_TEST_SUITE_P(Spec, InvalidConfig, testing::ValuesIn(kCases),
                         [](const auto& test) { return test.param.name; });

TEST(ValidConfig, BaseOfTheInvalidCasesIsValid) {
  auto parsed = parse(base().dump());
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(validate(*parsed));
  auto j = base();
  user_ns(j);
  auto with_userns = parse(j.dump());
  ASSERT_TRUE(with_userns);
  EXPECT_TRUE(validate(*with_userns)) << validate(*with_userns).error().message;
}

TEST(ValidConfig, DeviceAccessInAnyOrderWithRepeatsAsRunc) {
  for (const char* access : {"rwm", "mrw", "wr", "m", "rrw", "mm"}) {
    auto j = base();
    j["linux"]["resources"]["devices"][0]["access"] = access;
    auto parsed = parse(j.dump());
    ASSERT_TRUE(parsed);
    EXPECT_TRUE(validate(*parsed)) << access;
  }
}

TEST(ValidConfig, AdjacentIdMappingsDoNotOverlap) {
  auto j = base();
  user_ns(j)["linux"]["uidMappings"] = Json::parse(
      R"([{"containerID":0,"hostID":1000,"size":1},{"containerID":1,"hostID":100000,"size":65535},
          {"containerID":65536,"hostID":1001,"size":1}])");
  auto parsed = parse(j.dump());
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(validate(*parsed)) << validate(*parsed).error().message;
}

TEST(ValidConfig, ZeroMemoryLimitMeansUnsetAsInRunc) {
  auto j = base();
  j["linux"]["resources"]["memory"] = {{"limit", 0}, {"swap", -1}};
  auto parsed = parse(j.dump());
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(validate(*parsed));
}

TEST(ValidConfig, LabelNamesTheSource) {
  auto parsed = parse("{}", "/b/config.json");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, "/b/config.json: ociVersion: required property is missing");
}

TEST(ValidConfig, LoadSaysInvalidConfigurationAsRunc) {
  auto j = base();
  j["process"]["cwd"] = "relative";
  char path[] = "/tmp/hippo-config-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = j.dump();
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
  auto loaded = load(path);
  ::unlink(path);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message,
            "invalid configuration: config.json: process.cwd: must be an absolute path, got "
            "\"relative\"");
}

}  // namespace
}  // namespace hippo::spec
