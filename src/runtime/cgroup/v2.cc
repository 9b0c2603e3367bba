// cgroup v2: one directory in the unified hierarchy; controllers enabled top-down.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/log.h"
#include "common/sys.h"
#include "runtime/cgroup/cgroup.h"

namespace silo::runtime::cgroup {

namespace {

class V2Manager final : public Manager {
 public:
  V2Manager(std::string root, std::string dir) : root_(std::move(root)), dir_(std::move(dir)) {}

  Driver driver() const override { return Driver::V2; }

  // Each ancestor must delegate the controllers in cgroup.subtree_control before its
  // child has their files ("no internal processes" rule: cgroups(7), cgroup v2).
  Status create() override {
    std::string cur = root_;
    for (const auto& part : detail::split_words(dir_.substr(root_.size()), '/')) {
      SILO_TRY(enable_controllers(cur));
      std::string next = cur + "/" + part;
      if (::mkdir(next.c_str(), 0755) < 0 && errno != EEXIST)
        return fail_errno(errno, "mkdir " + next);
      cur = next;
    }
    return {};
  }

  Status apply(const Resources& r) override {
    for (const auto& [key, value] : r.unified) {
      if (key.empty() || key.find('/') != std::string::npos || key.find("..") != std::string::npos)
        return fail(Code::Invalid,
                    "linux.resources.unified: \"" + key + "\" is not a cgroup file name");
    }
    log_ignored(r);
    for (const auto& w : plan_v2(r)) {
      std::string path = dir_ + "/" + w.file;
      if (w.file == "memory.swap.max" && !sys::path_exists(path)) {
        spdlog::debug("cgroup {}: no swap accounting in this kernel; not limiting swap", dir_);
        continue;
      }
      if (auto st = detail::write_value(path, w.value); !st) {
        if (st.error().sys_errno == ENOENT && sys::is_directory(dir_))
          st.error().message +=
              "; the " + w.file.substr(0, w.file.find('.')) +
              " controller is not enabled for this cgroup (cgroup.subtree_control of its parent)";
        return st;
      }
    }
    return {};
  }

  Status add_process(pid_t pid) override {
    return detail::write_value(dir_ + "/cgroup.procs", std::to_string(pid));
  }

  Result<std::vector<pid_t>> pids() const override { return detail::collect_pids(dir_); }

