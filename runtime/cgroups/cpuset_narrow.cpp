#include "runtime/cgroups/cpuset_narrow.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

namespace hippo::cgroups {
namespace {

Result<unsigned> parse_id(std::string_view s, std::string_view what) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    return fail(ErrorKind::invalid_argument,
                std::string(what) + ": \"" + std::string(s) + "\" is not a cpu or node number");
  }
  return v;
}

// Ids far beyond any machine's cpus are a typo, and would make a huge set.
constexpr unsigned kMaxId = 1u << 16;

// Every cgroup below `dir`, parents before children.
Result<void> collect(const std::string& dir, std::vector<std::string>& out) {
  auto children = child_cgroups(dir);
  if (!children) return std::unexpected(children.error());
  for (const auto& c : *children) {
    out.push_back(c);
    if (auto ok = collect(c, out); !ok) return ok;
  }
  return {};
}

}  // namespace

Result<std::set<unsigned>> parse_id_list(std::string_view text, std::string_view what) {
  std::set<unsigned> ids;
  const std::string t = trim(text);
  std::string_view rest = t;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto dash = item.find('-');
    auto lo = parse_id(item.substr(0, dash), what);
    if (!lo) return std::unexpected(lo.error());
    unsigned hi = *lo;
    if (dash != std::string_view::npos) {
      auto h = parse_id(item.substr(dash + 1), what);
      if (!h) return std::unexpected(h.error());
      hi = *h;
    }
    if (hi < *lo || hi > kMaxId) {
      return fail(ErrorKind::invalid_argument,
                  std::string(what) + ": \"" + std::string(item) + "\" is not a valid range");
    }
    for (unsigned i = *lo; i <= hi; ++i) ids.insert(i);
  }
  return ids;
}

std::string format_id_list(const std::set<unsigned>& ids) {
  std::string out;
  for (auto it = ids.begin(); it != ids.end();) {
    const unsigned lo = *it;
    unsigned hi = lo;
    for (++it; it != ids.end() && *it == hi + 1; ++it) hi = *it;
    if (!out.empty()) out += ',';
    out += std::to_string(lo);
    if (hi != lo) out += '-' + std::to_string(hi);
  }
  return out;
}

Result<void> narrow_cpuset_children(const std::string& dir, std::string_view file,
                                    std::string_view value, Tree tree) {
  auto wanted = parse_id_list(value, file);
  if (!wanted) return std::unexpected(wanted.error());
  std::vector<std::string> below;
  if (auto ok = collect(dir, below); !ok) return ok;
  for (auto it = below.rbegin(); it != below.rend(); ++it) {
    const std::string path = join(*it, file);
    auto text = read_file(path, tree);
    if (!text) return std::unexpected(text.error());
    auto has = parse_id_list(*text, path);
    if (!has) return std::unexpected(has.error());
    std::set<unsigned> keep;
    std::ranges::set_intersection(*has, *wanted, std::inserter(keep, keep.end()));
    if (keep == *has) continue;
    if (keep.empty()) {
      return fail(ErrorKind::failed_precondition,
                  std::string(file) + " \"" + std::string(value) + "\" shares nothing with " +
                      path + " (\"" + trim(*text) + "\"), a cgroup below the container's");
    }
    if (auto ok = write_file(path, format_id_list(keep), tree); !ok) return ok;
  }
  return {};
}

}  // namespace hippo::cgroups
