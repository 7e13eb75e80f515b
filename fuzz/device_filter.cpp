// libFuzzer target for the cgroup v2 device filter: a fuzzer-chosen rule list is compiled into
// the eBPF program (device_filter_program) and, for fuzzer-chosen requests, the program's
// verdict (run_device_filter, the interpreter the unit tests use) is compared with a plain
// reading of the same rules plus default_devices(): the last rule that matches decides; an allow
// rule matches a request whose every access it grants, a deny rule one whose any access it
// names; a rule of type "a" matches every request, whatever its numbers and access (the kernel's
// v1 reading, and runc's). No rule matching denies. Any disagreement aborts.
// The program must refuse exactly the rules that are invalid: a type other than a/b/c, an
// access that is not a non-empty string of "rwm" letters, or a major or minor that no device has
// (other than -1, "any", a number from 0 to 2^31-1). Built and run by hack/fuzz.sh.

#include "runtime/cgroups/device_filter.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/cgroups/devices.hpp"

namespace {

namespace cg = hippo::cgroups;
namespace spec = hippo::spec;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Reads the input front to back; zeros once it runs out.
struct Bytes {
  const uint8_t* p;
  size_t n;
  uint8_t u8() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  template <class T>
  T raw() {
    T v{};
    for (size_t i = 0; i < sizeof v; ++i) v = T((uint64_t(v) << 8) | u8());
    return v;
  }
};

constexpr const char* kAccessNames[] = {"", "r", "w", "rw", "m", "rm", "wm", "rwm"};

std::string access_of(Bytes& in) {
  const uint8_t b = in.u8();
  std::string s = kAccessNames[b & 7];
  if (b & 0x08) s = std::string(s.rbegin(), s.rend());  // order does not matter
  if (b & 0x10) s += s;                                 // nor repeats
  if (b & 0x20) s += "x";                               // not an access letter
  return s;
}

// A device number as the spec holds it: absent, -1, small, at the edges, or anything.
std::optional<int64_t> number_of(Bytes& in) {
  switch (in.u8() % 8) {
    case 0:
      return std::nullopt;
    case 1:
      return -1;
    case 2:
      return in.u8() % 8;
    case 3:
      return in.u8();
    case 4:
      return int64_t{std::numeric_limits<int32_t>::max()} - in.u8() % 2;
    case 5:
      return int64_t{std::numeric_limits<uint32_t>::max()} + 2 - in.u8() % 4;
    case 6:
      return int64_t(in.raw<uint32_t>());
    default:
      return in.raw<int64_t>();
  }
}

struct Ref {
  char type;  // 'a', 'b', 'c'
  int64_t major, minor;
  uint32_t access;  // bits r=1 w=2 m=4
  bool allow;
};

uint32_t bits(std::string_view s) {
  uint32_t b = 0;
  for (char c : s) b |= c == 'r' ? 1 : c == 'w' ? 2 : c == 'm' ? 4 : 0;
  return b;
}

bool valid_number(const std::optional<int64_t>& n) {
  return !n || (*n >= -1 && *n <= std::numeric_limits<int32_t>::max());
}

bool matches(const Ref& r, char type, uint32_t major, uint32_t minor, uint32_t want) {
  if (r.type == 'a') return true;
  if (r.type != type) return false;
  if (r.major != -1 && r.major != int64_t{major}) return false;
  if (r.minor != -1 && r.minor != int64_t{minor}) return false;
  return r.allow ? (want & ~r.access) == 0 : (want & r.access) != 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in{data, size};
  std::vector<spec::DeviceRule> rules;
  std::vector<Ref> refs;
  bool valid = true;
  const size_t count = in.u8() % 12;
  for (size_t i = 0; i < count; ++i) {
    spec::DeviceRule r;
    const uint8_t flags = in.u8();
    r.allow = flags & 1;
    static constexpr const char* kTypes[] = {nullptr, "a", "b", "c", "c", "b", "x", ""};
    if (const char* t = kTypes[(flags >> 1) & 7]) r.type = t;
    r.major = number_of(in);
    r.minor = number_of(in);
    if (!(flags & 0x10)) r.access = access_of(in);
    const std::string type = r.type.value_or("a");
    const std::string access = r.access.value_or("");
    valid = valid && (type == "a" || type == "b" || type == "c") && !access.empty() &&
            access.find_first_not_of("rwm") == std::string::npos && valid_number(r.major) &&
            valid_number(r.minor);
    refs.push_back({type[0], r.major.value_or(-1), r.minor.value_or(-1), bits(access), r.allow});
    rules.push_back(std::move(r));
  }
  const auto program = cg::device_filter_program(rules);
  check(program.has_value() == valid);
  if (!program) {
    check(program.error().message.starts_with("linux.resources.devices["));
    return 0;
  }
  for (const auto& d : cg::default_devices()) {
    refs.push_back({d.type, d.major, d.minor, bits(d.access), true});
  }

  while (in.n > 0) {
    const uint8_t flags = in.u8();
    const char type = flags & 1 ? 'b' : 'c';
    const uint32_t want = ((flags >> 1) % 7) + 1;  // the kernel always asks for some access
    const uint32_t major = flags & 0x10 ? in.raw<uint32_t>() : in.u8() % 16;
    const uint32_t minor = flags & 0x20 ? in.raw<uint32_t>() : in.u8() % 16;
    bool expected = false;
    for (auto it = refs.rbegin(); it != refs.rend(); ++it) {
      if (matches(*it, type, major, minor, want)) {
        expected = it->allow;
        break;
      }
    }
    std::string access;
    if (want & 1) access += 'r';
    if (want & 2) access += 'w';
    if (want & 4) access += 'm';
    check(cg::run_device_filter(*program, type, major, minor, access) == expected);
  }
  return 0;
}
