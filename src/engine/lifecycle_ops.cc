// stop, restart, kill, pause, unpause, rename, wait.

#include <signal.h>

#include "common/log.h"
#include "engine/engine_impl.h"
#include "runtime/container.h"

namespace silo::engine {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Error not_running(const std::string& id) {
  return Error{.code = Code::Conflict, .message = "Container " + id + " is not running"};
}

// The stop signal: the request's, else Config.StopSignal, else SIGTERM.
Result<int> stop_signal(const ContainerRecord& rec, std::string_view given) {
  std::string s(given);
  if (s.empty()) s = json_str(rec.config, "StopSignal");
  if (s.empty()) return SIGTERM;
  return runtime::parse_signal(s);
}

}  // namespace

Status Engine::stop(std::string_view ref, std::optional<int> timeout_s, std::string_view signal) {
  auto found = get(ref);
  if (!found) return std::unexpected(found.error());
  const std::string id = found->id;
  Impl& im = *impl_;
  uint64_t seen = 0;
  int wait_s = 10;
  {
    auto lock = im.lock_of(id);
    std::lock_guard g(*lock);
    auto rec = get(id);
    if (!rec) return std::unexpected(rec.error());
    auto sig = stop_signal(*rec, signal);
    if (!sig) return std::unexpected(sig.error());
    rec->shim["manually_stopped"] = true;
    if (rec->state.status == "restarting") {
      im.monitor->cancel(id);
      rec->state.status = "exited";
      SILO_TRY(im.store->update_container(*rec));
      im.notify_exit(id);
      return {};
    }
    if (rec->state.status != "running" && rec->state.status != "paused") return {};
    SILO_TRY(im.store->update_container(*rec));
    seen = im.exit_count(id);
    if (timeout_s)
      wait_s = *timeout_s;
    else if (auto t = rec->config.find("StopTimeout"); t != rec->config.end() && t->is_number())
      wait_s = t->get<int>();
    if (auto ok = runtime::kill(im.state_dir, id, *sig, false); !ok)
      spdlog::debug("stop {}: {}", id, ok.error().message);
    // As dockerd: a paused container gets the stop signal and is then thawed, so its
    // process handles the signal within the timeout like a running one.
    if (rec->state.status == "paused") {
      if (auto ok = runtime::resume(im.state_dir, id); !ok) {
        spdlog::warn("stop {}: unpause: {}", id, ok.error().message);
        wait_s = 0;  // still frozen: it cannot handle the signal, kill it
      } else {
        rec->state.status = "running";
        SILO_TRY(im.store->set_state(id, rec->state));
      }
    }
  }
  milliseconds grace = wait_s < 0 ? milliseconds(INT32_MAX) : milliseconds(seconds(wait_s));
  if (wait_s != 0 && im.wait_exit(id, seen, grace)) return {};
  return im.kill_and_wait(id, milliseconds(30000));
}

Status Engine::Impl::kill_and_wait(const std::string& id, std::chrono::milliseconds timeout) {
  uint64_t seen = exit_count(id);
  {
    auto lock = lock_of(id);
    std::lock_guard g(*lock);
    auto rec = store->get_container(id);
    if (!rec || (rec->state.status != "running" && rec->state.status != "paused")) return {};
    (void)runtime::kill(state_dir, id, SIGKILL, true);
    if (rec->state.status == "paused") (void)runtime::resume(state_dir, id);
  }
  if (wait_exit(id, seen, timeout)) return {};
  return fail(Code::Internal, "container " + id + " did not exit " +
                                  std::to_string(timeout.count() / 1000) +
                                  " s after SIGKILL; its shim may be stuck");
}

Status Engine::restart(std::string_view ref, std::optional<int> timeout_s,
                       std::string_view signal) {
  auto rec = get(ref);
  if (!rec) return std::unexpected(rec.error());
  SILO_TRY(stop(rec->id, timeout_s, signal));
  SILO_TRY(start(rec->id));
  if (auto now = get(rec->id)) impl_->event("restart", *now);
  return {};
}

