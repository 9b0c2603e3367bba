#pragma once
// Shared by the child-side files (init.cc, rootfs.cc). Not a public header.

#include "runtime/init.h"

namespace silo::runtime::child {

// Records what failed (printf-style) with errno `err`; always returns false.
bool fail(int err, const char* fmt, ...) noexcept __attribute__((format(printf, 2, 3)));

// Mounts, devices and createRuntime/createContainer hooks, up to and including pivot_root.
bool setup_rootfs(const InitPlan& plan, const char* state, size_t state_len) noexcept;
// After pivot_root: sysctls, masked and read-only paths, read-only root, propagation.
bool finish_rootfs(const InitPlan& plan) noexcept;
// Runs hooks in the child (fork + execve), state JSON on stdin; false on a failing hook.
bool run_child_hooks(const std::vector<ChildHook>& hooks, const char* kind, const char* state,
                     size_t len) noexcept;

}  // namespace silo::runtime::child
