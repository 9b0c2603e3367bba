// Restore and reconcile on boot, the executor half: observe this daemon's objects on the
// host, let plan_reconcile (reconcile.h) decide, apply each repair and log it.

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>

#include <filesystem>

#include "common/log.h"
#include "common/sys.h"
#include "engine/engine_impl.h"
#include "engine/reconcile.h"
#include "runtime/cgroup/cgroup.h"
#include "runtime/container.h"

namespace silo::engine {
namespace {

namespace fs = std::filesystem;

bool is_id(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::vector<std::string> subdirs(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory(ec)) out.push_back(e.path().filename().string());
  return out;
}

// The --id argument of a shim's command line.
std::string shim_id(pid_t pid) {
  auto cmd = sys::read_file("/proc/" + std::to_string(pid) + "/cmdline");
  if (!cmd) return "";
  std::vector<std::string> argv;
  size_t start = 0;
  while (start < cmd->size()) {
    size_t end = cmd->find('\0', start);
    if (end == std::string::npos) end = cmd->size();
    argv.push_back(cmd->substr(start, end - start));
    start = end + 1;
  }
  for (size_t i = 0; i + 1 < argv.size(); ++i)
    if (argv[i] == "--id") return argv[i + 1];
  return "";
}

std::vector<ObservedShim> our_shims(const std::string& runtime_root) {
  std::vector<ObservedShim> out;
  for (const auto& name : subdirs("/proc")) {
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = std::atoi(name.c_str());
    if (!shim_alive(pid, runtime_root)) continue;
    std::string id = shim_id(pid);
    if (!id.empty()) out.push_back({pid, id});
  }
  return out;
}

// Waits up to `ms` for `pid` to exit; true when it did.
bool wait_gone(pid_t pid, int ms) {
  auto fd = sys::pidfd_open(pid);
  if (!fd) return true;
  pollfd p{.fd = fd->get(), .events = POLLIN, .revents = 0};
  return ::poll(&p, 1, ms) > 0;
}

}  // namespace

Status Engine::Impl::restore() {
  auto all = store->list_containers();
  if (!all) return std::unexpected(all.error());
  for (const auto& rec : *all) {
    const std::string& s = rec.state.status;
    if (s == "restarting") {
      monitor->schedule(rec.id, std::chrono::milliseconds(0));
      continue;
    }
    if (s != "running" && s != "paused") continue;
    pid_t pid = rec.shim.value("pid", 0);
    if (shim_alive(pid, self->runtime_root())) {
      spdlog::info("restore: container {} still runs (shim {})", rec.id.substr(0, 12), pid);
      monitor->watch(rec.id, pid);
      continue;
    }
    spdlog::info("restore: container {} exited while the daemon was down", rec.id.substr(0, 12));
    on_shim_exit(rec.id);
  }
  return {};
}

Status Engine::Impl::reconcile() {
  auto all = store->list_containers();
  if (!all) return std::unexpected(all.error());
  auto journal = store->kernel_objects();
  if (!journal) return std::unexpected(journal.error());
  std::vector<KnownContainer> known;
  std::set<std::string> ids;
  for (const auto& c : *all) {
    known.push_back({c.id, c.state.status, self->paths(c.id).rootfs});
    ids.insert(c.id);
  }
  Observed seen;
  seen.mounts = mounts_under(opts.config.containers_dir());
  seen.runtime_ids = state_dir.list();
  std::map<std::string, std::vector<std::string>> cgroup_dirs;  // id -> hierarchy dirs
  if (auto probe = runtime::cgroup::open(cgroup_parent + "/probe", "probe")) {
    for (const auto& [name, dir] : (*probe)->paths()) {
      std::string parent = fs::path(dir).parent_path().string();
      for (const auto& d : subdirs(parent))
        if (is_id(d)) cgroup_dirs[d].push_back(parent + "/" + d);
    }
  }
  for (const auto& [id, _] : cgroup_dirs) seen.cgroup_ids.push_back(id);
  seen.shims = our_shims(self->runtime_root());

  for (const auto& a : plan_reconcile(known, *journal, seen)) {
    Status done;
    switch (a.kind) {
      case ReconcileAction::FinishRemoval: {
        auto rec = store->get_container(a.id);
        if (rec) done = remove_locked(*rec, false);
        break;
      }
      case ReconcileAction::KillShim:
        (void)runtime::kill(state_dir, a.id, SIGKILL, true);
        if (!wait_gone(a.pid, 5000) && shim_alive(a.pid, self->runtime_root())) {
          done = sys::kill(a.pid, SIGKILL);
          wait_gone(a.pid, 2000);
        }
        break;
      case ReconcileAction::Unmount: {
        done = sys::umount2(a.key, MNT_DETACH);
        std::string dir = fs::path(a.key).parent_path().string();
        std::string id = fs::path(dir).filename().string();
        if (done && is_id(id) && !ids.contains(id)) done = sys::remove_all(dir);
        break;
      }
      case ReconcileAction::RemoveRuntime:
        done = runtime::remove(state_dir, a.id, true);
        if (!done && !sys::path_exists(state_dir.dir(a.id))) done = {};
        break;
      case ReconcileAction::DestroyCgroup:
        if (auto mgr = runtime::cgroup::open(cgroups_path(a.id), a.id)) done = (*mgr)->destroy();
        break;
      case ReconcileAction::Forget:
        done = store->forget_kernel_object(a.journal_kind, a.key);
        break;
    }
    if (done)
      spdlog::info("reconcile: {}", describe(a));
    else
      spdlog::warn("reconcile: {}: failed: {}", describe(a), done.error().message);
  }
  // Restart policies on boot: "always" and "unless-stopped" containers come back.
  auto after = store->list_containers();
  if (!after) return {};
  for (auto& rec : *after) {
    if (rec.state.status != "exited") continue;
    auto policy = restart_policy_from(rec.host_config);
    if (!policy ||
        !restart_on_boot(*policy, rec.state.exit_code, rec.shim.value("manually_stopped", false),
                         rec.state.restart_count))
      continue;
    auto lock = lock_of(rec.id);
    std::lock_guard g(*lock);
    if (auto ok = start_locked(rec); !ok)
      spdlog::warn("restart {} on boot: {}", rec.id.substr(0, 12), ok.error().message);
  }
  return {};
}

}  // namespace silo::engine
