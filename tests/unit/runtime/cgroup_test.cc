#include "runtime/cgroup/cgroup.h"

#include <gtest/gtest.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "common/sys.h"

namespace silo::runtime::cgroup {
namespace {

using W = std::vector<Write>;

// Runs a function at scope exit: real-kernel tests clean up even when an ASSERT returns early.
template <class F>
struct Cleanup {
  F f;
  ~Cleanup() { f(); }
};

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/silo-cgroup-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { (void)sys::remove_all(path_); }
  const std::string& path() const { return path_; }
  // Creates (or replaces) a file below the temp dir, making its parents.
  void put(const std::string& rel, const std::string& content) const {
    std::string full = path_ + "/" + rel;
    ASSERT_TRUE(sys::mkdir_p(full.substr(0, full.rfind('/'))));
    ASSERT_TRUE(sys::write_file_atomic(full, content));
  }
  std::string get(const std::string& rel) const {
    auto r = sys::read_file(path_ + "/" + rel);
    return r ? *r : "<" + r.error().message + ">";
  }

 private:
  std::string path_;
};

Resources full_resources() {
  Resources r;
  r.memory = MemoryResources{.limit = 8 << 20,
                             .reservation = 4 << 20,
                             .swap = 16 << 20,
                             .swappiness = 10,
                             .disable_oom_killer = true};
  r.cpu = CpuResources{.shares = 512, .quota = 50000, .period = 100000, .cpus = "0-1", .mems = "0"};
  r.pids_limit = 64;
  return r;
}

bool has_fs_type(const std::string& path, long magic) {
  struct statfs st;
  return ::statfs(path.c_str(), &st) == 0 && static_cast<long>(st.f_type) == magic;
}

// A child that sleeps until killed; only async-signal-safe calls after fork().
pid_t spawn_sleeper() {
  pid_t pid = ::fork();
  if (pid == 0) {
    for (;;) ::pause();
  }
  return pid;
}

void reap(pid_t& pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  pid = -1;
}

// ---- plans ----

TEST(CgroupPlan, V1WritesEveryResourceInOrder) {
  Resources r = full_resources();
  r.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"}, {true, "c", 1, 3, "rwm"}};
  EXPECT_EQ(plan_v1(r), (W{{"memory/memory.limit_in_bytes", "8388608"},
                           {"memory/memory.memsw.limit_in_bytes", "16777216"},
                           {"memory/memory.soft_limit_in_bytes", "4194304"},
                           {"memory/memory.swappiness", "10"},
                           {"memory/memory.oom_control", "1"},
                           {"cpu/cpu.shares", "512"},
                           {"cpu/cpu.cfs_period_us", "100000"},
                           {"cpu/cpu.cfs_quota_us", "50000"},
                           {"cpuset/cpuset.cpus", "0-1"},
                           {"cpuset/cpuset.mems", "0"},
                           {"pids/pids.max", "64"},
                           {"devices/devices.deny", "a *:* rwm"},
                           {"devices/devices.allow", "c 1:3 rwm"}}));
}

TEST(CgroupPlan, V1UnlimitedAndUnsetValues) {
  Resources r{.memory = MemoryResources{.limit = -1},         // lifts memory+swap too
              .cpu = CpuResources{.shares = 0, .quota = -5},  // 0 = unset, as runc
              .pids_limit = 0};
  EXPECT_EQ(plan_v1(r), (W{{"memory/memory.limit_in_bytes", "-1"},
                           {"memory/memory.memsw.limit_in_bytes", "-1"},
                           {"cpu/cpu.cfs_quota_us", "-1"},
                           {"pids/pids.max", "max"}}));
  EXPECT_TRUE(plan_v1(Resources{}).empty());
}

TEST(CgroupPlan, V1DeviceRuleLines) {
  Resources r;
  r.devices = {{true, "", std::nullopt, std::nullopt, ""},
               {true, "b", 8, std::nullopt, "r"},
               {false, "c", 136, -1, "w"}};
  EXPECT_EQ(plan_v1(r), (W{{"devices/devices.allow", "a *:* rwm"},
                           {"devices/devices.allow", "b 8:* r"},
                           {"devices/devices.deny", "c 136:* w"}}));
}

TEST(CgroupPlan, V1MemoryOrderFollowsKernelRule) {
  W raise = plan_v1(full_resources());
  detail::order_memory_writes(raise, 4 << 20);  // current limit 4M < new memsw 16M: memsw first
  EXPECT_EQ(raise[0].file, "memory/memory.memsw.limit_in_bytes");
  EXPECT_EQ(raise[1].file, "memory/memory.limit_in_bytes");
  W lower = plan_v1(full_resources());
  detail::order_memory_writes(lower, 64 << 20);  // current 64M >= new memsw 16M: limit first
  EXPECT_EQ(lower[0].file, "memory/memory.limit_in_bytes");
  EXPECT_EQ(lower[1].file, "memory/memory.memsw.limit_in_bytes");
  W lift = plan_v1(Resources{.memory = MemoryResources{.limit = -1}});
  detail::order_memory_writes(lift, 8 << 20);
  EXPECT_EQ(lift[0], (Write{"memory/memory.memsw.limit_in_bytes", "-1"}));
}

TEST(CgroupPlan, V2WritesEveryResourceInOrder) {
  Resources r = full_resources();
  r.devices = {{true, "c", 10, 200, "rwm"}};  // needs eBPF: ignored
  r.unified = {{"memory.high", "7000000"}, {"io.weight", "50"}};
  EXPECT_EQ(plan_v2(r), (W{{"memory.max", "8388608"},
                           {"memory.swap.max", "8388608"},
                           {"memory.low", "4194304"},
                           {"cpu.weight", "20"},
                           {"cpu.max", "50000 100000"},
                           {"cpuset.cpus", "0-1"},
                           {"cpuset.mems", "0"},
                           {"pids.max", "64"},
                           {"io.weight", "50"},
                           {"memory.high", "7000000"}}));
}

TEST(CgroupPlan, V2UnlimitedAndDefaults) {
  Resources r{.memory = MemoryResources{.limit = -1, .reservation = -1},
              .cpu = CpuResources{.period = 50000},  // no quota: "max"
              .pids_limit = -1};
  EXPECT_EQ(plan_v2(r), (W{{"memory.max", "max"},
                           {"memory.swap.max", "max"},
                           {"memory.low", "max"},
                           {"cpu.max", "max 50000"},
                           {"pids.max", "max"}}));
  Resources q{.memory = MemoryResources{.limit = 1 << 20, .swap = -1},
              .cpu = CpuResources{.quota = 25000}};  // default period
  EXPECT_EQ(
      plan_v2(q),
      (W{{"memory.max", "1048576"}, {"memory.swap.max", "max"}, {"cpu.max", "25000 100000"}}));
}

TEST(CgroupPlan, SharesToWeightStandardConversion) {
  EXPECT_EQ(shares_to_weight(2), 1u);
  EXPECT_EQ(shares_to_weight(1024), 39u);
  EXPECT_EQ(shares_to_weight(262144), 10000u);
}

// ---- cpu lists ----

TEST(CgroupCpuList, ParsesRangesSortedUnique) {
  auto r = parse_cpu_list("5,0-2,1");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, (std::vector<unsigned>{0, 1, 2, 5}));
  EXPECT_EQ(*parse_cpu_list(" 3\n"), (std::vector<unsigned>{3}));
  EXPECT_TRUE(parse_cpu_list("")->empty());
}

