#pragma once
// The container init: the plan the parent computes, the sync protocol between parent
// and child, and the child side that runs between clone() and execve().
//
// Everything that can allocate or fail for a reason the user can fix is done by the
// parent while building the InitPlan; the child only reads the plan and makes system
// calls. (The child is a fork-style copy — no CLONE_VM — of a single-threaded program.)

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/caps.h"
#include "runtime/mounts.h"
#include "runtime/rlimits.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"

namespace silo::runtime {

// A hook the child itself runs (createContainer, startContainer).
struct ChildHook {
  std::string path;
  std::vector<std::string> args, env;
  std::vector<char*> argv, envp;  // point into args/env; built by finalize()
};

// A device node to create under the container's /dev.
struct DeviceNode {
  std::string path;  // inside the container ("/dev/null")
  mode_t mode = 0;   // S_IFCHR|0666 ...
  dev_t dev = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct InitPlan {
  // Namespaces the child is cloned with.
  unsigned long clone_flags = 0;
  bool new_user = false;
  // A new cgroup namespace is unshared by the init once it is in its cgroup (kSyncGo), so
  // the namespace's root is the container's cgroup, not the runtime's.
  bool unshare_cgroup = false;
  bool is_exec = false;  // joining a running container: no rootfs, namespace or hook work

  // Root filesystem.
  std::string rootfs;
  unsigned long root_propagation = 0;   // applied to "/" before mounting (MS_SLAVE|MS_REC default)
  unsigned long final_propagation = 0;  // applied to the new "/" at the end when shared was asked
  bool readonly_root = false;
  std::vector<MountOp> mounts;
  bool populate_dev = false;  // the spec mounts a fresh /dev: add the default nodes and links
  std::vector<DeviceNode> devices;
  std::vector<std::string> masked_paths, readonly_paths;
  std::optional<std::string> hostname, domainname;
  std::vector<std::pair<std::string, std::string>> sysctls;  // "/proc/sys/net/ipv4/ip_forward", "1"

  // The process.
  std::vector<std::string> args, env;
  std::vector<char*> argv, envp;  // built by finalize()
  std::string path_env;           // PATH used to find args[0]
  std::string cwd = "/";
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  bool set_groups = true;
  std::optional<CapSets> caps;
  int last_cap = 0;
  std::vector<ResolvedRlimit> rlimits;
  bool no_new_privileges = false;
  SeccompProgram seccomp;
  std::optional<mode_t> umask;
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  int preserve_fds = 0;

  // Descriptors the child inherits (O_CLOEXEC, closed by execve).
  int sync_fd = -1;
  int console_fd = -1;  // connected console socket, when terminal
  int fifo_fd = -1;     // O_PATH fd of exec.fifo (create only)

  std::vector<ChildHook> create_container_hooks, start_container_hooks;
  bool wait_for_runtime_hooks = false;  // ask the parent to run prestart/createRuntime

  // Builds argv/envp pointer arrays. Call once the plan is complete, before clone.
  void finalize();
};

// Messages on the SOCK_SEQPACKET sync socket. A message is a SyncHeader followed by an
// optional payload (the state JSON for kGo, an error text for kError).
enum SyncType : uint32_t {
  kSyncGo = 1,         // parent -> child: ids mapped, cgroup joined; payload = state JSON for hooks
  kSyncHooks = 2,      // child -> parent: mounts done, run prestart/createRuntime hooks now
  kSyncHooksDone = 3,  // parent -> child
  kSyncReady = 4,      // child -> parent: set up; waiting on exec.fifo (create) or exec'ing
  kSyncError = 5,      // child -> parent: payload = what failed; err = errno
  kSyncPid = 6,        // intermediate -> parent: err = pid of the init
};

struct SyncHeader {
  uint32_t type;
  int32_t err;
};

constexpr size_t kSyncMax = 64 * 1024;

// The child: sets up everything the plan says, then execve()s the process. Never returns;
// on failure it sends kSyncError and exits 1.
[[noreturn]] void run_init(const InitPlan& plan) noexcept;

// Clones the init. With `joins` (open namespace fds, in join order) an intermediate process
// joins them first and clones the init from there, so a pid namespace join takes effect.
// The init is cloned with CLONE_PARENT there, so it is always the caller's child.
// `parent_sync_fd` is the caller's end of the socket pair whose other end is plan.sync_fd.
// Returns the init's pid as the caller sees it.
[[nodiscard]] Result<pid_t> spawn_init(const InitPlan& plan,
                                       const std::vector<std::pair<int, int>>& joins,
                                       int parent_sync_fd);

// Parent side of the protocol: sends one message.
[[nodiscard]] Status sync_send(int fd, SyncType type, int err, std::string_view payload = {});
// Parent side: receives one message (type, err, payload). EOF is an Unavailable error;
// with `dont_wait`, so is an empty queue.
struct SyncMessage {
  SyncType type;
  int err;
  std::string payload;
};
[[nodiscard]] Result<SyncMessage> sync_recv(int fd, bool dont_wait = false);

}  // namespace silo::runtime
