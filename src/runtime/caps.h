#pragma once
// Capabilities: the spec's five sets resolved to bit masks in the parent, and applied
// by the child in two steps around setresuid().

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/spec.h"

namespace silo::runtime {

// Bit masks, bit n = capability n.
struct CapSets {
  uint64_t bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
};

// "CAP_NET_RAW" or "NET_RAW", case-insensitive -> 13. A name Silo does not know is an
// Invalid error naming it.
[[nodiscard]] Result<int> capability_from_name(const std::string& name);
// 13 -> "CAP_NET_RAW"; an unknown number -> "CAP_<n>".
std::string capability_name(int cap);
// The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap, else the
// headers' CAP_LAST_CAP). Reads a file: call it in the parent.
int last_cap();

// Resolves the spec's sets. Capabilities this kernel does not have (above last_cap())
// are dropped silently, as runc does; an unknown name is an Invalid error
// ("process.capabilities.bounding: unknown capability \"CAP_FOO\"").
[[nodiscard]] Result<CapSets> resolve_caps(const Capabilities& c);

// The capabilities Docker gives a container by default.
std::vector<std::string> default_capabilities();

// Child side, first step, while still uid 0 and before setresuid(): drops every
// capability in 0..last that is not in `c.bounding` from the bounding set, then sets
// PR_SET_KEEPCAPS so that setresuid() keeps the permitted set. Needs CAP_SETPCAP when
// something has to be dropped. No allocation; returns 0 or -errno.
int apply_bounding(const CapSets& c, int last) noexcept;

// Child side, second step, after setresuid(): capset(effective, permitted, inheritable),
// then clears the ambient set and raises each ambient capability (each must be in both
// permitted and inheritable, else the error is returned), then clears PR_SET_KEEPCAPS.
// No allocation; returns 0 or -errno.
int apply_caps(const CapSets& c, int last) noexcept;

}  // namespace silo::runtime
