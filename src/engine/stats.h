#pragma once
// Container resource statistics (GET /containers/{name}/stats) read from the container's
// cgroup files, v1 or v2, and turned into Docker's StatsJSON. The parsers are pure
// functions over file contents so tests need no cgroup; read_stats() does the reading.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace silo::engine {

// One block I/O counter (Docker's BlkioStatEntry).
struct BlkioEntry {
  uint64_t major = 0, minor = 0;
  std::string op;  // "Read", "Write", ... (v1) or "read", "write" (v2), as dockerd
  uint64_t value = 0;
};

// One sample of a container's counters. Times in nanoseconds.
struct StatsSample {
  std::string read;  // RFC 3339 time of the sample; "" for the zero sample
  // cpu
  uint64_t cpu_total = 0, cpu_kernel = 0, cpu_user = 0;
  std::vector<uint64_t> percpu;  // v1 only
  uint64_t system_cpu = 0;       // /proc/stat, all cpus, ns
  uint32_t online_cpus = 0;
  uint64_t throttle_periods = 0, throttled_periods = 0, throttled_time = 0;
  // memory
  bool has_memory = false;
  uint64_t mem_usage = 0, mem_max_usage = 0, mem_failcnt = 0, mem_limit = 0;
  std::map<std::string, uint64_t> mem_stat;
  // pids
  uint64_t pids_current = 0, pids_limit = 0;  // limit 0: none
  // block I/O (io_service_bytes_recursive, io_serviced_recursive)
  std::vector<BlkioEntry> io_bytes, io_ops;
};

// A single-number cgroup file ("123\n"); nullopt for "max" (no limit). Invalid otherwise.
[[nodiscard]] Result<std::optional<uint64_t>> parse_cgroup_number(std::string_view text);
// "key value" lines (memory.stat, cpu.stat, cpuacct.stat); bad lines are skipped.
[[nodiscard]] std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text);
// cpuacct.usage_percpu: space-separated numbers.
[[nodiscard]] std::vector<uint64_t> parse_percpu(std::string_view text);
// Total cpu time of the host in ns from /proc/stat's "cpu" line (user..steal), as dockerd's
// getSystemCPUUsage. Invalid when the line is missing.
[[nodiscard]] Result<uint64_t> parse_system_cpu(std::string_view proc_stat, long clk_tck);
// The cpu count from /proc/stat ("cpuN" lines).
[[nodiscard]] uint32_t count_cpus(std::string_view proc_stat);
// MemTotal from /proc/meminfo in bytes; 0 when missing.
[[nodiscard]] uint64_t parse_mem_total(std::string_view meminfo);
// v1 blkio.throttle.io_service_bytes(_recursive): "8:0 Read 123" lines ("Total" skipped).
[[nodiscard]] std::vector<BlkioEntry> parse_blkio_v1(std::string_view text);
// v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." -> bytes (read/write) and ops.
void parse_io_stat_v2(std::string_view text, std::vector<BlkioEntry>& bytes,
                      std::vector<BlkioEntry>& ops);

// Where the host files come from; tests point these at fakes.
struct HostFiles {
  std::string proc_stat = "/proc/stat";
  std::string meminfo = "/proc/meminfo";
};

// Reads one sample. `dir_for(controller)` gives the cgroup directory for "memory",
// "cpuacct", "cpu", "pids", "blkio" (v1) or the unified directory (v2: every controller
// gives the same). The flavour is told by the files found (memory.current = v2).
// Errors: those of dir_for (Conflict when the container is not running) and NotFound
// when the cgroup has gone.
[[nodiscard]] Result<StatsSample> read_stats(
    const std::function<Result<std::string>(std::string_view)>& dir_for,
    const HostFiles& host = {});

// Docker's StatsJSON for `cur` with `pre` as the previous sample (precpu_stats, preread).
// `name` is "/web". A default-constructed `cur` and `pre` give dockerd's zeroed object
// for a stopped container.
[[nodiscard]] Json stats_json(const StatsSample& cur, const StatsSample& pre, std::string_view name,
                              std::string_view id);

}  // namespace silo::engine
