#include "runtime/config_yaml.hpp"

#include <algorithm>

namespace hippo::runtime {
namespace {

using Kind = YamlEntry::Kind;

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}
std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

std::unexpected<Error> syntax(int line, std::string_view reason) {
  return fail("invalid YAML (line " + std::to_string(line) + "): " + std::string(reason));
}

// After a closing quote only blanks or a comment may follow.
bool only_comment_after(std::string_view rest) {
  rest = trim_left(rest);
  return rest.empty() || rest.front() == '#';
}

Result<std::string> double_quoted(std::string_view s, int line) {
  std::string out;
  for (size_t i = 1; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      if (!only_comment_after(s.substr(i + 1))) return syntax(line, "text after a quoted value");
      return out;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == s.size()) break;
    switch (s[i]) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case '0': out += '\0'; break;
      default: return syntax(line, std::string("unsupported escape \\") + s[i]);
    }
  }
  return syntax(line, "unterminated double-quoted value");
}

Result<std::string> single_quoted(std::string_view s, int line) {
  std::string out;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] != '\'') {
      out += s[i];
    } else if (i + 1 < s.size() && s[i + 1] == '\'') {
      out += '\'';
      ++i;
    } else {
      if (!only_comment_after(s.substr(i + 1))) return syntax(line, "text after a quoted value");
      return out;
    }
  }
  return syntax(line, "unterminated single-quoted value");
}

// A plain scalar ends at " #" (a comment) or the end of the line.
std::string plain(std::string_view s) {
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '#' && (s[i - 1] == ' ' || s[i - 1] == '\t')) return std::string(trim_right(s.substr(0, i)));
  }
  return std::string(trim_right(s));
}

// The inline value after "key:"; nested blocks are decided by the caller from the next lines.
Result<YamlEntry> inline_value(YamlEntry entry, std::string_view v, int line) {
  entry.value_line = line;
  if (v.empty() || v.front() == '#') {
    entry.kind = Kind::null;
    return entry;
  }
  switch (v.front()) {
    case '"': {
      auto s = double_quoted(v, line);
      if (!s) return std::unexpected(s.error());
      entry.value = std::move(*s);
      return entry;
    }
    case '\'': {
      auto s = single_quoted(v, line);
      if (!s) return std::unexpected(s.error());
      entry.value = std::move(*s);
      return entry;
    }
    case '[':
    case '{': {
      const char close = v.front() == '[' ? ']' : '}';
      const auto body = trim_right(plain(v));
      if (body.empty() || body.back() != close) {
        return syntax(line, v.front() == '[' ? "unterminated flow sequence" : "unterminated flow mapping");
      }
      entry.kind = v.front() == '[' ? Kind::list : Kind::mapping;
      return entry;
    }
    case '&': case '*': case '!': case '|': case '>': case '@': case '`': case '%':
      return syntax(line, "anchors, aliases, tags and block scalars are not used in config.yaml");
    default:
      entry.value = plain(v);
      return entry;
  }
}

}  // namespace

Result<std::vector<YamlEntry>> parse_flat_yaml(std::string_view text) {
  std::vector<YamlEntry> entries;
  int line_no = 0;
  bool in_document = false;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto raw = trim_right(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    const auto content = trim_left(raw);
    if (content.empty() || content.front() == '#') continue;
    if (raw.starts_with("---")) {
      if (in_document) return syntax(line_no, "config.yaml holds one document");
      in_document = true;
      continue;
    }
    if (raw == "...") break;
    if (raw.front() == '%' && !in_document) continue;  // %YAML directive
    in_document = true;
    if (raw.front() == ' ' || raw.front() == '\t') {
      // Indented: the block value of the previous key (a list or a mapping, both refused by
      // the caller with their kind), or an error.
      if (raw.front() == '\t') return syntax(line_no, "tabs cannot indent YAML");
      if (entries.empty()) return syntax(line_no, "unexpected indentation");
      auto& e = entries.back();
      if (e.kind == Kind::null) {
        e.kind = content.front() == '-' ? Kind::list : Kind::mapping;
        e.value_line = line_no;
        continue;
      }
      if (e.value_line != e.key_line) continue;  // more of a block already classified
      return syntax(line_no, "unexpected indentation (values are single-line)");
    }
    if (content.front() == '-' && (content.size() == 1 || content[1] == ' ')) {
      return fail("expected a mapping of keys at the top level");
    }
    // key: value (the colon must be followed by a blank or the end of the line)
    size_t colon = std::string_view::npos;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == ':' && (i + 1 == raw.size() || raw[i + 1] == ' ' || raw[i + 1] == '\t')) {
        colon = i;
        break;
      }
    }
    if (colon == std::string_view::npos || colon == 0) {
      return syntax(line_no, "expected `key: value`");
    }
    YamlEntry entry;
    entry.key = std::string(trim_right(raw.substr(0, colon)));
    entry.key_line = line_no;
    if (entry.key.front() == '"' || entry.key.front() == '\'' || entry.key.front() == '?') {
      return syntax(line_no, "keys must be plain names");
    }
    if (std::ranges::any_of(entries, [&](const YamlEntry& e) { return e.key == entry.key; })) {
      return fail("duplicate key \"" + entry.key + "\" (line " + std::to_string(line_no) + ")");
    }
    auto e = inline_value(std::move(entry), trim_left(raw.substr(colon + 1)), line_no);
    if (!e) return std::unexpected(e.error());
    entries.push_back(std::move(*e));
  }
  return entries;
}

}  // namespace hippo::runtime
