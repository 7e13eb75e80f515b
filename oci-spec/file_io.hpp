#pragma once
// Whole-file reads and writes over plain fds, with errors naming the file. Used instead of
// <fstream> everywhere the shim links: any iostream drags libstdc++'s locale machinery
// (~0.3 MB of code) into every shim process (docs/architecture.md, "shim memory").

#include <string>
#include <string_view>
#include <vector>

#include "oci-spec/error.hpp"

namespace hippo {

// "open <path>: <strerror>" / "read <path>: …" on failure; errno is kept in the Error.
Result<std::string> read_text_file(const std::string& path);

// Creates or truncates `path` (mode 0644 unless given) and writes all of `content`.
Result<void> write_text_file(const std::string& path, std::string_view content, unsigned mode = 0644);

// Writes to `path`.tmp then renames it over `path`: readers see the old or the new content.
Result<void> replace_text_file(const std::string& path, std::string_view content);

// The lines of `text` without their '\n' (a last line without one counts too).
std::vector<std::string> split_lines(std::string_view text);

// Writes all of `text` to fd (stdout/stderr of the one-shot actions), retrying short writes.
void write_all(int fd, std::string_view text);

}  // namespace hippo
