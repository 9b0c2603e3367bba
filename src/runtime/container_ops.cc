// start, kill, remove, pause, resume, inspect: operations on an existing container.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include <chrono>
#include <cstring>
#include <thread>

#include "common/id.h"
#include "common/log.h"
#include "common/sys.h"
#include "runtime/cgroup/cgroup.h"
#include "runtime/container.h"
#include "runtime/hooks.h"

namespace silo::runtime {

namespace {

Result<std::unique_ptr<cgroup::Manager>> open_cgroup(const ContainerState& st) {
  return cgroup::open(st.cgroups_path, st.id);
}

// Polls until the container's init is gone, up to `timeout`.
bool wait_gone(const ContainerState& st, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (process_alive(st.pid, st.pid_start)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    // Reap it when it is our child (run, tests); harmless otherwise.
    ::waitpid(st.pid, nullptr, WNOHANG);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace

Result<ContainerInfo> inspect(const StateDir& dir, const std::string& id) {
  SILO_TRY(validate_id(id));
  auto st = dir.load(id);
  if (!st) return std::unexpected(st.error());
  ContainerInfo info{*st, ContainerStatus::Stopped, false};
  auto cg = open_cgroup(*st);
  bool frozen = false;
  if (cg) {
    auto f = (*cg)->frozen();
    frozen = f && *f;
  }
  info.status = live_status(dir, *st, frozen);
  // A process of a running container may have been OOM-killed too (not its init).
  if (cg) {
    auto kills = (*cg)->oom_kills();
    info.oom_killed = kills && *kills > 0;
  }
  return info;
}

Json state_document(const ContainerInfo& info) {
  Json j = state_json(info.state, info.status);
  j["oomKilled"] = info.oom_killed;  // Silo's addition to runc's state: the kernel's OOM kills
  return j;
}

Status start(const StateDir& dir, const std::string& id) {
  auto info = inspect(dir, id);
  if (!info) return std::unexpected(info.error());
  if (info->status != ContainerStatus::Created)
    return fail(Code::Conflict, "cannot start container " + id + ": it is " +
                                    status_name(info->status) + ", not created; create a new one");
  auto fd = sys::open(dir.fifo(id), O_RDONLY | O_NONBLOCK);
  if (!fd) return wrap(fd.error(), "start container " + id);
  // The init blocks opening the fifo for writing until a reader exists; then writes one byte.
  for (;;) {
    pollfd p{fd->get(), POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r < 0 && errno != EINTR) return fail_errno(errno, "start container " + id + ": poll");
    if (r > 0) {
      char b;
      ssize_t n = ::read(fd->get(), &b, 1);
      if (n == 1) break;
    }
    if (!process_alive(info->state.pid, info->state.pid_start))
      return fail(Code::Conflict,
                  "cannot start container " + id + ": its init exited before start");
  }
  ::unlink(dir.fifo(id).c_str());
  std::string hook_state = state_json(info->state, ContainerStatus::Running).dump();
  // Poststart failures are warnings, not errors (runtime spec, "poststart").
  if (auto r =
          run_hooks(hooks_from_config(info->state.config, "poststart"), "poststart", hook_state);
      !r)
    spdlog::warn("container {}: {}", id, r.error().message);
  return {};
}

Status kill(const StateDir& dir, const std::string& id, int sig, bool all) {
  auto info = inspect(dir, id);
  if (!info) return std::unexpected(info.error());
  if (info->status == ContainerStatus::Stopped)
    return fail(Code::Conflict, "container " + id + " is not running");
  if (!all) return sys::kill(info->state.pid, sig);
  auto cg = open_cgroup(info->state);
  if (!cg) return std::unexpected(cg.error());
  auto pids = (*cg)->pids();
  if (!pids) return std::unexpected(pids.error());
  for (pid_t p : *pids) ::kill(p, sig);
  return {};
}

Status remove(const StateDir& dir, const std::string& id, bool force) {
  auto info = inspect(dir, id);
  if (!info) return std::unexpected(info.error());
  const ContainerState& st = info->state;
  auto cg = open_cgroup(st);
  if (info->status == ContainerStatus::Running || info->status == ContainerStatus::Paused) {
    if (!force)
      return fail(Code::Conflict, "cannot delete container " + id + ": it is " +
                                      status_name(info->status) + "; stop it first or use --force");
  }
  if (info->status != ContainerStatus::Stopped) {
    ::kill(st.pid, SIGKILL);
    if (cg) {
      if (auto pids = (*cg)->pids()) {
        for (pid_t p : *pids) ::kill(p, SIGKILL);
      }
      (void)(*cg)->thaw();
    }
    if (!wait_gone(st, std::chrono::seconds(10)))
      return fail(Code::Unavailable, "container " + id + ": init " + std::to_string(st.pid) +
                                         " did not exit after SIGKILL");
  }
  if (cg) {
    // Processes the init left behind (it was pid 1 of its namespace, so normally none).
    if (auto pids = (*cg)->pids()) {
      for (pid_t p : *pids) ::kill(p, SIGKILL);
    }
    SILO_TRY_CTX((*cg)->destroy(), "delete container " + id);
  }
  std::string hook_state = state_json(st, ContainerStatus::Stopped).dump();
  if (auto r = run_hooks(hooks_from_config(st.config, "poststop"), "poststop", hook_state); !r)
    spdlog::warn("container {}: {}", id, r.error().message);
  return dir.remove(id);
}

Status pause(const StateDir& dir, const std::string& id) {
  auto info = inspect(dir, id);
  if (!info) return std::unexpected(info.error());
  if (info->status != ContainerStatus::Running)
    return fail(Code::Conflict, "container " + id + " is not running");
  auto cg = open_cgroup(info->state);
  if (!cg) return std::unexpected(cg.error());
  return (*cg)->freeze();
}

Status resume(const StateDir& dir, const std::string& id) {
  auto info = inspect(dir, id);
  if (!info) return std::unexpected(info.error());
  if (info->status != ContainerStatus::Paused)
    return fail(Code::Conflict, "container " + id + " is not paused");
  auto cg = open_cgroup(info->state);
  if (!cg) return std::unexpected(cg.error());
  return (*cg)->thaw();
}

Result<std::vector<pid_t>> processes(const StateDir& dir, const std::string& id) {
  auto info = inspect(dir, id);
  if (!info) return std::unexpected(info.error());
  auto cg = open_cgroup(info->state);
  if (!cg) return std::unexpected(cg.error());
  return (*cg)->pids();
}

Result<int> parse_signal(const std::string& s) {
  if (s.empty()) return fail(Code::Invalid, "empty signal");
  if (std::isdigit(static_cast<unsigned char>(s[0]))) {
    int n = std::atoi(s.c_str());
    if (n <= 0 || n >= NSIG) return fail(Code::Invalid, "invalid signal " + s);
    return n;
  }
  std::string name = s;
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  for (int n = 1; n < NSIG; ++n) {
    const char* abbrev = sigabbrev_np(n);
    if (abbrev && name == abbrev) return n;
  }
  if (name.rfind("RTMIN+", 0) == 0) return SIGRTMIN + std::atoi(name.c_str() + 6);
  return fail(Code::Invalid,
              "unknown signal \"" + s + "\" (use a name like TERM or KILL, or a number)");
}

}  // namespace silo::runtime
