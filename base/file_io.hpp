#pragma once
// Whole-file reads and writes, directories and path strings over plain syscalls, with errors
// naming the file. Used instead of <fstream> and <filesystem> everywhere the shim links: any
// iostream drags libstdc++'s locale machinery (~0.3 MB of code) into every shim process, and
// std::filesystem ~70 kB more (docs/architecture.md, "Shim memory").

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace hippo {

// "open <path>: <strerror>" / "read <path>: …" on failure; errno is kept in the Error.
Result<std::string> read_text_file(const std::string& path);

// read_text_file for input that must stay small: a file whose size (fstat) is over `max_bytes`
// is refused before anything is read, and reading stops once it passes `max_bytes` (a pipe, a
// file that grows). That error has errno EFBIG and reads as size_limit_message(label, …).
Result<std::string> read_text_file(const std::string& path, size_t max_bytes,
                                   std::string_view label);

// The bounded read of an fd the caller opened (openat, O_NOFOLLOW …); errors name `path`.
Result<std::string> read_fd(int fd, const std::string& path, size_t max_bytes,
                            std::string_view label);

// Writes all of `content` to fd, retrying short writes; "write <path>: …" on failure.
Result<void> write_fd(int fd, std::string_view content, const std::string& path);

// "<label>: 10485760 bytes is over the 4 MiB limit"; with a `size` of 0 (unknown: a stream)
// "<label>: over the 4 MiB limit".
std::string size_limit_message(std::string_view label, size_t size, size_t max_bytes);

// Creates or truncates `path` (mode 0644 unless given) and writes all of `content`.
Result<void> write_text_file(const std::string& path, std::string_view content,
                             unsigned mode = 0644);

// Writes to `path`.tmp then renames it over `path`: readers see the old or the new content.
Result<void> replace_text_file(const std::string& path, std::string_view content);

// The lines of `text` without their '\n' (a last line without one counts too).
std::vector<std::string> split_lines(std::string_view text);

// Writes all of `text` to fd (stdout/stderr of the one-shot actions), retrying short writes.
void write_all(int fd, std::string_view text);

// Creates `path` and any missing parents (mode before umask); an existing directory is fine.
// On failure: "mkdir <the directory that failed>: <strerror>".
Result<void> make_directories(const std::string& path, unsigned mode = 0777);

// Removes `path` and, if it is a directory, everything under it; symlinks are removed, never
// followed. A missing `path` is not an error.
Result<void> remove_tree(const std::string& path);

// The entry names in directory `path` (without "." and ".."), in directory order.
Result<std::vector<std::string>> list_directory(const std::string& path);

// Whether `path` is a directory (following symlinks).
bool is_directory(const std::string& path);

// The working directory ("getcwd: …" on failure).
Result<std::string> current_directory();

// `base`/`rest` with one separator; an absolute `rest` stands alone (as path concatenation in
// the shell: "a" + "/b" is "/b").
std::string join_path(std::string_view base, std::string_view rest);

// `path` against the working directory when relative; not normalized.
Result<std::string> absolute_path(const std::string& path);

// `path` without ".", "x/.." pairs, repeated or trailing separators ("/.." is "/"; leading
// ".." of a relative path stay; empty stays empty).
std::string normalize_path(std::string_view path);

// Everything before the last separator: "/a/b" → "/a", "/a" → "/", "a" → "".
std::string parent_path(std::string_view path);

}  // namespace hippo
