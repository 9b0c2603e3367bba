// Stats: cgroup file parsers, reading fake v1 and v2 trees, and the StatsJSON shape.

#include "engine/stats.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.h"

namespace silo::engine {
namespace {

using testing::TempDir;

void write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

TEST(StatsParse, Numbers) {
  EXPECT_EQ(parse_cgroup_number("123\n").value(), std::optional<uint64_t>(123));
  EXPECT_EQ(parse_cgroup_number("max\n").value(), std::nullopt);
  EXPECT_FALSE(parse_cgroup_number("12x").has_value());
}

TEST(StatsParse, FlatKeyedAndPercpu) {
  auto m = parse_flat_keyed("cache 4096\nrss 8192\nbroken\ntotal_inactive_file 100\n");
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m["rss"], 8192u);
  EXPECT_EQ(parse_percpu("10 20 30 \n"), (std::vector<uint64_t>{10, 20, 30}));
}

TEST(StatsParse, SystemCpuAsDockerd) {
  std::string stat =
      "cpu  100 1 50 1000 10 0 5 0 0 0\ncpu0 50 0 25 500 5 0 2 0 0 0\n"
      "cpu1 50 1 25 500 5 0 3 0 0 0\nintr 1\n";
  // 100+1+50+1000+10+0+5 ticks at 100 Hz = 1166 * 10 ms.
  EXPECT_EQ(parse_system_cpu(stat, 100).value(), 1166ull * 10000000ull);
  EXPECT_EQ(count_cpus(stat), 2u);
  EXPECT_FALSE(parse_system_cpu("intr 1\n", 100).has_value());
}

TEST(StatsParse, MemTotalAndBlkio) {
  EXPECT_EQ(parse_mem_total("MemTotal:       2048 kB\nMemFree: 1 kB\n"), 2048u * 1024);
  auto v1 = parse_blkio_v1("8:0 Read 4096\n8:0 Write 512\n8:0 Total 4608\nTotal 4608\n");
  ASSERT_EQ(v1.size(), 3u);
  EXPECT_EQ(v1[0].op, "Read");
  EXPECT_EQ(v1[1].value, 512u);
  std::vector<BlkioEntry> bytes, ops;
  parse_io_stat_v2("8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n", bytes, ops);
  ASSERT_EQ(bytes.size(), 2u);
  EXPECT_EQ(bytes[1].op, "write");
  EXPECT_EQ(bytes[1].value, 20u);
  EXPECT_EQ(ops[0].value, 1u);
}

TEST(StatsRead, CgroupV1Tree) {
  TempDir t;
  write(t.file("memory/memory.usage_in_bytes"), "1048576\n");
  write(t.file("memory/memory.max_usage_in_bytes"), "2097152\n");
  write(t.file("memory/memory.limit_in_bytes"), "67108864\n");
  write(t.file("memory/memory.stat"), "cache 0\ntotal_inactive_file 4096\n");
  write(t.file("cpuacct/cpuacct.usage"), "5000000\n");
  write(t.file("cpuacct/cpuacct.usage_percpu"), "3000000 2000000 \n");
  write(t.file("cpuacct/cpuacct.stat"), "user 1\nsystem 2\n");
  write(t.file("cpu/cpu.stat"), "nr_periods 4\nnr_throttled 1\nthrottled_time 99\n");
  write(t.file("pids/pids.current"), "3\n");
  write(t.file("pids/pids.max"), "max\n");
  write(t.file("host/meminfo"), "MemTotal: 1048576 kB\n");
  write(t.file("host/stat"), "cpu 1 0 0 0 0 0 0\n");
  auto dir_for = [&](std::string_view c) -> Result<std::string> { return t.file(std::string(c)); };
  auto s =
      read_stats(dir_for, {.proc_stat = t.file("host/stat"), .meminfo = t.file("host/meminfo")});
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->mem_usage, 1048576u);
  EXPECT_EQ(s->mem_limit, 67108864u);
  EXPECT_EQ(s->mem_stat.at("total_inactive_file"), 4096u);
  EXPECT_EQ(s->cpu_total, 5000000u);
  EXPECT_EQ(s->percpu.size(), 2u);
  EXPECT_GT(s->cpu_kernel, s->cpu_user);
  EXPECT_EQ(s->throttled_time, 99u);
  EXPECT_EQ(s->pids_current, 3u);
  EXPECT_EQ(s->pids_limit, 0u);
  EXPECT_GT(s->system_cpu, 0u);
  EXPECT_FALSE(s->read.empty());
}