TEST(CgroupCpuList, BadTokenIsNamed) {
  auto bad = parse_cpu_list("0,2-x");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::Invalid);
  EXPECT_EQ(bad.error().message,
            "invalid CPU list \"0,2-x\": entry \"2-x\" is not a number or a range N-M");
  EXPECT_NE(parse_cpu_list("1,,2").error().message.find("entry \"\""), std::string::npos);
  EXPECT_NE(parse_cpu_list("3-1").error().message.find("descending"), std::string::npos);
  EXPECT_FALSE(parse_cpu_list("-1"));
  EXPECT_FALSE(parse_cpu_list("0-4294967295"));
}

// ---- validation ----

TEST(CgroupValidate, CpuMustBeOnline) {
  TempDir t;
  t.put("cpu_online", "0-1\n");
  Resources r{.cpu = CpuResources{.cpus = "0,7"}};
  auto st = validate(r, t.path() + "/cpu_online", t.path() + "/node_online");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::Invalid);
  EXPECT_EQ(st.error().message,
            "linux.resources.cpu.cpus: CPU 7 does not exist on this host (online CPUs: 0-1)");
  r.cpu->cpus = "1";
  EXPECT_TRUE(validate(r, t.path() + "/cpu_online", t.path() + "/node_online"));
  r.cpu->cpus = "1-";
  EXPECT_NE(validate(r, t.path() + "/cpu_online")
                .error()
                .message.find("linux.resources.cpu.cpus: invalid CPU list"),
            std::string::npos);
}

