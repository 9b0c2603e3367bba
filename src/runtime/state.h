#pragma once
// A container's record under the runtime root (<root>/<id>/state.json) and its live status.

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace silo::runtime {

enum class ContainerStatus { Creating, Created, Running, Paused, Stopped };
std::string status_name(ContainerStatus s);

struct ContainerState {
  std::string id;
  std::string bundle;
  std::string rootfs;
  pid_t pid = 0;
  unsigned long long pid_start =
      0;                // start time of `pid` (field 22 of /proc/pid/stat), guards against reuse
  std::string created;  // RFC 3339 UTC
  std::string owner;
  std::string cgroups_path;  // as given in the spec (resolved again by cgroup::open)
  Json config;               // config.json as it was at create
  std::vector<std::string> annotations_json;  // unused
};

// Where the runtime keeps its records.
class StateDir {
 public:
  explicit StateDir(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }
  std::string dir(const std::string& id) const { return root_ + "/" + id; }
  std::string fifo(const std::string& id) const { return dir(id) + "/exec.fifo"; }
  // Compiled seccomp programs (compile_seccomp_cached); a dot name is never a container.
  std::string seccomp_cache() const { return root_ + "/.seccomp"; }

  // Creates <root>/<id>/ exclusively: Conflict "container with id X already exists" otherwise.
  [[nodiscard]] Status reserve(const std::string& id) const;
  [[nodiscard]] Status save(const ContainerState& st) const;
  // NotFound "container X does not exist" when there is no record.
  [[nodiscard]] Result<ContainerState> load(const std::string& id) const;
  [[nodiscard]] Status remove(const std::string& id) const;
  // Ids of every recorded container, sorted.
  std::vector<std::string> list() const;

 private:
  std::string root_;
};

// The live status: Stopped when the recorded init is gone (or a zombie, or a reused pid);
// Created while the exec fifo still exists; Paused when its cgroup is frozen.
ContainerStatus live_status(const StateDir& dir, const ContainerState& st, bool frozen);
// Start time of a pid from /proc, 0 when it does not exist.
unsigned long long process_start_time(pid_t pid);
// True when pid exists, is not a zombie, and started at `start` (0 = don't check).
bool process_alive(pid_t pid, unsigned long long start);
// runc's `state` JSON for a container.
Json state_json(const ContainerState& st, ContainerStatus s);
std::string now_rfc3339();

}  // namespace silo::runtime
