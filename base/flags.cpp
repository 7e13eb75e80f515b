#include "base/flags.hpp"

#include <algorithm>

namespace hippo {
namespace {

std::optional<bool> parse_bool(std::string_view v) {
  // Go's strconv.ParseBool, which urfave/cli uses.
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False")
    return false;
  return std::nullopt;
}

const FlagSpec* find_spec(std::span<const FlagSpec> specs, std::string_view name) {
  for (const auto& s : specs) {
    if (s.name == name || (name.size() == 1 && s.alias == name[0])) return &s;
  }
  return nullptr;
}

}  // namespace

bool ParsedFlags::enabled(std::string_view name) const {
  auto it = values_.find(name);
  return it != values_.end() && it->second.back() == "true";
}

std::optional<std::string> ParsedFlags::value(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second.back();
}

std::string ParsedFlags::value_or(std::string_view name, std::string fallback) const {
  auto v = value(name);
  return v ? *v : std::move(fallback);
}

std::vector<std::string> ParsedFlags::all(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

Result<ParsedFlags> parse_flags(std::span<const FlagSpec> specs, std::span<const std::string> argv,
                                bool stop_at_first_arg) {
  ParsedFlags out;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      out.args.insert(out.args.end(), argv.begin() + static_cast<long>(i) + 1, argv.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      out.args.push_back(a);
      if (stop_at_first_arg) {
        out.args.insert(out.args.end(), argv.begin() + static_cast<long>(i) + 1, argv.end());
        break;
      }
      continue;
    }
    std::string_view body(a);
    body.remove_prefix(body.starts_with("--") ? 2 : 1);
    std::optional<std::string> inline_value;
    if (auto eq = body.find('='); eq != std::string_view::npos) {
      inline_value = std::string(body.substr(eq + 1));
      body = body.substr(0, eq);
    }
    const FlagSpec* spec = find_spec(specs, body);
    if (!spec && (body == "help" || body == "h")) {  // every command takes --help, as in runc
      out.add("help", "true");
      continue;
    }
    if (!spec) return fail("flag provided but not defined: -" + std::string(body));
    if (spec->takes_value) {
      std::string v;
      if (inline_value) {
        v = *inline_value;
      } else if (i + 1 < argv.size()) {
        v = argv[++i];
      } else {
        return fail("flag needs an argument: -" + std::string(body));
      }
      // A repeated single-valued flag keeps its last value (value()), as urfave/cli does.
      out.add(spec->name, std::move(v));
    } else {
      bool on = true;
      if (inline_value) {
        auto b = parse_bool(*inline_value);
        if (!b) {
          return fail("invalid boolean value \"" + *inline_value + "\" for -" + std::string(body));
        }
        on = *b;
      }
      out.add(spec->name, on ? "true" : "false");
    }
  }
  return out;
}

std::string flags_help(std::span<const FlagSpec> specs) {
  std::vector<std::pair<std::string, std::string_view>> rows;
  size_t width = 0;
  for (const auto& s : specs) {
    std::string left = "--" + std::string(s.name) + (s.takes_value ? " value" : "");
    if (s.alias) left += std::string(", -") + s.alias + (s.takes_value ? " value" : "");
    width = std::max(width, left.size());
    rows.emplace_back(std::move(left), s.help);
  }
  std::string out;
  for (const auto& [left, help] : rows) {
    out += "   " + left + std::string(width - left.size() + 3, ' ') + std::string(help) + "\n";
  }
  return out;
}

}  // namespace hippo