  Status freeze() override {
    SILO_TRY(detail::write_value(dir_ + "/cgroup.freeze", "1"));
    // cgroup.freeze only asks; cgroup.events says "frozen 1" once every task has stopped.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (;;) {
      auto done = events_frozen();
      if (!done) return std::unexpected(done.error());
      if (*done) return {};
      if (std::chrono::steady_clock::now() > deadline) {
        (void)detail::write_value(dir_ + "/cgroup.freeze", "0");
        return fail(Code::Unavailable,
                    "freeze " + dir_ + ": not frozen after 2 s; thawed it again");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  Status thaw() override { return detail::write_value(dir_ + "/cgroup.freeze", "0"); }

  Result<bool> frozen() const override {
    auto asked = detail::read_value(dir_ + "/cgroup.freeze");
    if (!asked) return std::unexpected(asked.error());
    if (*asked != "1") return false;
    return events_frozen();
  }

  Result<uint64_t> oom_kills() const override {
    auto events = sys::read_file(dir_ + "/memory.events");
    if (!events) return std::unexpected(events.error());
    return detail::keyed_value(*events, "oom_kill");
  }

  Result<Stats> stats() const override {
    if (!sys::is_directory(dir_)) return fail(Code::NotFound, "cgroup " + dir_ + " does not exist");
    Stats s;
    SILO_TRY(read_into(s.memory_usage, "memory.current"));
    SILO_TRY(read_into(s.memory_limit, "memory.max"));
    SILO_TRY(read_into(s.memory_max_usage, "memory.peak"));  // Linux >= 5.19
    SILO_TRY(read_into(s.pids_current, "pids.current"));
    if (auto cpu = sys::read_file(dir_ + "/cpu.stat"))
      s.cpu_usage_ns = detail::keyed_value(*cpu, "usage_usec") * 1000;
    if (auto events = sys::read_file(dir_ + "/memory.events"))
      s.oom_kills = detail::keyed_value(*events, "oom_kill");
    return s;
  }

  Status destroy() override { return detail::remove_cgroup(dir_); }

  std::vector<std::pair<std::string, std::string>> paths() const override { return {{"", dir_}}; }

 private:
  // Enables every controller `level` has in its child cgroups. One write for all, as a
  // kernel accepts "+a +b"; when that fails, one by one, so one busy controller (EBUSY:
  // `level` holds processes) does not cost the others.
  static Status enable_controllers(const std::string& level) {
    auto available = detail::read_value(level + "/cgroup.controllers");
    if (!available)
      return available.error().sys_errno == ENOENT ? Status{} : std::unexpected(available.error());
    auto enabled = detail::read_value(level + "/cgroup.subtree_control");
    std::vector<std::string> have =
        enabled ? detail::split_words(*enabled, ' ') : std::vector<std::string>{};
    std::vector<std::string> missing;
    for (auto& c : detail::split_words(*available, ' ')) {
      if (std::find(have.begin(), have.end(), c) == have.end()) missing.push_back("+" + c);
    }
    if (missing.empty()) return {};
    std::string all;
    for (const auto& c : missing) all += (all.empty() ? "" : " ") + c;
    std::string file = level + "/cgroup.subtree_control";
    if (detail::write_value(file, all)) return {};
    for (const auto& c : missing) {
      if (auto st = detail::write_value(file, c); !st)
        spdlog::debug("cgroup: {}", st.error().message);
    }
    return {};
  }

  Result<bool> events_frozen() const {
    auto events = sys::read_file(dir_ + "/cgroup.events");
    if (!events && events.error().sys_errno == ENOENT)
      return true;  // a fake root has no kernel files
    if (!events) return std::unexpected(events.error());
    return detail::keyed_value(*events, "frozen") == 1;
  }

  Status read_into(uint64_t& out, const char* file) const {
    auto v = detail::read_u64_or_zero(dir_ + "/" + file);
    if (!v) return std::unexpected(v.error());
    out = *v;
    return {};
  }

  // Settings v2 has no file for; runc ignores them the same way.
  void log_ignored(const Resources& r) const {
    if (!r.devices.empty())
      spdlog::debug(
          "cgroup {}: ignoring {} device rules: cgroup v2 device control needs an eBPF program",
          dir_, r.devices.size());
    if (!r.memory) return;
    if (r.memory->swappiness)
      spdlog::debug("cgroup {}: ignoring memory.swappiness (no v2 equivalent)", dir_);
    if (r.memory->kernel)
      spdlog::debug("cgroup {}: ignoring memory.kernel (no v2 equivalent)", dir_);
    if (r.memory->disable_oom_killer)
      spdlog::debug("cgroup {}: ignoring memory.disableOOMKiller (no v2 equivalent)", dir_);
  }

  std::string root_, dir_;
};

}  // namespace

std::vector<Write> plan_v2(const Resources& r) {
  std::vector<Write> out;
  auto add = [&](std::string file, std::string value) {
    out.push_back({std::move(file), std::move(value)});
  };
  auto limit_str = [](int64_t v) { return v < 0 ? std::string("max") : std::to_string(v); };
  if (r.memory) {
    const MemoryResources& m = *r.memory;
    int64_t limit = m.limit.value_or(0), swap = m.swap.value_or(0);
    if (limit != 0) add("memory.max", limit_str(limit));
    // OCI's swap is memory+swap; v2's memory.swap.max is swap alone. Lifting the memory limit
    // with no swap value lifts the swap limit too (runc).
    if (swap == -1 || (swap == 0 && limit == -1))
      add("memory.swap.max", "max");
    else if (swap > 0 && limit > 0)
      add("memory.swap.max", std::to_string(swap - limit));
    if (m.reservation.value_or(0) != 0) add("memory.low", limit_str(*m.reservation));
  }
  if (r.cpu) {
    const CpuResources& c = *r.cpu;
    if (c.shares.value_or(0) != 0) add("cpu.weight", std::to_string(shares_to_weight(*c.shares)));
    if (c.quota.value_or(0) != 0 || c.period.value_or(0) != 0) {
      int64_t quota = c.quota.value_or(0);
      uint64_t period = c.period.value_or(0) != 0 ? *c.period : 100000;
      add("cpu.max",
          (quota > 0 ? std::to_string(quota) : std::string("max")) + " " + std::to_string(period));
    }
    if (!c.cpus.empty()) add("cpuset.cpus", c.cpus);
    if (!c.mems.empty()) add("cpuset.mems", c.mems);
  }
  if (r.pids_limit) add("pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max");
  // Applied last so that they override the typed fields, as runc does.
  for (const auto& [key, value] : r.unified) add(key, value);
  return out;
}

namespace detail {

Result<std::unique_ptr<Manager>> open_v2(const std::string& cgroups_path, const std::string& id,
                                         const std::string& root_in) {
  std::string root = root_in;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::string own = "/";
  if (detail::uses_own_cgroup(cgroups_path)) {
    auto mine = own_cgroups();
    if (!mine) return std::unexpected(mine.error());
    if (auto it = mine->find(""); it != mine->end()) own = it->second;
  }
  auto path = resolve_path(cgroups_path, id, own);
  if (!path) return std::unexpected(path.error());
  return std::make_unique<V2Manager>(root, root + *path);
}

}  // namespace detail
}  // namespace silo::runtime::cgroup
