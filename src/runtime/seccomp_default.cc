// The default seccomp profile, with the semantics of Docker's (moby/profiles/seccomp):
// deny with EPERM, allow what ordinary programs use, and allow the calls that reach
// kernel state shared with the host only when the container holds the capability
// the kernel itself checks for them. Written here from those rules, not copied.

#include <sched.h>
#include <sys/utsname.h>

#include <bitset>
#include <cerrno>
#include <cstdio>

#include "runtime/caps.h"
#include "runtime/seccomp.h"

namespace silo::runtime {

namespace {

// Everything here is either harmless or guarded by a namespaced permission check in the
// kernel (chown, setuid, kill, mknod... are checked against the container's own caps).
// Names this libseccomp or architecture does not know are skipped by compile_seccomp.
const std::vector<std::string>& allowed_syscalls() {
  static const std::vector<std::string> kNames = {
      // files: open, read, write, metadata
      "access", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range",
      "creat", "dup", "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
      "fallocate", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
      "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fremovexattr",
      "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
      "ftruncate64", "futimesat", "getcwd", "getdents", "getdents64", "getxattr", "lchown",
      "lchown32", "lgetxattr", "link", "linkat", "listxattr", "llistxattr", "_llseek",
      "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "mkdir", "mkdirat", "mknod",
      "mknodat", "name_to_handle_at", "newfstatat", "oldfstat", "oldlstat", "oldstat", "open",
      "openat", "openat2", "pread64", "preadv", "preadv2", "pwrite64", "pwritev", "pwritev2",
      "read", "readahead", "readlink", "readlinkat", "readv", "removexattr", "rename", "renameat",
      "renameat2", "rmdir", "sendfile", "sendfile64", "setxattr", "splice", "stat", "stat64",
      "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
      "sync_file_range2", "arm_sync_file_range", "arm_fadvise64_64", "syncfs", "tee", "truncate",
      "truncate64", "umask", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64",
      "utimes", "vmsplice", "write", "writev",
      // pipes (every shell pipeline)
      "pipe", "pipe2",
      // file notification, async and event I/O
      "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2",
      "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "fanotify_mark", "inotify_add_watch",
      "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy",
      "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup", "io_submit", "ioctl",
      "poll", "ppoll", "ppoll_time64", "pselect6", "pselect6_time64", "select", "_newselect",
      "signalfd", "signalfd4", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
      "timerfd_settime", "timerfd_settime64",
      // memory
      "brk", "cachestat", "get_mempolicy", "madvise", "mbind", "map_shadow_stack", "membarrier",
      "memfd_create", "memfd_secret", "mincore", "mlock", "mlock2", "mlockall", "mmap", "mmap2",
      "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap", "pkey_alloc", "pkey_free",
      "pkey_mprotect", "remap_file_pages", "set_mempolicy",
      // processes, threads, scheduling, identity
      "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "futex",
      "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "get_robust_list",
      "get_thread_area", "getcpu", "getegid", "getegid32", "geteuid", "geteuid32", "getgid",
      "getgid32", "getgroups", "getgroups32", "getpgid", "getpgrp", "getpid", "getppid",
      "getpriority", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
      "getrusage", "getsid", "gettid", "getuid", "getuid32", "ioprio_get", "ioprio_set",
      "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "nice", "prctl",
      "prlimit64", "process_mrelease", "rseq", "sched_get_priority_max", "sched_get_priority_min",
      "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_getscheduler",
      "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
      "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "set_robust_list",
      "set_thread_area", "set_tid_address", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32",
      "setgid", "setgid32", "setgroups", "setgroups32", "setpgid", "setpriority", "setregid",
      "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid",
      "setreuid32", "setrlimit", "setsid", "setuid", "setuid32", "ugetrlimit", "vfork", "wait4",
      "waitid", "waitpid",
      // signals
      "alarm", "kill", "pause", "pidfd_open", "pidfd_send_signal", "restart_syscall",
      "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
      "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
      "sigaction", "sigaltstack", "signal", "sigpending", "sigprocmask", "sigreturn", "sigsuspend",
      "tgkill", "tkill",
      // System V and POSIX IPC (namespaced by the ipc namespace)
      "ipc", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
      "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "msgctl", "msgget", "msgrcv", "msgsnd",
      "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "shmat", "shmctl", "shmdt",
      "shmget",
      // sockets
      "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "listen",
      "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "send", "sendmmsg", "sendmsg",
      "sendto", "setsockopt", "shutdown", "socket", "socketcall", "socketpair",
      // time (reading it) and system information
      "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
      "clock_nanosleep_time64", "getitimer", "gettimeofday", "nanosleep", "setitimer", "time",
      "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
      "timer_settime", "timer_settime64", "times", "getrandom", "olduname", "sysinfo", "uname",
      // architecture specific
      "arch_prctl", "modify_ldt", "breakpoint", "cacheflush", "set_tls"};
  return kNames;
}

// Calls allowed only with the capability the kernel checks for them: they act on state no
// namespace isolates (modules, clocks, kexec, the kernel log, performance counters, BPF)
// or open a large attack surface (mounts, namespaces, file handles).
struct Grant {
  const char* cap;
  std::vector<std::string> names;
};

const std::vector<Grant>& grants() {
  static const std::vector<Grant> kGrants = {
      {"CAP_SYS_ADMIN",
       {"bpf",           "fanotify_init",   "fsconfig",   "fsmount",       "fsopen",
        "fspick",        "lookup_dcookie",  "mount",      "mount_setattr", "move_mount",
        "open_tree",     "perf_event_open", "pivot_root", "quotactl",      "quotactl_fd",
        "setdomainname", "sethostname",     "setns",      "swapon",        "swapoff",
        "syslog",        "umount",          "umount2",    "unshare"}},
      {"CAP_SYS_BOOT", {"reboot", "kexec_load", "kexec_file_load"}},
      {"CAP_SYS_CHROOT", {"chroot"}},
      {"CAP_SYS_MODULE", {"init_module", "finit_module", "delete_module"}},
      {"CAP_SYS_PACCT", {"acct"}},
      // userfaultfd: the kernel lets CAP_SYS_PTRACE holders use it whatever
      // vm.unprivileged_userfaultfd says; it is a common exploitation aid otherwise.
      {"CAP_SYS_PTRACE",
       {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace",
        "userfaultfd"}},
      {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
      {"CAP_SYS_TIME",
       {"settimeofday", "stime", "clock_settime", "clock_settime64", "adjtimex", "clock_adjtime",
        "clock_adjtime64"}},
      {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
      {"CAP_SYS_NICE",
       {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node", "migrate_pages",
        "move_pages"}},
      {"CAP_SYSLOG", {"syslog"}},
      {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
      {"CAP_BPF", {"bpf"}},
      {"CAP_PERFMON", {"perf_event_open"}},
  };
  return kGrants;
}
// Never allowed, whatever the capabilities: keyctl, add_key, request_key (the keyring
// is not namespaced), io_uring_* (bypasses this filter for the operations it submits;
// Docker 25 dropped it too), and the obsolete nfsservctl, create_module, get_kernel_syms,
// query_module, uselib, ustat, sysfs, _sysctl, vm86, vm86old.

// The namespace flags of clone(2). Without CAP_SYS_ADMIN a container may not create
// namespaces: a new user namespace would give it a full capability set over new mount,
// network... namespaces, and with it most of the kernel's attack surface.
constexpr uint64_t kCloneNewFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                    CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

// Before 4.8 a ptrace tracer could change the syscall after seccomp had checked it, so
// Docker allows ptrace without CAP_SYS_PTRACE only on 4.8 and later.
bool kernel_at_least(int major, int minor) {
  utsname u{};
  int ma = 0, mi = 0;
  if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &ma, &mi) != 2) return false;
  return ma > major || (ma == major && mi >= minor);
}

std::vector<std::string> host_architectures() {
#if defined(__x86_64__)
  return {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
#elif defined(__aarch64__)
  return {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
#elif defined(__i386__)
  return {"SCMP_ARCH_X86"};
#elif defined(__arm__)
  return {"SCMP_ARCH_ARM"};
#else
  return {};  // the native architecture only
#endif
}

SeccompRule allow(std::vector<std::string> names, std::vector<SeccompArg> args = {}) {
  return SeccompRule{std::move(names), "SCMP_ACT_ALLOW", std::nullopt, std::move(args)};
}

// personality(2): only the values programs use for themselves (PER_LINUX, PER_LINUX32,
// UNAME26, their combination, and 0xffffffff to query); not ADDR_NO_RANDOMIZE and friends.
void add_personality(Seccomp& s) {
  for (uint64_t v : {0x0ULL, 0x8ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL})
    s.syscalls.push_back(allow({"personality"}, {SeccompArg{0, v, 0, "SCMP_CMP_EQ"}}));
}

void add_clone(Seccomp& s, bool sys_admin) {
  if (sys_admin) {
    s.syscalls.push_back(allow({"clone", "clone3"}));
    return;
  }
  s.syscalls.push_back(allow({"clone"}, {SeccompArg{0, kCloneNewFlags, 0, "SCMP_CMP_MASKED_EQ"}}));
  // clone3 passes its flags in memory, where a filter cannot look: ENOSYS makes glibc
  // fall back to clone(), whose flags are checked above.
  s.syscalls.push_back(SeccompRule{{"clone3"}, "SCMP_ACT_ERRNO", ENOSYS, {}});
}

}  // namespace

Seccomp default_seccomp_profile(const std::vector<std::string>& caps) {
  std::bitset<64> have;
  for (const std::string& c : caps)
    if (auto n = capability_from_name(c); n && *n < 64) have.set(static_cast<size_t>(*n));
  auto has = [&](const char* name) {
    auto n = capability_from_name(name);
    return n && have.test(static_cast<size_t>(*n));
  };

  Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.default_errno_ret = EPERM;
  s.architectures = host_architectures();
  s.syscalls.push_back(allow(allowed_syscalls()));
  if (kernel_at_least(4, 8))
    s.syscalls.push_back(allow({"ptrace", "process_vm_readv", "process_vm_writev"}));
  add_personality(s);
  add_clone(s, has("CAP_SYS_ADMIN"));
  for (const Grant& g : grants())
    if (has(g.cap)) s.syscalls.push_back(allow(g.names));
  return s;
}

}  // namespace silo::runtime