TEST(CgroupValidate, MissingNodeFileMeansNodeZero) {
  TempDir t;
  Resources r{.cpu = CpuResources{.mems = "0"}};
  EXPECT_TRUE(validate(r, t.path() + "/cpu_online", t.path() + "/missing"));
  r.cpu->mems = "1";
  auto st = validate(r, t.path() + "/cpu_online", t.path() + "/missing");
  ASSERT_FALSE(st);
  EXPECT_EQ(
      st.error().message,
      "linux.resources.cpu.mems: memory node 1 does not exist on this host (online nodes: 0)");
}

TEST(CgroupValidate, MemoryRules) {
  Resources r{.memory = MemoryResources{.limit = 100}};
  EXPECT_EQ(validate(r).error().message,
            "linux.resources.memory.limit: 100 bytes is below the minimum of 4096 bytes");
  r.memory->limit = 4096;
  EXPECT_TRUE(validate(r));
  r.memory->swap = 2048;
  EXPECT_NE(validate(r).error().message.find(
                "linux.resources.memory.swap: memory+swap limit 2048 must be at least"),
            std::string::npos);
  r.memory->swap = -1;
  EXPECT_TRUE(validate(r));
  r.memory->limit.reset();
  r.memory->swap = 1 << 20;
  EXPECT_FALSE(validate(r));  // swap needs a limit
  r.memory->swap.reset();
  r.memory->swappiness = 101;
  EXPECT_FALSE(validate(r));
}

TEST(CgroupValidate, CpuPidsDevicesAndUnified) {
  Resources r{.cpu = CpuResources{.shares = 1}};
  EXPECT_FALSE(validate(r));
  r.cpu->shares = 1024;
  r.cpu->period = 500;
  EXPECT_FALSE(validate(r));
  r.cpu->period = 100000;
  r.cpu->quota = 10;
  EXPECT_FALSE(validate(r));
  r.cpu->quota = -1;
  r.pids_limit = -1;
  EXPECT_TRUE(validate(r));
  r.devices = {{true, "x", 1, 1, "rwm"}};
  EXPECT_FALSE(validate(r));
  r.devices = {{true, "c", 1, 1, "rwz"}};
  EXPECT_FALSE(validate(r));
  r.devices.clear();
  r.unified = {{"../escape", "1"}};
  EXPECT_EQ(validate(r).error().message,
            "linux.resources.unified: \"../escape\" is not a cgroup file name");
  r.unified = {{"a/b", "1"}};
  EXPECT_FALSE(validate(r));
  r.unified = {{"memory.high", "1"}};
  EXPECT_TRUE(validate(r));
}

// ---- paths ----

