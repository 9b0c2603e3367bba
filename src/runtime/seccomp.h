#pragma once
// Seccomp: the OCI `linux.seccomp` section compiled to a BPF program in the parent
// (with libseccomp), and loaded by the child right before execve().
//
// The filter is in force from the moment it is loaded, for the runtime's own last
// system calls too. With no_new_privileges it is loaded just before execve(), so a
// profile whose default action is not SCMP_ACT_ALLOW must allow `execve` (and
// `close_range`, which the runtime calls first but survives failing). Without
// no_new_privileges it is loaded earlier, while the init still holds CAP_SYS_ADMIN,
// and must then also allow what the init does after it: capset, prctl, setgroups,
// setresuid/setresgid, setrlimit... Docker's default profile and default_seccomp_profile()
// allow all of these; runc and crun put the same requirement on custom profiles.

#include <linux/filter.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/spec.h"

namespace silo::runtime {

// A compiled filter, ready for seccomp(SECCOMP_SET_MODE_FILTER).
struct SeccompProgram {
  std::vector<sock_filter> filter;  // compiled BPF
  unsigned flags = 0;               // SECCOMP_FILTER_FLAG_* for the seccomp() syscall
  bool empty() const { return filter.empty(); }
};

// Compiles the OCI seccomp section with libseccomp for the listed architectures (plus
// the native one). Syscall names this libseccomp does not know are skipped, as runc does
// (they may not exist on this kernel or architecture); rules whose action equals the
// default action are skipped too. Errors (Code::Invalid) name the field:
//   linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"
// SCMP_ACT_NOTIFY is rejected as not supported. A libseccomp failure carries its errno,
// and a program over the kernel's BPF_MAXINSNS is an Invalid error.
[[nodiscard]] Result<SeccompProgram> compile_seccomp(const Seccomp& s);

// compile_seccomp through a cache of compiled programs in `cache_dir` (made 0700; the
// runtime uses <root>/.seccomp): the same profile, libseccomp and kernel API level give
// the program stored the first time instead of a new compile (~15 ms for the default
// profile). An empty `cache_dir` compiles. Errors are compile_seccomp's; a cache that
// cannot be read or written only costs the compile.
[[nodiscard]] Result<SeccompProgram> compile_seccomp_cached(const Seccomp& s,
                                                           const std::string& cache_dir);

// Child side: loads `p` in the calling thread (all threads with TSYNC). Needs either
// no_new_privs or CAP_SYS_ADMIN. Does not allocate; returns 0 or -errno. An empty
// program is a no-op.
int apply_seccomp(const SeccompProgram& p) noexcept;

// The profile the daemon gives containers unless told otherwise, with Docker's
// semantics: default action ERRNO(EPERM), an allow-list of the ordinary system calls,
// and the dangerous ones (mount, module loading, kexec, bpf, clock setting, namespace
// creation...) allowed only when `caps` (the container's effective capability names,
// "CAP_SYS_ADMIN" or "SYS_ADMIN") grants the capability the kernel checks for them.
// Architectures are the host's (x86_64 + x86 + x32, or aarch64 + arm).
Seccomp default_seccomp_profile(const std::vector<std::string>& caps);

}  // namespace silo::runtime