TEST(StatsRead, CgroupV2UnlimitedShowsHostMemory) {
  TempDir t;
  write(t.file("cg/memory.current"), "4096\n");
  write(t.file("cg/memory.max"), "max\n");
  write(t.file("cg/memory.stat"), "anon 4096\ninactive_file 0\n");
  write(t.file("cg/cpu.stat"), "usage_usec 10\nuser_usec 6\nsystem_usec 4\n");
  write(t.file("cg/pids.current"), "1\n");
  write(t.file("cg/pids.max"), "100\n");
  write(t.file("host/meminfo"), "MemTotal: 1024 kB\n");
  auto dir_for = [&](std::string_view) -> Result<std::string> { return t.file("cg"); };
  auto s = read_stats(dir_for, {.proc_stat = t.file("none"), .meminfo = t.file("host/meminfo")});
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->mem_limit, 1024u * 1024);
  EXPECT_EQ(s->cpu_total, 10000u);
  EXPECT_EQ(s->cpu_user, 6000u);
  EXPECT_EQ(s->pids_limit, 100u);
  EXPECT_TRUE(s->percpu.empty());
}

TEST(StatsRead, NotRunningAndGone) {
  auto conflict = [](std::string_view) -> Result<std::string> {
    return fail(Code::Conflict, "Container x is not running");
  };
  EXPECT_EQ(read_stats(conflict).error().code, Code::Conflict);
  auto gone = [](std::string_view) -> Result<std::string> {
    return std::string("/nonexistent/cg");
  };
  EXPECT_EQ(read_stats(gone).error().code, Code::NotFound);
}

TEST(StatsJson, ZeroedObjectAsDockerd) {
  Json j = stats_json({}, {}, "/web", "abc");
  EXPECT_EQ(j["read"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(j["preread"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(j["name"], "/web");
  EXPECT_EQ(j["id"], "abc");
  EXPECT_EQ(j["memory_stats"], Json::object());
  EXPECT_EQ(j["pids_stats"], Json::object());
  EXPECT_TRUE(j["blkio_stats"]["io_service_bytes_recursive"].is_null());
  EXPECT_EQ(j["cpu_stats"]["cpu_usage"]["total_usage"], 0);
  EXPECT_FALSE(j["cpu_stats"].contains("system_cpu_usage"));
  EXPECT_FALSE(j["cpu_stats"]["cpu_usage"].contains("percpu_usage"));
  EXPECT_EQ(j["cpu_stats"]["throttling_data"]["periods"], 0);
}

TEST(StatsJson, SampleWithPrevious) {
  StatsSample pre{.read = "2026-01-01T00:00:00Z", .cpu_total = 10, .system_cpu = 100};
  StatsSample cur{.read = "2026-01-01T00:00:01Z",
                  .cpu_total = 20,
                  .percpu = {20},
                  .system_cpu = 200,
                  .online_cpus = 2,
                  .has_memory = true,
                  .mem_usage = 5,
                  .mem_limit = 50,
                  .mem_stat = {{"cache", 1}},
                  .pids_current = 2,
                  .io_bytes = {{8, 0, "Read", 7}}};
  Json j = stats_json(cur, pre, "/web", "abc");
  EXPECT_EQ(j["preread"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(j["precpu_stats"]["cpu_usage"]["total_usage"], 10);
  EXPECT_EQ(j["cpu_stats"]["system_cpu_usage"], 200);
  EXPECT_EQ(j["cpu_stats"]["online_cpus"], 2);
  EXPECT_EQ(j["cpu_stats"]["cpu_usage"]["percpu_usage"], Json::array({20}));
  EXPECT_EQ(j["memory_stats"]["usage"], 5);
  EXPECT_EQ(j["memory_stats"]["limit"], 50);
  EXPECT_EQ(j["memory_stats"]["stats"]["cache"], 1);
  EXPECT_EQ(j["pids_stats"]["current"], 2);
  EXPECT_EQ(j["blkio_stats"]["io_service_bytes_recursive"][0]["op"], "Read");
}

}  // namespace
}  // namespace silo::engine