TEST(CgroupPath, ResolvesEveryForm) {
  EXPECT_EQ(*resolve_path("", "abc"), "/silo/abc");
  EXPECT_EQ(*resolve_path("/a//b/", "abc"), "/a/b");
  EXPECT_EQ(*resolve_path("a/b", "abc", "/process_api/59e5"), "/process_api/59e5/a/b");
  EXPECT_EQ(*resolve_path("a", "abc", "/"), "/a");
  EXPECT_EQ(*resolve_path("system.slice:docker:abc", "abc"), "/system.slice/docker-abc.scope");
  EXPECT_EQ(*resolve_path(":silo:abc", "abc"), "/system.slice/silo-abc.scope");
  EXPECT_EQ(*resolve_path("user-1000.slice:p:n", "abc"), "/user.slice/user-1000.slice/p-n.scope");
  EXPECT_EQ(*resolve_path("-.slice::n", "abc"), "/n.scope");
}

TEST(CgroupPath, RejectsEscapesAndRoot) {
  EXPECT_EQ(resolve_path("/a/../../etc", "x").error().message,
            "linux.cgroupsPath \"/a/../../etc\": \"..\" is not allowed");
  EXPECT_FALSE(resolve_path("../x", "x", "/own"));
  EXPECT_FALSE(resolve_path("/", "x"));
  EXPECT_FALSE(resolve_path("", "../x"));
  EXPECT_FALSE(resolve_path("noslice:p:n", "x"));
  EXPECT_FALSE(resolve_path("system.slice:p:", "x"));
}

TEST(CgroupPath, ParsesProcSelfCgroup) {
  auto m =
      parse_proc_cgroup("9:name=systemd:/\n4:memory:/process_api/59e5\n2:cpu,cpuacct:/x\n0::/u\n");
  EXPECT_EQ(m["memory"], "/process_api/59e5");
  EXPECT_EQ(m["name=systemd"], "/");
  EXPECT_EQ(m["cpuacct"], "/x");
  EXPECT_EQ(m[""], "/u");
}

TEST(CgroupDetect, ControllersFileMeansV2) {
  TempDir t;
  EXPECT_EQ(detect(t.path()), Driver::V1);
  t.put("cgroup.controllers", "cpu memory\n");
  EXPECT_EQ(detect(t.path()), Driver::V2);
}

// ---- managers against a fake root ----

