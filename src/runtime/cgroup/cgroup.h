#pragma once
// silo::runtime::cgroup — one interface over cgroup v1 and v2.
//
// Plan, then apply: plan_v1()/plan_v2() turn OCI resources into the file writes a driver
// makes, with no I/O, so tests can check them; a Manager executes them against a cgroupfs
// root (the real /sys/fs/cgroup, or a fake directory in tests).

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "runtime/spec.h"

namespace silo::runtime::cgroup {

enum class Driver { V1, V2 };

// V2 when <root>/cgroup.controllers exists (a pure v2 host), else V1.
Driver detect(const std::string& root = "/sys/fs/cgroup");

// One write the plan makes: `file` is relative to the container's cgroup dir; for v1 it is
// prefixed by the controller ("memory/memory.limit_in_bytes"), for v2 it is plain ("memory.max").
struct Write {
  std::string file;
  std::string value;
  bool operator==(const Write&) const = default;
};

// What apply() writes for these resources, in order. Pure: no I/O. Fields set to 0 count as
// unset (runc compatibility); -1 means unlimited. Device rules produce one v1 write each;
// v2 ignores them (they need an eBPF program). plan_v1 ignores `unified` (apply rejects it).
std::vector<Write> plan_v1(const Resources& r);
std::vector<Write> plan_v2(const Resources& r);

// The standard cpu.shares (2..262144) -> cpu.weight (1..10000) conversion.
uint64_t shares_to_weight(uint64_t shares);

// Checks resources against the host before anything is created: value ranges, memory+swap
// >= memory, cpuset lists (syntax, and each CPU in <cpu_online_path>, each node in
// <node_online_path>, a missing node file meaning "0"), `unified` key syntax.
// Errors are Code::Invalid and name the field:
// "linux.resources.cpu.cpus: CPU 7 does not exist on this host (online CPUs: 0-1)".
[[nodiscard]] Status validate(
    const Resources& r, const std::string& cpu_online_path = "/sys/devices/system/cpu/online",
    const std::string& node_online_path = "/sys/devices/system/node/online");

// Parses a cpuset list ("0-2,5", surrounding whitespace allowed) into sorted unique indices.
// The error names the bad entry.
[[nodiscard]] Result<std::vector<unsigned>> parse_cpu_list(const std::string& list);

// Resolves linux.cgroupsPath to a normalised absolute path below a hierarchy root:
// "" -> "/silo/<id>"; "/a/b" -> "/a/b"; "a/b" -> <own>/a/b, where `own` is the caller's
// cgroup in that hierarchy; "slice:prefix:name" -> "/<expanded slice>/<prefix>-<name>.scope"
// (systemd's naming, "a-b.slice" expanding to "a.slice/a-b.slice"). ".." and the root
// itself are rejected (Code::Invalid).
[[nodiscard]] Result<std::string> resolve_path(const std::string& cgroups_path,
                                               const std::string& id, const std::string& own = "/");

// Parses /proc/<pid>/cgroup: controller ("memory", "name=systemd"; "" for the v2 line) -> path.
std::map<std::string, std::string> parse_proc_cgroup(std::string_view content);

// Counters read from the cgroup; 0 where the controller is not there. An unlimited memory
// limit reads as the kernel reports it (v1: a huge number; v2: UINT64_MAX for "max").
struct Stats {
  uint64_t memory_usage = 0, memory_limit = 0, memory_max_usage = 0;
  uint64_t cpu_usage_ns = 0;
  uint64_t pids_current = 0;
  uint64_t oom_kills = 0;
};

// A container's cgroup. Opening one touches nothing; create() makes the directories.
class Manager {
 public:
  virtual ~Manager() = default;
  virtual Driver driver() const = 0;
  // Creates the cgroup directories (in every mounted v1 hierarchy / the v2 dir with the
  // available controllers enabled in each ancestor's cgroup.subtree_control). v1 cpuset:
  // each new level gets its parent's cpuset.cpus and cpuset.mems. Existing dirs are fine.
  [[nodiscard]] virtual Status create() = 0;
  // Writes the plan's values. Errors name file and value:
  // "write 1000 to /sys/fs/cgroup/memory/x/memory.limit_in_bytes: EBUSY (...)".
  // A swap limit is skipped when the kernel has no swap accounting (debug log).
  [[nodiscard]] virtual Status apply(const Resources& r) = 0;
  // Moves pid into the cgroup (every hierarchy for v1).
  [[nodiscard]] virtual Status add_process(pid_t pid) = 0;
  // Every pid in the cgroup and the cgroups below it; none when the cgroup does not exist.
  [[nodiscard]] virtual Result<std::vector<pid_t>> pids() const = 0;
  // Freezes every process and waits until the kernel reports the cgroup frozen (~2 s at most).
  [[nodiscard]] virtual Status freeze() = 0;
  [[nodiscard]] virtual Status thaw() = 0;
  [[nodiscard]] virtual Result<bool> frozen() const = 0;
  // OOM kills so far (v1: memory.oom_control "oom_kill", kernel >= 4.13; v2: memory.events).
  [[nodiscard]] virtual Result<uint64_t> oom_kills() const = 0;
  [[nodiscard]] virtual Result<Stats> stats() const = 0;
  // Removes the cgroup dirs and any child cgroups (rmdir, retrying EBUSY for ~1 s).
  // Missing dirs are fine.
  [[nodiscard]] virtual Status destroy() = 0;
  // For mounting cgroups inside the container: v1 -> {hierarchy name as mounted ("cpu",
  // "memory", "systemd"), host dir of this container's cgroup in it}; v2 -> one {"", dir}.
  virtual std::vector<std::pair<std::string, std::string>> paths() const = 0;
};

// Opens the manager for a container (see resolve_path for cgroups_path). `root` is the
// cgroupfs mount root; tests pass a fake dir.
[[nodiscard]] Result<std::unique_ptr<Manager>> open(const std::string& cgroups_path,
                                                    const std::string& id,
                                                    const std::string& root = "/sys/fs/cgroup");
// Like open() with a forced driver (tests with a fake root). v1 finds its hierarchies in
// /proc/self/mountinfo below `root`, or, when none is mounted there, takes each directory
// of `root` (except "unified") as a hierarchy named after it.
[[nodiscard]] Result<std::unique_ptr<Manager>> open_with(Driver d, const std::string& cgroups_path,
                                                         const std::string& id,
                                                         const std::string& root);

// Shared by the drivers; not for use outside this folder and its tests.
namespace detail {

// Writes `value` to an existing cgroup file; the error names the value and the path.
[[nodiscard]] Status write_value(const std::string& path, const std::string& value);
// Reads a cgroup file without surrounding whitespace.
[[nodiscard]] Result<std::string> read_value(const std::string& path);
// Reads a file holding one unsigned number ("max" reads as UINT64_MAX); ENOENT reads as 0.
[[nodiscard]] Result<uint64_t> read_u64_or_zero(const std::string& path);
// The number after `key` in a flat keyed file ("oom_kill 3\n..."); 0 when the key is absent.
uint64_t keyed_value(std::string_view content, std::string_view key);
// Pids in cgroup.procs of `dir` and every cgroup below it; none when `dir` is missing.
[[nodiscard]] Result<std::vector<pid_t>> collect_pids(const std::string& dir);
// The non-empty fields of `s` split at `sep`.
std::vector<std::string> split_words(std::string_view s, char sep);
// Removes a cgroup dir, child cgroups first (rmdir only), retrying EBUSY for about 1 s.
[[nodiscard]] Status remove_cgroup(const std::string& dir);
// True for a relative cgroupsPath (neither absolute, empty, nor the systemd form).
bool uses_own_cgroup(const std::string& cgroups_path);
// The caller's own cgroups (/proc/self/cgroup), for relative cgroupsPaths.
[[nodiscard]] Result<std::map<std::string, std::string>> own_cgroups();
// v1: puts the memory.limit_in_bytes / memory.memsw.limit_in_bytes writes of a plan in the
// order the kernel accepts (memsw >= limit at every step), given the current memory limit.
void order_memory_writes(std::vector<Write>& plan, uint64_t current_limit);

[[nodiscard]] Result<std::unique_ptr<Manager>> open_v1(const std::string& cgroups_path,
                                                       const std::string& id,
                                                       const std::string& root);
[[nodiscard]] Result<std::unique_ptr<Manager>> open_v2(const std::string& cgroups_path,
                                                       const std::string& id,
                                                       const std::string& root);

}  // namespace detail
}  // namespace silo::runtime::cgroup
