#pragma once
// Resource limits (process.rlimits): resolved and checked in the parent, set by the child.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/error.h"
#include "runtime/spec.h"

namespace silo::runtime {

struct ResolvedRlimit {
  int resource;         // RLIMIT_NOFILE ...
  uint64_t soft, hard;  // RLIM_INFINITY (~0) for "unlimited"
  const char* name;     // "RLIMIT_NOFILE"; static storage
};

// "RLIMIT_NOFILE" -> RLIMIT_NOFILE etc. (all 16 Linux limits). Invalid errors name the
// entry: an unknown or repeated type, or a soft limit above the hard one
// ("process.rlimits[2]: unknown type \"RLIMIT_FOO\"").
[[nodiscard]] Result<std::vector<ResolvedRlimit>> resolve_rlimits(const std::vector<Rlimit>& in);

// Parent-side check that the child will be able to set these: a hard limit above the
// caller's current one needs CAP_SYS_RESOURCE (in the initial user namespace, so never
// with `new_user_ns`), and RLIMIT_NOFILE can never go above /proc/sys/fs/nr_open.
// Returns an Invalid error that says which limit, the numbers, and what to change.
[[nodiscard]] Status check_rlimits(const std::vector<ResolvedRlimit>& r);
[[nodiscard]] Status check_rlimits(const std::vector<ResolvedRlimit>& r, bool new_user_ns);

// Child side: setrlimit() each, in order. Returns 0, or -errno with *failed set to the
// index of the limit that failed. No allocation.
int apply_rlimits(const std::vector<ResolvedRlimit>& r, size_t* failed) noexcept;

}  // namespace silo::runtime