TEST(CgroupV2Fake, CreateApplyAndRead) {
  TempDir t;
  t.put("cgroup.controllers", "cpu io memory pids\n");
  t.put("cgroup.subtree_control", "");
  auto m = open_with(Driver::V2, "/silo/c1", "c1", t.path());
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ((*m)->driver(), Driver::V2);
  ASSERT_TRUE((*m)->create());
  EXPECT_TRUE(sys::is_directory(t.path() + "/silo/c1"));
  EXPECT_EQ(t.get("cgroup.subtree_control"), "+cpu +io +memory +pids");
  EXPECT_EQ((*m)->paths(),
            (std::vector<std::pair<std::string, std::string>>{{"", t.path() + "/silo/c1"}}));

  // A fake dir has no kernel files: make those apply() writes (no memory.swap.max: no swap
  // accounting).
  for (const char* f :
       {"memory.max", "memory.low", "cpu.weight", "cpu.max", "cpuset.cpus", "cpuset.mems",
        "pids.max", "memory.high", "io.weight", "cgroup.procs", "cgroup.freeze"})
    t.put(std::string("silo/c1/") + f, "");
  Resources r = full_resources();
  r.unified = {{"memory.high", "7000000"}, {"io.weight", "50"}};
  r.devices = {{true, "c", 10, 200, "rwm"}};
  auto st = (*m)->apply(r);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(t.get("silo/c1/memory.max"), "8388608");
  EXPECT_EQ(t.get("silo/c1/cpu.weight"), "20");
  EXPECT_EQ(t.get("silo/c1/cpu.max"), "50000 100000");
  EXPECT_EQ(t.get("silo/c1/cpuset.cpus"), "0-1");
  EXPECT_EQ(t.get("silo/c1/pids.max"), "64");
  EXPECT_EQ(t.get("silo/c1/memory.high"), "7000000");

  ASSERT_TRUE((*m)->add_process(4321));
  EXPECT_EQ(t.get("silo/c1/cgroup.procs"), "4321");
  t.put("silo/c1/sub/cgroup.procs", "77\n4321\n");
  EXPECT_EQ(*(*m)->pids(), (std::vector<pid_t>{77, 4321}));

  ASSERT_TRUE((*m)->freeze());
  EXPECT_EQ(t.get("silo/c1/cgroup.freeze"), "1");
  t.put("silo/c1/cgroup.events", "populated 1\nfrozen 1\n");
  EXPECT_TRUE(*(*m)->frozen());
  ASSERT_TRUE((*m)->thaw());
  EXPECT_FALSE(*(*m)->frozen());

  t.put("silo/c1/memory.events", "low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\n");
  t.put("silo/c1/memory.current", "1000\n");
  t.put("silo/c1/cpu.stat", "usage_usec 1500\nuser_usec 1000\n");
  t.put("silo/c1/memory.max", "max\n");
  EXPECT_EQ(*(*m)->oom_kills(), 2u);
  auto s = (*m)->stats();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->memory_usage, 1000u);
  EXPECT_EQ(s->memory_limit, UINT64_MAX);
  EXPECT_EQ(s->cpu_usage_ns, 1500000u);
  EXPECT_EQ(s->oom_kills, 2u);
  EXPECT_EQ(s->memory_max_usage, 0u);  // no memory.peak

  // destroy() only rmdirs (cgroupfs dirs hold no real files): clear the fake files first.
  for (const auto& dir : {t.path() + "/silo/c1/sub", t.path() + "/silo/c1"})
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.is_regular_file()) std::filesystem::remove(e.path());
  ASSERT_TRUE((*m)->destroy());
  EXPECT_FALSE(sys::path_exists(t.path() + "/silo/c1"));
  EXPECT_TRUE(sys::is_directory(t.path() + "/silo"));
  EXPECT_TRUE((*m)->destroy());  // already gone is fine
  EXPECT_TRUE((*m)->pids()->empty());
}

TEST(CgroupV2Fake, ApplyErrorsNameFileValueAndController) {
  TempDir t;
  t.put("cgroup.controllers", "");
  auto m = open_with(Driver::V2, "c2", "c2", t.path());  // relative: below our own cgroup
  ASSERT_TRUE(m);
  ASSERT_TRUE((*m)->create());
  std::string dir = (*m)->paths()[0].second;
  Resources r;
  r.pids_limit = 10;
  auto st = (*m)->apply(r);
  ASSERT_FALSE(st);
  EXPECT_TRUE(st.error().message.starts_with("write 10 to " + dir + "/pids.max: ENOENT"))
      << st.error().message;
  EXPECT_NE(st.error().message.find("the pids controller is not enabled"), std::string::npos);
  r = Resources{};
  r.unified = {{"../../cpu.max", "1"}};
  EXPECT_EQ((*m)->apply(r).error().code, Code::Invalid);
}