Status Engine::kill(std::string_view ref, std::string_view signal) {
  auto found = get(ref);
  if (!found) return std::unexpected(found.error());
  const std::string id = found->id;
  Impl& im = *impl_;
  int sig = SIGKILL;
  uint64_t seen = 0;
  {
    auto lock = im.lock_of(id);
    std::lock_guard g(*lock);
    auto rec = get(id);
    if (!rec) return std::unexpected(rec.error());
    if (!signal.empty()) {
      auto s = runtime::parse_signal(std::string(signal));
      if (!s) return std::unexpected(s.error());
      sig = *s;
    }
    if (!is_running_status(rec->state.status)) return std::unexpected(not_running(id));
    auto stop_sig = stop_signal(*rec, "");
    // As dockerd: killing with SIGKILL or the stop signal is a stop by the user.
    if (sig == SIGKILL || (stop_sig && sig == *stop_sig)) {
      rec->shim["manually_stopped"] = true;
      SILO_TRY(im.store->update_container(*rec));
    }
    if (rec->state.status == "restarting") {
      if (sig == SIGKILL || (stop_sig && sig == *stop_sig)) {
        im.monitor->cancel(id);
        rec->state.status = "exited";
        SILO_TRY(im.store->set_state(id, rec->state));
        im.notify_exit(id);
      }
      return {};
    }
    seen = im.exit_count(id);
    SILO_TRY_CTX(runtime::kill(im.state_dir, id, sig, false), "Cannot kill container: " + id);
    // As dockerd: the stop signal or SIGKILL thaws a paused container so it is delivered.
    if (rec->state.status == "paused" && (sig == SIGKILL || (stop_sig && sig == *stop_sig))) {
      SILO_TRY_CTX(runtime::resume(im.state_dir, id), "Cannot unpause container " + id);
      rec->state.status = "running";
      SILO_TRY(im.store->set_state(id, rec->state));
    }
  }
  // dockerd's kill returns once a SIGKILLed container is gone, so `docker ps` agrees.
  if (sig == SIGKILL) (void)im.wait_exit(id, seen, milliseconds(10000));
  return {};
}

Status Engine::pause(std::string_view ref) {
  auto locked = impl_->lock_container(ref);
  if (!locked) return std::unexpected(locked.error());
  ContainerRecord& rec = locked->rec;
  if (rec.state.status == "paused")
    return fail(Code::Conflict, "Container " + rec.id + " is already paused");
  if (rec.state.status != "running") return std::unexpected(not_running(rec.id));
  SILO_TRY_CTX(runtime::pause(impl_->state_dir, rec.id), "Cannot pause container " + rec.id);
  rec.state.status = "paused";
  SILO_TRY(impl_->store->set_state(rec.id, rec.state));
  impl_->event("pause", rec);
  return {};
}

Status Engine::unpause(std::string_view ref) {
  auto locked = impl_->lock_container(ref);
  if (!locked) return std::unexpected(locked.error());
  ContainerRecord& rec = locked->rec;
  if (rec.state.status != "paused")
    return fail(Code::Conflict, "Container " + rec.id + " is not paused");
  SILO_TRY_CTX(runtime::resume(impl_->state_dir, rec.id), "Cannot unpause container " + rec.id);
  rec.state.status = "running";
  SILO_TRY(impl_->store->set_state(rec.id, rec.state));
  impl_->event("unpause", rec);
  return {};
}

Status Engine::rename(std::string_view ref, std::string_view new_name) {
  auto rec = get(ref);
  if (!rec) return std::unexpected(rec.error());
  SILO_TRY(impl_->store->rename_container(rec->id, new_name));
  auto now = get(rec->id);
  if (now) impl_->net->renamed(rec->id, now->name);
  if (now) impl_->event("rename", *now, {{"oldName", "/" + rec->name}});
  return {};
}

Result<WaitResult> Engine::wait(std::string_view ref, std::string_view condition,
                                const std::function<bool()>& cancelled,
                                const std::function<void()>& armed) {
  if (!condition.empty() && condition != "not-running" && condition != "next-exit" &&
      condition != "removed")
    return fail(Code::Invalid, "invalid condition: \"" + std::string(condition) + "\"");
  auto found = get(ref);
  if (!found) return std::unexpected(found.error());
  const std::string id = found->id;
  Impl& im = *impl_;
  std::unique_lock g(im.mu);
  uint64_t seen = im.exits[id];
  // The state is read after `seen`: an exit recorded in between shows in the state (the
  // store is written before the count goes up), so it is neither missed nor awaited twice.
  g.unlock();
  auto rec = get(id);
  if (!rec) return std::unexpected(rec.error());
  if (armed) armed();
  g.lock();
  bool removed = condition == "removed";
  if ((condition.empty() || condition == "not-running") && !is_running_status(rec->state.status))
    return WaitResult{.status_code = rec->state.exit_code, .error = rec->state.error};
  for (;;) {
    bool done = removed ? im.removed_codes.contains(id)
                        : im.exits[id] > seen || im.removed_codes.contains(id);
    if (done) break;
    if (cancelled && cancelled()) return fail(Code::Unavailable, "wait for " + id + " cancelled");
    im.cv.wait_for(g, milliseconds(200));
  }
  if (auto it = im.removed_codes.find(id); it != im.removed_codes.end())
    return WaitResult{.status_code = it->second};
  g.unlock();
  auto now = get(id);
  if (!now) return std::unexpected(now.error());
  return WaitResult{.status_code = now->state.exit_code, .error = now->state.error};
}

}  // namespace silo::engine
