#pragma once
// Readable gtest output for FileWrite lists.

#include <ostream>

#include "runtime/cgroups/resources.hpp"

namespace hippo::cgroups {

inline void PrintTo(const FileWrite& w, std::ostream* os) {
  *os << "{" << w.controller << ", " << w.file << ", \"" << w.value << "\"";
  if (w.if_missing == IfMissing::skip) *os << ", skip if missing";
  if (w.if_missing == IfMissing::use_next) *os << ", else next";
  if (w.retry_at_end) *os << ", retry at end";
  *os << "}";
}

}  // namespace hippo::cgroups
