// Exit monitoring: one epoll thread over the pidfds of running shims (pidfd_open works
// for processes that are not our children, and the shims never are), plus the restart
// timers. On an exit the engine records it, emits die (and oom), and applies the
// restart policy or --rm.

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <ctime>

#include "common/log.h"
#include "common/sys.h"
#include "engine/engine_impl.h"
#include "runtime/cgroup/cgroup.h"
#include "runtime/container.h"

namespace silo::engine {

Monitor::Monitor(Callback on_exit, Callback on_timer)
    : on_exit_(std::move(on_exit)), on_timer_(std::move(on_timer)) {}

Monitor::~Monitor() {
  {
    std::lock_guard g(mu_);
    stop_ = true;
  }
  wake();
  if (thread_.joinable()) thread_.join();
}

Status Monitor::start() {
  epoll_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) return fail_errno(errno, "epoll_create1");
  wake_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_) return fail_errno(errno, "eventfd");
  epoll_event ev{.events = EPOLLIN, .data = {.fd = wake_.get()}};
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev) < 0)
    return fail_errno(errno, "epoll_ctl");
  thread_ = std::thread([this] { loop(); });
  return {};
}

void Monitor::wake() {
  uint64_t one = 1;
  if (wake_) (void)!::write(wake_.get(), &one, sizeof one);
}

void Monitor::watch(const std::string& id, pid_t pid) {
  std::lock_guard g(mu_);
  auto fd = sys::pidfd_open(pid);
  if (!fd) {
    gone_.insert(id);  // already exited: report it from the loop, never from the caller
  } else {
    epoll_event ev{.events = EPOLLIN, .data = {.fd = fd->get()}};
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd->get(), &ev) < 0) {
      gone_.insert(id);
    } else {
      int key = fd->get();
      watched_[key] = {id, std::move(*fd)};
    }
  }
  wake();
}

void Monitor::schedule(const std::string& id, std::chrono::milliseconds delay) {
  {
    std::lock_guard g(mu_);
    timers_[id] = std::chrono::steady_clock::now() + delay;
  }
  wake();
}

bool Monitor::cancel(const std::string& id) {
  std::lock_guard g(mu_);
  return timers_.erase(id) > 0;
}

void Monitor::loop() {
  for (;;) {
    int timeout_ms = -1;
    {
      std::lock_guard g(mu_);
      if (stop_) return;
      auto now = std::chrono::steady_clock::now();
      for (const auto& [id, at] : timers_) {
        auto ms = std::chrono::ceil<std::chrono::milliseconds>(at - now).count();
        ms = std::max<int64_t>(ms, 0);
        if (timeout_ms < 0 || ms < timeout_ms) timeout_ms = static_cast<int>(ms);
      }
      if (!gone_.empty()) timeout_ms = 0;
    }
    epoll_event evs[16];
    int n = ::epoll_wait(epoll_.get(), evs, 16, timeout_ms);
    std::vector<std::string> exited, due;
    {
      std::lock_guard g(mu_);
      if (stop_) return;
      for (int i = 0; i < std::max(n, 0); ++i) {
        int fd = evs[i].data.fd;
        if (fd == wake_.get()) {
          uint64_t v;
          (void)!::read(wake_.get(), &v, sizeof v);
          continue;
        }
        auto it = watched_.find(fd);
        if (it == watched_.end()) continue;
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
        exited.push_back(it->second.first);
        watched_.erase(it);
      }
      exited.insert(exited.end(), gone_.begin(), gone_.end());
      gone_.clear();
      auto now = std::chrono::steady_clock::now();
      for (auto it = timers_.begin(); it != timers_.end();) {
        if (it->second <= now) {
          due.push_back(it->first);
          it = timers_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (const auto& id : exited) on_exit_(id);
    for (const auto& id : due) on_timer_(id);
  }
}

namespace {

// Seconds since the epoch (with fraction) of an RFC 3339 UTC time; 0 when unparsable.
double unix_seconds(const std::string& t) {
  std::tm tm = {};
  const char* rest = ::strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return 0;
  double frac = 0;
  if (*rest == '.') frac = std::atof(("0" + std::string(rest).substr(0, 10)).c_str());
  return static_cast<double>(::timegm(&tm)) + frac;
}

}  // namespace

void Engine::Impl::record_exit(ContainerRecord& rec) {
  auto p = self->paths(rec.id);
  int64_t code = 255;  // the shim died without recording (killed): dockerd's "unknown"
  bool oom = false;
  std::string finished = now_rfc3339();
  if (auto text = sys::read_file(p.exit_file)) {
    if (auto j = parse_json(*text, "exit.json"); j && j->is_object()) {
      code = j->value("exit_code", int64_t{255});
      oom = j->value("oom_killed", false);
      if (auto f = j->find("finished_at"); f != j->end() && f->is_string()) finished = *f;
    }
  }
  rec.state.status = "exited";
  rec.state.pid = 0;
  rec.state.exit_code = code;
  rec.state.oom_killed = oom;
  rec.state.finished_at = finished;
  rec.shim.erase("pid");
  rec.shim.erase("init_pid");
  net->detach(rec);
  if (auto ok = store->update_container(rec); !ok)
    spdlog::error("record exit of {}: {}", rec.id, ok.error().message);
  // The shim removed the runtime container (and so its cgroup) before it exited; a shim
  // that was killed did not, so make sure here.
  if (sys::path_exists(state_dir.dir(rec.id))) (void)runtime::remove(state_dir, rec.id, true);
  if (auto mgr = runtime::cgroup::open(cgroups_path(rec.id), rec.id)) (void)(*mgr)->destroy();
  (void)store->forget_kernel_object("shim", rec.id);
  (void)store->forget_kernel_object("cgroup", cgroups_path(rec.id));
  if (oom) event("oom", rec);
  event("die", rec, {{"exitCode", std::to_string(code)}});
}

void Engine::Impl::on_shim_exit(const std::string& id) {
  auto l = lock_of(id);
  std::unique_lock g(*l);
  auto rec = store->get_container(id);
  if (!rec || (rec->state.status != "running" && rec->state.status != "paused")) return;
  record_exit(*rec);
  auto policy = restart_policy_from(rec->host_config);
  bool manual = rec->shim.value("manually_stopped", false);
  auto ran = std::chrono::milliseconds(static_cast<int64_t>(
      1000 * (unix_seconds(rec->state.finished_at) - unix_seconds(rec->state.started_at))));
  RestartDecision d;
  {
    std::lock_guard mg(mu);
    if (policy) d = decide_restart(*policy, trackers[id], rec->state.exit_code, manual, ran);
  }
  if (d.restart) {
    rec->state.status = "restarting";
    rec->state.restart_count++;
    (void)store->set_state(id, rec->state);
    monitor->schedule(id, d.delay);
    notify_exit(id);
    return;
  }
  notify_exit(id);
  bool auto_remove = json_flag(rec->host_config, "AutoRemove");
  if (auto_remove) {
    if (auto ok = remove_locked(*rec, true); !ok)
      spdlog::error("auto-remove {}: {}", id, ok.error().message);
  }
}

void Engine::Impl::on_restart_due(const std::string& id) {
  auto l = lock_of(id);
  std::unique_lock g(*l);
  auto rec = store->get_container(id);
  if (!rec || rec->state.status != "restarting") return;
  if (auto ok = start_locked(*rec); !ok) {
    spdlog::error("restart {}: {}", id, ok.error().message);
    rec->state.status = "exited";
    rec->state.error = ok.error().message;
    (void)store->set_state(id, rec->state);
    notify_exit(id);
  }
}

}  // namespace silo::engine
