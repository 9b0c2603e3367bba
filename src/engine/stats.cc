// Container statistics from cgroup files, in Docker's StatsJSON shape.

#include "engine/stats.h"

#include <unistd.h>

#include <charconv>

#include "common/sys.h"
#include "engine/store.h"

namespace silo::engine {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> to_u64(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split_ws(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

template <class F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    f(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

bool parse_dev(std::string_view s, uint64_t& major, uint64_t& minor) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  auto ma = to_u64(s.substr(0, colon));
  auto mi = to_u64(s.substr(colon + 1));
  if (!ma || !mi) return false;
  major = *ma;
  minor = *mi;
  return true;
}

// A file that may be absent (a controller not mounted, an older kernel): "" then.
std::string read_optional(const std::string& path) {
  auto text = sys::read_file(path);
  return text ? *text : std::string();
}

uint64_t number_or(const std::string& path, uint64_t def) {
  auto text = sys::read_file(path);
  if (!text) return def;
  auto n = parse_cgroup_number(*text);
  if (!n) return def;
  return n->value_or(def);
}

uint64_t key_or_zero(const std::map<std::string, uint64_t>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

Status read_v1(const std::function<Result<std::string>(std::string_view)>& dir_for,
               const std::string& mem, StatsSample& s) {
  s.has_memory = true;
  s.mem_usage = number_or(mem + "/memory.usage_in_bytes", 0);
  s.mem_max_usage = number_or(mem + "/memory.max_usage_in_bytes", 0);
  s.mem_failcnt = number_or(mem + "/memory.failcnt", 0);
  s.mem_limit = number_or(mem + "/memory.limit_in_bytes", UINT64_MAX);
  s.mem_stat = parse_flat_keyed(read_optional(mem + "/memory.stat"));

  auto acct = dir_for("cpuacct");
  if (!acct) return std::unexpected(acct.error());
  s.cpu_total = number_or(*acct + "/cpuacct.usage", 0);
  s.percpu = parse_percpu(read_optional(*acct + "/cpuacct.usage_percpu"));
  // cpuacct.stat counts USER_HZ ticks; dockerd reports nanoseconds.
  auto ticks = parse_flat_keyed(read_optional(*acct + "/cpuacct.stat"));
  uint64_t ns_per_tick = 1000000000ull / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
  s.cpu_user = key_or_zero(ticks, "user") * ns_per_tick;
  s.cpu_kernel = key_or_zero(ticks, "system") * ns_per_tick;

  auto cpu = dir_for("cpu");
  if (!cpu) return std::unexpected(cpu.error());
  auto th = parse_flat_keyed(read_optional(*cpu + "/cpu.stat"));
  s.throttle_periods = key_or_zero(th, "nr_periods");
  s.throttled_periods = key_or_zero(th, "nr_throttled");
  s.throttled_time = key_or_zero(th, "throttled_time");

  auto pids = dir_for("pids");
  if (!pids) return std::unexpected(pids.error());
  s.pids_current = number_or(*pids + "/pids.current", 0);
  s.pids_limit = number_or(*pids + "/pids.max", 0);

  // blkio is optional: a kernel may not mount it.
  if (auto blk = dir_for("blkio"); blk) {
    s.io_bytes = parse_blkio_v1(read_optional(*blk + "/blkio.throttle.io_service_bytes_recursive"));
    if (s.io_bytes.empty())
      s.io_bytes = parse_blkio_v1(read_optional(*blk + "/blkio.throttle.io_service_bytes"));
    s.io_ops = parse_blkio_v1(read_optional(*blk + "/blkio.throttle.io_serviced_recursive"));
    if (s.io_ops.empty())
      s.io_ops = parse_blkio_v1(read_optional(*blk + "/blkio.throttle.io_serviced"));
  }
  return {};
}

void read_v2(const std::string& dir, StatsSample& s) {
  s.has_memory = true;
  s.mem_usage = number_or(dir + "/memory.current", 0);
  s.mem_max_usage = number_or(dir + "/memory.peak", 0);
  s.mem_limit = number_or(dir + "/memory.max", UINT64_MAX);
  s.mem_stat = parse_flat_keyed(read_optional(dir + "/memory.stat"));
  // cpu.stat counts microseconds on v2.
  auto cs = parse_flat_keyed(read_optional(dir + "/cpu.stat"));
  s.cpu_total = key_or_zero(cs, "usage_usec") * 1000;
  s.cpu_user = key_or_zero(cs, "user_usec") * 1000;
  s.cpu_kernel = key_or_zero(cs, "system_usec") * 1000;
  s.throttle_periods = key_or_zero(cs, "nr_periods");
  s.throttled_periods = key_or_zero(cs, "nr_throttled");
  s.throttled_time = key_or_zero(cs, "throttled_usec") * 1000;
  s.pids_current = number_or(dir + "/pids.current", 0);
  s.pids_limit = number_or(dir + "/pids.max", 0);
  parse_io_stat_v2(read_optional(dir + "/io.stat"), s.io_bytes, s.io_ops);
}

Json blkio_json(const std::vector<BlkioEntry>& entries) {
  if (entries.empty()) return nullptr;  // Go's nil slice
  Json out = Json::array();
  for (const auto& e : entries)
    out.push_back({{"major", e.major}, {"minor", e.minor}, {"op", e.op}, {"value", e.value}});
  return out;
}

// Docker's CPUStats; omitempty fields left out when zero, as Go's encoder does.
Json cpu_json(const StatsSample& s) {
  Json usage = {{"total_usage", s.cpu_total},
                {"usage_in_kernelmode", s.cpu_kernel},
                {"usage_in_usermode", s.cpu_user}};
  if (!s.percpu.empty()) usage["percpu_usage"] = s.percpu;
  Json cpu = {{"cpu_usage", usage},
              {"throttling_data",
               {{"periods", s.throttle_periods},
                {"throttled_periods", s.throttled_periods},
                {"throttled_time", s.throttled_time}}}};
  if (s.system_cpu != 0) cpu["system_cpu_usage"] = s.system_cpu;
  if (s.online_cpus != 0) cpu["online_cpus"] = s.online_cpus;
  return cpu;
}

Json memory_json(const StatsSample& s) {
  Json m = Json::object();
  if (!s.has_memory) return m;
  if (s.mem_usage) m["usage"] = s.mem_usage;
  if (s.mem_max_usage) m["max_usage"] = s.mem_max_usage;
  if (!s.mem_stat.empty()) {
    Json st = Json::object();
    for (const auto& [k, v] : s.mem_stat) st[k] = v;
    m["stats"] = st;
  }
  if (s.mem_failcnt) m["failcnt"] = s.mem_failcnt;
  if (s.mem_limit) m["limit"] = s.mem_limit;
  return m;
}

constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";  // Go's zero time.Time

}  // namespace

Result<std::optional<uint64_t>> parse_cgroup_number(std::string_view text) {
  auto t = trim(text);
  if (t == "max") return std::optional<uint64_t>();
  auto v = to_u64(t);
  if (!v) return fail(Code::Invalid, "cgroup value '" + std::string(t) + "' is not a number");
  return std::optional<uint64_t>(*v);
}

std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text) {
  std::map<std::string, uint64_t> out;
  for_each_line(text, [&](std::string_view line) {
    auto f = split_ws(line);
    if (f.size() != 2) return;
    if (auto v = to_u64(f[1])) out[std::string(f[0])] = *v;
  });
  return out;
}

std::vector<uint64_t> parse_percpu(std::string_view text) {
  std::vector<uint64_t> out;
  for (auto f : split_ws(trim(text)))
    if (auto v = to_u64(trim(f))) out.push_back(*v);
  return out;
}

Result<uint64_t> parse_system_cpu(std::string_view proc_stat, long clk_tck) {
  std::optional<uint64_t> total;
  for_each_line(proc_stat, [&](std::string_view line) {
    auto f = split_ws(line);
    if (total || f.empty() || f[0] != "cpu") return;
    // user nice system idle iowait irq softirq (steal): dockerd sums the first seven.
    uint64_t ticks = 0;
    for (size_t i = 1; i < f.size() && i <= 7; ++i) ticks += to_u64(f[i]).value_or(0);
    total = ticks * (1000000000ull / static_cast<uint64_t>(clk_tck > 0 ? clk_tck : 100));
  });
  if (!total) return fail(Code::Invalid, "/proc/stat: no 'cpu' line");
  return *total;
}

uint32_t count_cpus(std::string_view proc_stat) {
  uint32_t n = 0;
  for_each_line(proc_stat, [&](std::string_view line) {
    if (line.size() > 3 && line.starts_with("cpu") && line[3] >= '0' && line[3] <= '9') ++n;
  });
  return n;
}

uint64_t parse_mem_total(std::string_view meminfo) {
  uint64_t kb = 0;
  for_each_line(meminfo, [&](std::string_view line) {
    auto f = split_ws(line);
    if (f.size() >= 2 && f[0] == "MemTotal:") kb = to_u64(f[1]).value_or(0);
  });
  return kb * 1024;
}

std::vector<BlkioEntry> parse_blkio_v1(std::string_view text) {
  std::vector<BlkioEntry> out;
  for_each_line(text, [&](std::string_view line) {
    auto f = split_ws(line);
    BlkioEntry e;
    if (f.size() != 3 || !parse_dev(f[0], e.major, e.minor)) return;
    auto v = to_u64(f[2]);
    if (!v) return;
    e.op = std::string(f[1]);
    e.value = *v;
    out.push_back(std::move(e));
  });
  return out;
}

void parse_io_stat_v2(std::string_view text, std::vector<BlkioEntry>& bytes,
                      std::vector<BlkioEntry>& ops) {
  for_each_line(text, [&](std::string_view line) {
    auto f = split_ws(line);
    uint64_t major = 0, minor = 0;
    if (f.empty() || !parse_dev(f[0], major, minor)) return;
    for (size_t i = 1; i < f.size(); ++i) {
      size_t eq = f[i].find('=');
      if (eq == std::string_view::npos) continue;
      auto key = f[i].substr(0, eq);
      auto v = to_u64(f[i].substr(eq + 1));
      if (!v) continue;
      if (key == "rbytes") bytes.push_back({major, minor, "read", *v});
      if (key == "wbytes") bytes.push_back({major, minor, "write", *v});
      if (key == "rios") ops.push_back({major, minor, "read", *v});
      if (key == "wios") ops.push_back({major, minor, "write", *v});
    }
  });
}

Result<StatsSample> read_stats(const std::function<Result<std::string>(std::string_view)>& dir_for,
                               const HostFiles& host) {
  StatsSample s;
  auto mem = dir_for("memory");
  if (!mem) return std::unexpected(mem.error());
  if (!sys::is_directory(*mem))
    return fail(Code::NotFound, "cgroup " + *mem + " is gone; the container has stopped");
  if (sys::path_exists(*mem + "/memory.current"))
    read_v2(*mem, s);
  else
    SILO_TRY(read_v1(dir_for, *mem, s));
  // Like dockerd: a container without a memory limit shows the host's memory as limit.
  uint64_t host_mem = parse_mem_total(read_optional(host.meminfo));
  if (host_mem != 0 && s.mem_limit > host_mem) s.mem_limit = host_mem;
  std::string proc_stat = read_optional(host.proc_stat);
  s.system_cpu = parse_system_cpu(proc_stat, ::sysconf(_SC_CLK_TCK)).value_or(0);
  long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  s.online_cpus = online > 0 ? static_cast<uint32_t>(online) : count_cpus(proc_stat);
  s.read = now_rfc3339();
  return s;
}

Json stats_json(const StatsSample& cur, const StatsSample& pre, std::string_view name,
                std::string_view id) {
  Json pids = Json::object();
  if (cur.pids_current) pids["current"] = cur.pids_current;
  if (cur.pids_limit) pids["limit"] = cur.pids_limit;
  Json blkio = {{"io_service_bytes_recursive", blkio_json(cur.io_bytes)},
                {"io_serviced_recursive", blkio_json(cur.io_ops)},
                {"io_queue_recursive", nullptr},
                {"io_service_time_recursive", nullptr},
                {"io_wait_time_recursive", nullptr},
                {"io_merged_recursive", nullptr},
                {"io_time_recursive", nullptr},
                {"sectors_recursive", nullptr}};
  return {{"read", cur.read.empty() ? kZeroTime : cur.read},
          {"preread", pre.read.empty() ? kZeroTime : pre.read},
          {"pids_stats", pids},
          {"blkio_stats", blkio},
          {"num_procs", 0},
          {"storage_stats", Json::object()},
          {"cpu_stats", cpu_json(cur)},
          {"precpu_stats", cpu_json(pre)},
          {"memory_stats", memory_json(cur)},
          {"name", name},
          {"id", id}};
}

}  // namespace silo::engine
