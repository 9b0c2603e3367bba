#pragma once
// Container operations of the runtime library, as the OCI runtime CLI exposes them.
// silo-runc and (later) silo-shim call these.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/spec.h"
#include "runtime/state.h"

namespace silo::runtime {

struct CreateOptions {
  std::string id;
  std::string bundle;          // absolute
  std::string pid_file;        // written with the init's pid when set
  std::string console_socket;  // unix socket path that receives the pty master
  int preserve_fds = 0;
  bool no_pivot = false;    // accepted for runc compatibility; pivot_root is always used
  bool keep_child = false;  // the caller waits for the init (run): make it our child
};

// Sets up the container and leaves its init waiting for start(). Returns the init pid.
// On any failure nothing is left behind: no state, cgroup or process.
[[nodiscard]] Result<pid_t> create(const StateDir& dir, const CreateOptions& opts);
// Lets a created container's init exec the process; runs poststart hooks.
[[nodiscard]] Status start(const StateDir& dir, const std::string& id);
// Sends `sig` to the init, or to every process of the container with `all`.
[[nodiscard]] Status kill(const StateDir& dir, const std::string& id, int sig, bool all);
// Removes a stopped (or created) container; `force` kills a running one first.
[[nodiscard]] Status remove(const StateDir& dir, const std::string& id, bool force);
// Freezes / thaws every process of the container.
[[nodiscard]] Status pause(const StateDir& dir, const std::string& id);
[[nodiscard]] Status resume(const StateDir& dir, const std::string& id);

struct ContainerInfo {
  ContainerState state;
  ContainerStatus status;
  bool oom_killed = false;
};
// The record and live status of a container.
[[nodiscard]] Result<ContainerInfo> inspect(const StateDir& dir, const std::string& id);
// runc's state JSON, plus "oomKilled": whether the OOM killer killed any of its processes.
Json state_document(const ContainerInfo& info);
// Pids of every process in the container's cgroup.
[[nodiscard]] Result<std::vector<pid_t>> processes(const StateDir& dir, const std::string& id);

struct ExecOptions {
  std::string id;
  Process process;  // the process to run (from --process or flags over the container's)
  std::string pid_file;
  std::string console_socket;
  int preserve_fds = 0;
  bool detach = false;
};
// Runs a process inside a running container. With detach, returns once it was exec'd;
// otherwise waits and returns its exit code (128+signal when killed).
[[nodiscard]] Result<int> exec(const StateDir& dir, const ExecOptions& opts);
// The container's own process spec (the template `exec` flags modify).
[[nodiscard]] Result<Process> container_process(const StateDir& dir, const std::string& id);

// Parses "KILL", "SIGKILL", "9". Invalid error names the signal otherwise.
[[nodiscard]] Result<int> parse_signal(const std::string& s);
// Waits for a child pid (run, exec) forwarding the usual signals to it; returns the
// exit code, 128+n when killed by signal n.
int wait_forwarding(pid_t pid);

}  // namespace silo::runtime
