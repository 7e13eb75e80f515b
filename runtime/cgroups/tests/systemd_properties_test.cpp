#include "runtime/cgroups/systemd_properties.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <ranges>

namespace hippo::cgroups {
namespace {

constexpr SystemdFeatures kV1{UnitHierarchy::v1, 252};
constexpr SystemdFeatures kV2{UnitHierarchy::v2, 252};

std::string pts_name(char type, int64_t major) { return type == 'c' && major == 136 ? "pts" : ""; }

std::vector<Property> props(const spec::Resources& r, SystemdFeatures f, bool create = false) {
  auto p = resource_properties(r, f, create, &pts_name);
  EXPECT_TRUE(p) << p.error().message;
  return p ? *p : std::vector<Property>{};
}

// The last one of that name: systemd applies them in order (DeviceAllow is reset, then set).
const PropertyValue* find(const std::vector<Property>& list, std::string_view name) {
  auto it = std::ranges::find(list | std::views::reverse, name, &Property::name);
  return it == list.rend() ? nullptr : &it->value;
}

template <class T>
T value_of(const std::vector<Property>& list, std::string_view name) {
  const auto* v = find(list, name);
  EXPECT_NE(v, nullptr) << name;
  if (!v) return T{};
  EXPECT_TRUE(std::holds_alternative<T>(*v)) << name << " has signature " << signature_of(*v);
  return std::holds_alternative<T>(*v) ? std::get<T>(*v) : T{};
}

TEST(SystemdSlice, DashedSlicesNestInTheirPrefixes) {
  EXPECT_EQ(expand_slice("system.slice").value(), "/system.slice");
  EXPECT_EQ(expand_slice("a-b-c.slice").value(), "/a.slice/a-b.slice/a-b-c.slice");
  EXPECT_EQ(expand_slice("-.slice").value(), "/");
}

TEST(SystemdSlice, NamesSystemdRefusesAreErrors) {
  for (const char* bad : {"system", "a--b.slice", "-a.slice", "a-.slice", "a/b.slice", ".slice"}) {
    auto r = expand_slice(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("config.json: linux.cgroupsPath"), std::string::npos);
  }
}

TEST(SystemdScopeName, RuncsSlicePrefixNameForm) {
  auto s = parse_scope_name("system.slice:hippo:c1", "id", "machine.slice").value();
  EXPECT_EQ(s.unit, "hippo-c1.scope");
  EXPECT_EQ(s.slice, "system.slice");
  EXPECT_EQ(s.cgroup, "/system.slice/hippo-c1.scope");
}

TEST(SystemdScopeName, EmptyPartsTakeDefaults) {
  auto s = parse_scope_name(":hippo:c1", "id", "machine.slice").value();
  EXPECT_EQ(s.cgroup, "/machine.slice/hippo-c1.scope");
  s = parse_scope_name("", "c9", "user-1000.slice").value();
  EXPECT_EQ(s.unit, "hippo-c9.scope");
  EXPECT_EQ(s.cgroup, "/user.slice/user-1000.slice/hippo-c9.scope");
  s = parse_scope_name("a-b.slice::c1", "id", "x.slice").value();
  EXPECT_EQ(s.unit, "c1.scope");
  EXPECT_EQ(s.cgroup, "/a.slice/a-b.slice/c1.scope");
}

TEST(SystemdScopeName, OtherFormsAreErrors) {
  for (const char* bad : {"/a/b", "a.slice:b", "a.slice:b:c:d", "a.slice:p:", "a.slice:p:x/y",
                          "a.slice:p:x.slice", "bad:p:n"}) {
    auto r = parse_scope_name(bad, "id", "system.slice");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message.rfind("config.json: linux.cgroupsPath", 0), 0u)
        << r.error().message;
  }
}

TEST(SystemdProperties, V1UsesMemoryLimitCpuSharesBlockIOWeight) {
  spec::Resources r;
  r.memory = spec::Memory{.limit = 67108864, .reservation = 1024, .swap = 134217728};
  r.cpu = spec::Cpu{.shares = 512};
  r.blockIO = spec::BlockIO{.weight = 300};
  const auto p = props(r, kV1);
  EXPECT_EQ(value_of<uint64_t>(p, "MemoryLimit"), 67108864u);
  EXPECT_EQ(value_of<uint64_t>(p, "CPUShares"), 512u);
  EXPECT_EQ(value_of<uint64_t>(p, "BlockIOWeight"), 300u);
  // No v1 properties exist for these: they are file writes.
  EXPECT_EQ(find(p, "MemoryLow"), nullptr);
  EXPECT_EQ(find(p, "MemorySwapMax"), nullptr);
  EXPECT_EQ(find(p, "MemoryMax"), nullptr);
}

TEST(SystemdProperties, V2UsesMaxLowSwapWeights) {
  spec::Resources r;
  r.memory = spec::Memory{.limit = 67108864, .reservation = 1024, .swap = 134217728};
  r.cpu = spec::Cpu{.shares = 512, .cpus = "0-2,4", .mems = "0"};
  r.blockIO = spec::BlockIO{.weight = 300};
  const auto p = props(r, kV2);
  EXPECT_EQ(value_of<uint64_t>(p, "MemoryMax"), 67108864u);
  EXPECT_EQ(value_of<uint64_t>(p, "MemoryLow"), 1024u);
  EXPECT_EQ(value_of<uint64_t>(p, "MemorySwapMax"), 67108864u);  // swap minus memory
  EXPECT_EQ(value_of<uint64_t>(p, "CPUWeight"), 20u);
  EXPECT_EQ(value_of<uint64_t>(p, "IOWeight"), 2930u);
  EXPECT_EQ(value_of<std::vector<uint8_t>>(p, "AllowedCPUs"), (std::vector<uint8_t>{0x17}));
  EXPECT_EQ(value_of<std::vector<uint8_t>>(p, "AllowedMemoryNodes"), (std::vector<uint8_t>{0x01}));
  EXPECT_EQ(find(p, "MemoryLimit"), nullptr);
}

TEST(SystemdProperties, UnlimitedIsInfinityAndZeroIsUnset) {
  spec::Resources r;
  r.memory = spec::Memory{.limit = -1};
  r.pids = spec::Pids{-1};
  r.cpu = spec::Cpu{.shares = 0, .quota = -1};
  const auto p = props(r, kV1);
  EXPECT_EQ(value_of<uint64_t>(p, "MemoryLimit"), kInfinity);
  EXPECT_EQ(value_of<uint64_t>(p, "TasksMax"), kInfinity);
  EXPECT_EQ(value_of<uint64_t>(p, "CPUQuotaPerSecUSec"), kInfinity);
  EXPECT_EQ(find(p, "CPUShares"), nullptr);
}

TEST(SystemdProperties, QuotaPerSecondRoundsUpAndPeriodNeedsSystemd242) {
  spec::Resources r;
  r.cpu = spec::Cpu{.quota = 10000, .period = 30000};
  auto p = props(r, kV1);
  EXPECT_EQ(value_of<uint64_t>(p, "CPUQuotaPerSecUSec"), 333334u);
  EXPECT_EQ(value_of<uint64_t>(p, "CPUQuotaPeriodUSec"), 30000u);
  p = props(r, SystemdFeatures{UnitHierarchy::v1, 241});
  EXPECT_EQ(find(p, "CPUQuotaPeriodUSec"), nullptr);
  r.cpu = spec::Cpu{.quota = 50000};  // the kernel's period, 100 ms
  EXPECT_EQ(value_of<uint64_t>(props(r, kV1), "CPUQuotaPerSecUSec"), 500000u);
}

TEST(SystemdProperties, CreateTurnsAccountingOnAndLeavesNoTasksDefault) {
  const auto p = props(spec::Resources{}, kV1, true);
  for (const char* name :
       {"MemoryAccounting", "CPUAccounting", "TasksAccounting", "BlockIOAccounting"}) {
    EXPECT_TRUE(value_of<bool>(p, name)) << name;
  }
  EXPECT_EQ(value_of<uint64_t>(p, "TasksMax"), kInfinity);
  EXPECT_TRUE(value_of<bool>(props(spec::Resources{}, kV2, true), "IOAccounting"));
  // An update sends only what it changes.
  EXPECT_TRUE(props(spec::Resources{}, kV1).empty());
}

TEST(SystemdProperties, DefaultDevicesAreAStrictAllowList) {
  const auto p = props(spec::Resources{}, kV1, true);
  EXPECT_EQ(value_of<std::string>(p, "DevicePolicy"), "strict");
  const auto allow = value_of<std::vector<DeviceAllow>>(p, "DeviceAllow");
  auto has = [&](const char* path, const char* access) {
    return std::ranges::find(allow, DeviceAllow{path, access}) != allow.end();
  };
  EXPECT_TRUE(has("char-*", "m"));
  EXPECT_TRUE(has("block-*", "m"));
  EXPECT_TRUE(has("/dev/char/1:3", "rwm"));
  EXPECT_TRUE(has("/dev/char/5:2", "rwm"));
  EXPECT_TRUE(has("char-pts", "rwm"));
  EXPECT_TRUE(has("/dev/char/10:200", "rwm"));
  // runc 1.1 never allows the host's console (c 5:1).
  EXPECT_FALSE(
      std::ranges::any_of(allow, [](const DeviceAllow& d) { return d.path == "/dev/char/5:1"; }));
}

// systemd appends a non-empty DeviceAllow to the unit's list: an update that drops an allow
// must empty the list first, or the device stays allowed (v2: in systemd's program).
TEST(SystemdProperties, DeviceAllowIsResetBeforeTheNewList) {
  spec::Resources r;
  r.devices = std::vector<spec::DeviceRule>{};
  const auto p = props(r, kV1);
  std::vector<size_t> sizes;
  for (const auto& property : p) {
    if (property.name != "DeviceAllow") continue;
    ASSERT_TRUE(std::holds_alternative<std::vector<DeviceAllow>>(property.value));
    sizes.push_back(std::get<std::vector<DeviceAllow>>(property.value).size());
  }
  ASSERT_EQ(sizes.size(), 2U);
  EXPECT_EQ(sizes[0], 0U);
  EXPECT_GT(sizes[1], 0U);
}

TEST(SystemdProperties, AllowAllIsPolicyAutoAndSpecRulesAreKept) {
  spec::Resources r;
  r.devices = std::vector<spec::DeviceRule>{{.allow = true, .access = "rwm"}};
  auto p = props(r, kV1);
  EXPECT_EQ(value_of<std::string>(p, "DevicePolicy"), "auto");
  EXPECT_TRUE(value_of<std::vector<DeviceAllow>>(p, "DeviceAllow").empty());

  r.devices = std::vector<spec::DeviceRule>{
      {.allow = false, .access = "rwm"},
      {.allow = true, .type = "b", .major = 8, .minor = 0, .access = "r"},
      {.allow = true, .type = "c", .major = 10, .minor = 229, .access = "rw"},
      {.allow = false, .type = "c", .major = 10, .minor = 229, .access = "rwm"}};
  p = props(r, kV1);
  EXPECT_EQ(value_of<std::string>(p, "DevicePolicy"), "strict");
  const auto allow = value_of<std::vector<DeviceAllow>>(p, "DeviceAllow");
  EXPECT_NE(std::ranges::find(allow, DeviceAllow{"/dev/block/8:0", "r"}), allow.end());
  EXPECT_EQ(std::ranges::find(allow, DeviceAllow{"/dev/char/10:229", "rw"}), allow.end());
}

TEST(SystemdProperties, BadDeviceRuleIsAnErrorNamingIt) {
  spec::Resources r;
  r.devices = std::vector<spec::DeviceRule>{{.allow = true, .type = "x", .access = "rwm"}};
  auto p = resource_properties(r, kV1, false, &pts_name);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("linux.resources.devices[0].type"), std::string::npos);
}

