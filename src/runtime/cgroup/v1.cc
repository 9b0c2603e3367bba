// cgroup v1: one directory per mounted hierarchy, each controller with its own files.
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "common/log.h"
#include "common/sys.h"
#include "runtime/cgroup/cgroup.h"

namespace silo::runtime::cgroup {

namespace {

using detail::split_words;

constexpr std::string_view kKnownControllers[] = {
    "blkio",  "cpu",  "cpuacct", "cpuset",   "devices",    "freezer", "hugetlb",
    "memory", "misc", "net_cls", "net_prio", "perf_event", "pids",    "rdma"};

bool known_controller(std::string_view c) {
  return std::find(std::begin(kKnownControllers), std::end(kKnownControllers), c) !=
         std::end(kKnownControllers);
}

struct Hierarchy {
  std::string name;                      // as mounted: "cpu", "cpu,cpuacct", "systemd"
  std::vector<std::string> controllers;  // "cpu", "cpuacct", "name=systemd"
  std::string mount;                     // absolute mount point
  std::string mount_root = "/";          // the hierarchy path mounted there (not "/" in a cgroupns)
  std::string dir;                       // this container's cgroup in it
  bool has(std::string_view c) const {
    return std::find(controllers.begin(), controllers.end(), c) != controllers.end();
  }
};

// mountinfo escapes space, tab, newline and backslash as \NNN octal.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
      out += static_cast<char>(v);
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The v1 hierarchies mounted directly below `root`, from /proc/self/mountinfo.
std::vector<Hierarchy> mounted_hierarchies(const std::string& root, std::string_view mountinfo) {
  std::vector<Hierarchy> out;
  std::set<std::vector<std::string>> seen;  // the same hierarchy may be mounted twice
  for (const auto& line : split_words(mountinfo, '\n')) {
    auto f = split_words(line, ' ');
    auto sep = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || sep == f.end() || f.end() - sep < 4 || *(sep + 1) != "cgroup") continue;
    Hierarchy h;
    h.mount = unescape(f[4]);
    h.mount_root = unescape(f[3]);
    if (!h.mount.starts_with(root + "/") || h.mount.find('/', root.size() + 1) != std::string::npos)
      continue;
    h.name = h.mount.substr(root.size() + 1);
    for (auto& opt : split_words(*(sep + 3), ',')) {
      if (known_controller(opt) || opt.starts_with("name=")) h.controllers.push_back(opt);
    }
    std::sort(h.controllers.begin(), h.controllers.end());
    if (h.controllers.empty() || !seen.insert(h.controllers).second) continue;
    out.push_back(std::move(h));
  }
  return out;
}

// A fake root (tests): each directory is a hierarchy named after its controllers.
std::vector<Hierarchy> dir_hierarchies(const std::string& root) {
  std::vector<Hierarchy> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(root, ec)) {
    std::error_code ec2;
    std::string name = e.path().filename().string();
    if (!e.is_directory(ec2) || name == "unified") continue;
    Hierarchy h{name, {}, e.path().string()};
    for (auto& c : split_words(name, ','))
      h.controllers.push_back(known_controller(c) ? c : "name=" + c);
    out.push_back(std::move(h));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::string device_rule(const DeviceRule& d) {
  auto num = [](const std::optional<int64_t>& n) {
    return !n || *n < 0 ? std::string("*") : std::to_string(*n);
  };
  std::string type = d.type.empty() ? "a" : d.type;
  return type + " " + num(d.major) + ":" + num(d.minor) + " " +
         (d.access.empty() ? "rwm" : d.access);
}

class V1Manager final : public Manager {
 public:
  V1Manager(std::string root, std::vector<Hierarchy> hierarchies)
      : root_(std::move(root)), hierarchies_(std::move(hierarchies)) {}

  Driver driver() const override { return Driver::V1; }

  Status create() override {
    for (const auto& h : hierarchies_) SILO_TRY(make_dirs(h));
    return {};
  }

  Status apply(const Resources& r) override {
    if (!r.unified.empty())
      return fail(Code::Invalid,
                  "linux.resources.unified requires cgroup v2; this host uses cgroup v1");
    if (r.memory && r.memory->kernel)
      spdlog::debug("cgroup {}: ignoring linux.resources.memory.kernel (deprecated by the kernel)",
                    name());
    auto plan = plan_v1(r);
    if (const Hierarchy* mem = find("memory")) {
      auto current = detail::read_u64_or_zero(mem->dir + "/memory.limit_in_bytes");
      if (!current) return std::unexpected(current.error());
      detail::order_memory_writes(plan, *current);
    }
    for (const auto& w : plan) {
      size_t slash = w.file.find('/');
      std::string controller = w.file.substr(0, slash), file = w.file.substr(slash + 1);
      const Hierarchy* h = find(controller);
      if (!h)
        return fail(Code::Unavailable, "cannot set " + file + ": no cgroup v1 " + controller +
                                           " hierarchy is mounted under " + root_);
      std::string path = h->dir + "/" + file;
      if (file == "memory.memsw.limit_in_bytes" && !sys::path_exists(path)) {
        spdlog::debug("cgroup {}: no swap accounting in this kernel; not limiting swap", name());
        continue;
      }
      SILO_TRY(detail::write_value(path, w.value));
    }
    return {};
  }

  Status add_process(pid_t pid) override {
    for (const auto& h : hierarchies_)
      SILO_TRY(detail::write_value(h.dir + "/cgroup.procs", std::to_string(pid)));
    return {};
  }

  Result<std::vector<pid_t>> pids() const override {
    const Hierarchy* h = find("pids");
    if (!h) h = find("memory");
    if (!h) h = &hierarchies_.front();
    return detail::collect_pids(h->dir);
  }

  Status freeze() override {
    auto state = freezer_state_path();
    if (!state) return std::unexpected(state.error());
    SILO_TRY(detail::write_value(*state, "FROZEN"));
    // The kernel freezes asynchronously (freezer.state reads FREEZING meanwhile); writing
    // FROZEN again retries tasks that were busy, as runc does.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (int i = 1;; ++i) {
      auto now = detail::read_value(*state);
      if (!now) return std::unexpected(now.error());
      if (*now == "FROZEN") return {};
      if (std::chrono::steady_clock::now() > deadline) {
        (void)detail::write_value(*state, "THAWED");
        return fail(Code::Unavailable, "freeze " + name() + ": freezer.state still reads " + *now +
                                           " after 2 s; thawed it again");
      }
      if (i % 50 == 0) SILO_TRY(detail::write_value(*state, "FROZEN"));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  Status thaw() override {
    auto state = freezer_state_path();
    if (!state) return std::unexpected(state.error());
    return detail::write_value(*state, "THAWED");
  }

  Result<bool> frozen() const override {
    if (!find("freezer")) return false;
    auto now = detail::read_value(find("freezer")->dir + "/freezer.state");
    if (!now) return std::unexpected(now.error());
    return *now == "FROZEN";
  }

  Result<uint64_t> oom_kills() const override {
    const Hierarchy* mem = find("memory");
    if (!mem)
      return fail(Code::Unavailable, "cgroup " + name() + ": no memory hierarchy is mounted");
    auto content = sys::read_file(mem->dir + "/memory.oom_control");
    if (!content) return std::unexpected(content.error());
    return detail::keyed_value(*content, "oom_kill");  // the line exists since Linux 4.13
  }

  Result<Stats> stats() const override {
    if (!sys::is_directory(hierarchies_.front().dir))
      return fail(Code::NotFound, "cgroup " + hierarchies_.front().dir + " does not exist");
    Stats s;
    if (const Hierarchy* mem = find("memory")) {
      SILO_TRY(read_into(s.memory_usage, mem->dir + "/memory.usage_in_bytes"));
      SILO_TRY(read_into(s.memory_limit, mem->dir + "/memory.limit_in_bytes"));
      SILO_TRY(read_into(s.memory_max_usage, mem->dir + "/memory.max_usage_in_bytes"));
      auto kills = oom_kills();
      if (kills) s.oom_kills = *kills;
    }
    if (const Hierarchy* acct = find("cpuacct"))
      SILO_TRY(read_into(s.cpu_usage_ns, acct->dir + "/cpuacct.usage"));
    if (const Hierarchy* p = find("pids"))
      SILO_TRY(read_into(s.pids_current, p->dir + "/pids.current"));
    return s;
  }

  Status destroy() override {
    Status first;
    for (const auto& h : hierarchies_) {
      if (auto r = detail::remove_cgroup(h.dir); !r && first) first = r;
    }
    return first;
  }

  std::vector<std::pair<std::string, std::string>> paths() const override {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& h : hierarchies_) out.emplace_back(h.name, h.dir);
    return out;
  }

 private:
  const Hierarchy* find(std::string_view controller) const {
    for (const auto& h : hierarchies_) {
      if (h.has(controller)) return &h;
    }
    return nullptr;
  }

  // The container's path within a hierarchy, for messages.
  std::string name() const {
    return hierarchies_.front().dir.substr(hierarchies_.front().mount.size());
  }

  Result<std::string> freezer_state_path() const {
    const Hierarchy* h = find("freezer");
    if (!h)
      return fail(Code::Unavailable,
                  "cgroup " + name() + ": no freezer hierarchy is mounted under " + root_);
    return h->dir + "/freezer.state";
  }

  static Status read_into(uint64_t& out, const std::string& path) {
    auto v = detail::read_u64_or_zero(path);
    if (!v) return std::unexpected(v.error());
    out = *v;
    return {};
  }

  // mkdir each level below the hierarchy's mount; cpuset levels inherit their parent's
  // CPUs and memory nodes, because a cpuset with an empty list refuses tasks (ENOSPC).
  static Status make_dirs(const Hierarchy& h) {
    std::string cur = h.mount;
    for (const auto& part : split_words(h.dir.substr(h.mount.size()), '/')) {
      std::string next = cur + "/" + part;
      if (::mkdir(next.c_str(), 0755) < 0 && errno != EEXIST)
        return fail_errno(errno, "mkdir " + next);
      if (h.has("cpuset")) SILO_TRY(inherit_cpuset(cur, next));
      cur = next;
    }
    return {};
  }

  static Status inherit_cpuset(const std::string& parent, const std::string& child) {
    for (const char* file : {"/cpuset.cpus", "/cpuset.mems"}) {
      auto mine = detail::read_value(child + file);
      if (!mine && mine.error().sys_errno == ENOENT) continue;  // a fake root has no kernel files
      if (!mine) return std::unexpected(mine.error());
      if (!mine->empty()) continue;
      auto theirs = detail::read_value(parent + file);
      if (!theirs) return std::unexpected(theirs.error());
      SILO_TRY(detail::write_value(child + file, *theirs));
    }
    return {};
  }

  std::string root_;
  std::vector<Hierarchy> hierarchies_;
};

}  // namespace

std::vector<Write> plan_v1(const Resources& r) {
  std::vector<Write> out;
  auto add = [&](std::string file, std::string value) {
    out.push_back({std::move(file), std::move(value)});
  };
  if (r.memory) {
    const MemoryResources& m = *r.memory;
    int64_t limit = m.limit.value_or(0), swap = m.swap.value_or(0);
    if (limit != 0) add("memory/memory.limit_in_bytes", std::to_string(limit));
    // As runc: lifting the memory limit without a swap value lifts the memory+swap limit too.
    if (swap != 0 || limit == -1)
      add("memory/memory.memsw.limit_in_bytes", std::to_string(swap != 0 ? swap : -1));
    if (m.reservation.value_or(0) != 0)
      add("memory/memory.soft_limit_in_bytes", std::to_string(*m.reservation));
    if (m.swappiness) add("memory/memory.swappiness", std::to_string(*m.swappiness));
    if (m.disable_oom_killer) add("memory/memory.oom_control", "1");
  }
  if (r.cpu) {
    const CpuResources& c = *r.cpu;
    if (c.shares.value_or(0) != 0) add("cpu/cpu.shares", std::to_string(*c.shares));
    if (c.period.value_or(0) != 0) add("cpu/cpu.cfs_period_us", std::to_string(*c.period));
    if (c.quota.value_or(0) != 0)
      add("cpu/cpu.cfs_quota_us", std::to_string(*c.quota < 0 ? -1 : *c.quota));
    if (!c.cpus.empty()) add("cpuset/cpuset.cpus", c.cpus);
    if (!c.mems.empty()) add("cpuset/cpuset.mems", c.mems);
  }
  if (r.pids_limit) add("pids/pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max");
  for (const auto& d : r.devices)
    add(d.allow ? "devices/devices.allow" : "devices/devices.deny", device_rule(d));
  return out;
}

namespace detail {

void order_memory_writes(std::vector<Write>& plan, uint64_t current_limit) {
  auto at = [&](std::string_view file) {
    return std::find_if(plan.begin(), plan.end(), [&](const Write& w) { return w.file == file; });
  };
  auto limit = at("memory/memory.limit_in_bytes");
  auto swap = at("memory/memory.memsw.limit_in_bytes");
  if (limit == plan.end() || swap == plan.end()) return;
  // The kernel keeps memsw >= limit at every moment (EINVAL otherwise). When the new
  // memory+swap limit is above the current memory limit, memsw can go first and the new
  // limit (<= new memsw) fits under it; otherwise the new limit (<= new memsw <= current
  // limit <= current memsw) must go first. This is runc's order.
  int64_t new_swap = 0;
  std::from_chars(swap->value.data(), swap->value.data() + swap->value.size(), new_swap);
  bool swap_first = new_swap == -1 || current_limit < static_cast<uint64_t>(new_swap);
  if (swap_first == (swap < limit)) return;
  std::iter_swap(limit, swap);
}

Result<std::unique_ptr<Manager>> open_v1(const std::string& cgroups_path, const std::string& id,
                                         const std::string& root_in) {
  std::string root = root_in;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::vector<Hierarchy> hierarchies;
  if (auto mountinfo = sys::read_file("/proc/self/mountinfo"))
    hierarchies = mounted_hierarchies(root, *mountinfo);
  if (hierarchies.empty()) hierarchies = dir_hierarchies(root);
  if (hierarchies.empty())
    return fail(Code::Unavailable, "no cgroup v1 hierarchy is mounted under " + root);

  std::map<std::string, std::string> own;
  if (detail::uses_own_cgroup(cgroups_path)) {
    auto mine = detail::own_cgroups();
    if (!mine) return std::unexpected(mine.error());
    own = std::move(*mine);
  }
  for (auto& h : hierarchies) {
    std::string base = "/";
    if (auto it = own.find(h.controllers.front()); it != own.end()) base = it->second;
    // /proc/self/cgroup paths are relative to the hierarchy; the mount may show a subtree.
    if (h.mount_root != "/" && base.starts_with(h.mount_root))
      base = base.substr(h.mount_root.size());
    auto path = resolve_path(cgroups_path, id, base.empty() ? "/" : base);
    if (!path) return std::unexpected(path.error());
    h.dir = h.mount + *path;
  }
  return std::make_unique<V1Manager>(root, std::move(hierarchies));
}

}  // namespace detail
}  // namespace silo::runtime::cgroup
