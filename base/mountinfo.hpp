#pragma once
// Mount points as /proc/<pid>/mountinfo lists them (proc(5)): which mounts exist where, read
// before a clone so the child only acts on paths it was given.

#include <string>
#include <string_view>
#include <vector>

namespace hippo::os {

// A mountinfo field with its \ooo escapes (space, tab, newline, backslash) decoded.
std::string unescape_mountinfo(std::string_view field);

// The mount point field of every line, unescaped (mountinfo writes space, tab, newline and
// backslash as \ooo), in the file's order: a mount stacked on another comes after it.
std::vector<std::string> mount_points(std::string_view mountinfo);

// One mountinfo line's fields that say what is mounted where (unescaped).
struct MountEntry {
  std::string root;         // the path inside the filesystem that is mounted: "/" for all of it
  std::string mount_point;  // "/proc"
  std::string fstype;       // "proc"
};

// Every line's entry, in the file's order; lines too short to hold the fields are skipped.
std::vector<MountEntry> mount_entries(std::string_view mountinfo);

// The deepest mount point holding `path` (absolute, without symlinks): `path` itself when
// something is mounted on it, "/" at worst.
std::string mount_point_holding(std::string_view path, std::string_view mountinfo);

}  // namespace hippo::os