TEST(SystemdProperties, UnifiedKeysSystemdRewritesBecomeProperties) {
  spec::Resources r;
  r.unified = spec::StringMap{{"memory.high", "max"}, {"pids.max", "12"}, {"cpu.idle", "1"}};
  auto p = props(r, kV2);
  EXPECT_EQ(value_of<uint64_t>(p, "MemoryHigh"), kInfinity);
  EXPECT_EQ(value_of<uint64_t>(p, "TasksMax"), 12u);
  EXPECT_EQ(p.size(), 2u);
  r.unified = spec::StringMap{{"memory.high", "lots"}};
  auto bad = resource_properties(r, kV2, false, &pts_name);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("unified[\"memory.high\"]"), std::string::npos);
}

TEST(SystemdAnnotations, ValuesInGVariantTextForm) {
  auto p = annotation_properties(spec::StringMap{
      {"org.systemd.property.CollectMode", "'inactive-or-failed'"},
      {"org.systemd.property.TasksMax", "uint64 77"},
      {"org.systemd.property.CPUWeight", "@t 5"},
      {"org.systemd.property.Delegate", "true"},
      {"org.systemd.property.Nice", "5"},
      {"org.systemd.property.TimeoutStopSec", "1.5"},
      {"org.systemd.property.RuntimeMaxUSec", "uint64 9"},
      {"io.kubernetes.other", "ignored"},
  });
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->size(), 7u);
  EXPECT_EQ(value_of<std::string>(*p, "CollectMode"), "inactive-or-failed");
  EXPECT_EQ(value_of<uint64_t>(*p, "TasksMax"), 77u);
  EXPECT_EQ(value_of<uint64_t>(*p, "CPUWeight"), 5u);
  EXPECT_TRUE(value_of<bool>(*p, "Delegate"));
  EXPECT_EQ(value_of<int32_t>(*p, "Nice"), 5);
  EXPECT_EQ(value_of<uint64_t>(*p, "TimeoutStopUSec"), 1500000u);
  EXPECT_EQ(value_of<uint64_t>(*p, "RuntimeMaxUSec"), 9u);
}