TEST(CgroupV1Fake, HierarchiesCpusetInheritanceAndApply) {
  TempDir t;
  for (const char* h : {"cpu", "cpuset", "freezer", "memory", "pids", "systemd"})
    t.put(std::string(h) + "/tasks", "");
  t.put("unified/cgroup.controllers", "");
  t.put("cpuset/cpuset.cpus", "0-1\n");
  t.put("cpuset/cpuset.mems", "0\n");
  t.put("cpuset/silo/cpuset.cpus", "\n");  // an existing level without CPUs
  t.put("cpuset/silo/cpuset.mems", "\n");
  auto m = open_with(Driver::V1, "/silo/c3", "c3", t.path());
  ASSERT_TRUE(m) << m.error().message;
  auto paths = (*m)->paths();
  ASSERT_EQ(paths.size(), 6u);  // "unified" is not a v1 hierarchy
  EXPECT_EQ(paths[1],
            (std::pair<std::string, std::string>{"cpuset", t.path() + "/cpuset/silo/c3"}));
  EXPECT_EQ(paths[5].first, "systemd");
  ASSERT_TRUE((*m)->create());
  for (const auto& [name, dir] : paths) EXPECT_TRUE(sys::is_directory(dir)) << name;
  EXPECT_EQ(t.get("cpuset/silo/cpuset.cpus"), "0-1");
  EXPECT_EQ(t.get("cpuset/silo/cpuset.mems"), "0");

  Resources r = full_resources();
  r.unified = {{"memory.high", "1"}};
  EXPECT_EQ((*m)->apply(r).error().message,
            "linux.resources.unified requires cgroup v2; this host uses cgroup v1");
  r.unified.clear();
  for (const char* f :
       {"memory/silo/c3/memory.limit_in_bytes", "memory/silo/c3/memory.soft_limit_in_bytes",
        "memory/silo/c3/memory.swappiness", "memory/silo/c3/memory.oom_control",
        "cpu/silo/c3/cpu.shares", "cpu/silo/c3/cpu.cfs_period_us", "cpu/silo/c3/cpu.cfs_quota_us",
        "cpuset/silo/c3/cpuset.cpus", "cpuset/silo/c3/cpuset.mems", "pids/silo/c3/pids.max",
        "freezer/silo/c3/freezer.state"})
    t.put(f, "");
  t.put("memory/silo/c3/memory.limit_in_bytes", "9223372036854771712\n");
  auto st = (*m)->apply(r);  // no memsw file: swap accounting off, skipped
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(t.get("memory/silo/c3/memory.limit_in_bytes"), "8388608");
  EXPECT_EQ(t.get("cpu/silo/c3/cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(t.get("cpuset/silo/c3/cpuset.cpus"), "0-1");
  EXPECT_EQ(t.get("pids/silo/c3/pids.max"), "64");
  r = Resources{};
  r.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"}};
  EXPECT_NE((*m)->apply(r).error().message.find("no cgroup v1 devices hierarchy is mounted"),
            std::string::npos);
  ASSERT_TRUE((*m)->freeze());
  EXPECT_TRUE(*(*m)->frozen());
  ASSERT_TRUE((*m)->thaw());
  EXPECT_EQ(t.get("freezer/silo/c3/freezer.state"), "THAWED");
}

// ---- the real kernel (root on a v1 host; this repo's CI machine) ----

TEST(CgroupV1Real, CreateApplyAddProcessStatsDestroy) {
  if (::geteuid() != 0) GTEST_SKIP() << "skipped, because creating cgroups needs root";
  if (!has_fs_type("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC))
    GTEST_SKIP() << "skipped, because /sys/fs/cgroup/memory is not a cgroup v1 mount";
  std::string path = "/silo-unit-test-" + std::to_string(::getpid());
  auto m = open_with(Driver::V1, path, "unit", "/sys/fs/cgroup");
  ASSERT_TRUE(m) << m.error().message;
  pid_t child = -1;
  Cleanup cleanup{[&] {
    reap(child);
    (void)(*m)->thaw();
    (void)(*m)->destroy();
  }};
  auto created = (*m)->create();
  ASSERT_TRUE(created) << created.error().message;
  // memsw >= limit at every step: raising needs memsw first, lowering limit first.
  std::string memdir = "/sys/fs/cgroup/memory" + path;
  if (sys::path_exists(memdir + "/memory.memsw.limit_in_bytes")) {
    for (auto [limit, swap] :
         {std::pair{8 << 20, 8 << 20}, {16 << 20, 32 << 20}, {8 << 20, 12 << 20}}) {
      auto applied =
          (*m)->apply(Resources{.memory = MemoryResources{.limit = limit, .swap = swap}});
      ASSERT_TRUE(applied) << applied.error().message;
      EXPECT_EQ(*detail::read_value(memdir + "/memory.memsw.limit_in_bytes"), std::to_string(swap));
    }
  }
  Resources r{.memory = MemoryResources{.limit = 8 << 20},
              .cpu = CpuResources{.cpus = "0"},
              .pids_limit = 10};
  ASSERT_TRUE(validate(r));
  auto st = (*m)->apply(r);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(*detail::read_value(memdir + "/memory.limit_in_bytes"), "8388608");
  EXPECT_EQ(*detail::read_value("/sys/fs/cgroup/cpuset" + path + "/cpuset.cpus"), "0");
  EXPECT_EQ(*detail::read_value("/sys/fs/cgroup/pids" + path + "/pids.max"), "10");

  child = spawn_sleeper();
  ASSERT_GT(child, 0);
  ASSERT_TRUE((*m)->add_process(child));
  EXPECT_EQ(*(*m)->pids(), std::vector<pid_t>{child});
  EXPECT_EQ(*(*m)->oom_kills(), 0u);
  auto s = (*m)->stats();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->memory_limit, 8u << 20);
  EXPECT_EQ(s->pids_current, 1u);
  ASSERT_TRUE((*m)->freeze());
  EXPECT_TRUE(*(*m)->frozen());
  ASSERT_TRUE((*m)->thaw());
  EXPECT_FALSE(*(*m)->frozen());

  reap(child);
  auto d = (*m)->destroy();
  ASSERT_TRUE(d) << d.error().message;
  for (const auto& [name, dir] : (*m)->paths())
    EXPECT_FALSE(sys::path_exists(dir)) << name << " " << dir;
}

TEST(CgroupV1Real, RelativePathIsBelowOwnCgroup) {
  if (!has_fs_type("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC))
    GTEST_SKIP() << "skipped, because /sys/fs/cgroup/memory is not a cgroup v1 mount";
  auto own = detail::own_cgroups();
  ASSERT_TRUE(own);
  auto m = open_with(Driver::V1, "rel/x", "unit", "/sys/fs/cgroup");
  ASSERT_TRUE(m) << m.error().message;
  std::string base = (*own)["memory"] == "/" ? "" : (*own)["memory"];
  auto paths = (*m)->paths();
  auto mem =
      std::find_if(paths.begin(), paths.end(), [](const auto& p) { return p.first == "memory"; });
  ASSERT_NE(mem, paths.end());
  EXPECT_EQ(mem->second, "/sys/fs/cgroup/memory" + base + "/rel/x");
}

// A hybrid host's empty cgroup2 mount still has cgroup.procs and cgroup.freeze.
TEST(CgroupV2Real, UnifiedMountAddFreezeDestroy) {
  const std::string root = "/sys/fs/cgroup/unified";
  if (::geteuid() != 0) GTEST_SKIP() << "skipped, because creating cgroups needs root";
  if (!has_fs_type(root, CGROUP2_SUPER_MAGIC))
    GTEST_SKIP() << "skipped, because " << root << " is not cgroup2";
  auto m = open_with(Driver::V2, "/silo-unit-test-v2-" + std::to_string(::getpid()), "unit", root);
  ASSERT_TRUE(m) << m.error().message;
  pid_t child = -1;
  Cleanup cleanup{[&] {
    reap(child);
    (void)(*m)->destroy();
  }};
  ASSERT_TRUE((*m)->create());
  child = spawn_sleeper();
  ASSERT_GT(child, 0);
  ASSERT_TRUE((*m)->add_process(child));
  EXPECT_EQ(*(*m)->pids(), std::vector<pid_t>{child});
  auto f = (*m)->freeze();
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_TRUE(*(*m)->frozen());
  ASSERT_TRUE((*m)->thaw());
  EXPECT_FALSE(*(*m)->frozen());
  reap(child);
  ASSERT_TRUE((*m)->destroy());
  EXPECT_FALSE(sys::path_exists((*m)->paths()[0].second));
}

}  // namespace
}  // namespace silo::runtime::cgroup