TEST(SystemdAnnotations, BadNamesAndValuesAreErrorsNamingTheAnnotation) {
  for (auto [key, value] : {std::pair{"org.systemd.property.TasksMax", "lots"},
                            std::pair{"org.systemd.property.lower", "1"},
                            std::pair{"org.systemd.property.Bad-Name", "1"},
                            std::pair{"org.systemd.property.TimeoutStopSec", "'soon'"},
                            std::pair{"org.systemd.property.X", "uint64 -1"}}) {
    auto p = annotation_properties(spec::StringMap{{key, value}});
    ASSERT_FALSE(p) << key << "=" << value;
    EXPECT_NE(p.error().message.find(std::string("annotations[\"") + key + "\"]"),
              std::string::npos)
        << p.error().message;
  }
}

TEST(SystemdAnnotations, DoublesAreDecimalNumbersOnly) {
  auto p = annotation_properties(
      spec::StringMap{{"org.systemd.property.TimeoutStopSec", "double 2.5e-1"}});
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(value_of<uint64_t>(*p, "TimeoutStopUSec"), 250000u);
  for (auto value :
       {"double 0x1p3", "1.5s", "double +1.5", "double 1e999", "double .", "double -"}) {
    auto bad =
        annotation_properties(spec::StringMap{{"org.systemd.property.TimeoutStopSec", value}});
    EXPECT_FALSE(bad) << value;
  }
}

TEST(SystemdCpuMask, ListsAndRanges) {
  EXPECT_EQ(cpu_mask("0", "x").value(), (std::vector<uint8_t>{0x01}));
  EXPECT_EQ(cpu_mask("1-3,9", "x").value(), (std::vector<uint8_t>{0x0e, 0x02}));
  EXPECT_FALSE(cpu_mask("3-1", "x"));
  EXPECT_FALSE(cpu_mask("a", "x"));
}

TEST(SystemdSignature, ValuesMapToDBusTypes) {
  EXPECT_EQ(signature_of(PropertyValue(true)), "b");
  EXPECT_EQ(signature_of(PropertyValue(uint64_t{1})), "t");
  EXPECT_EQ(signature_of(PropertyValue(std::vector<uint32_t>{1})), "au");
  EXPECT_EQ(signature_of(PropertyValue(std::vector<DeviceAllow>{})), "a(ss)");
  EXPECT_EQ(signature_of(PropertyValue(std::string("x"))), "s");
}

}  // namespace
}  // namespace hippo::cgroups
