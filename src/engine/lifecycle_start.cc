// start: spawn silo-shim for the container (journaled first), read its start-up report,
// record running, watch the shim.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sys.h"
#include "engine/engine_impl.h"
#include "engine/units.h"

extern char** environ;

namespace silo::engine {
namespace {

// json-file max-size / max-file: HostConfig.LogConfig.Config first, then daemon.json.
std::pair<int64_t, int64_t> log_limits(const Json& host_config, const DaemonConfig& cfg) {
  int64_t size = cfg.log_max_size(), files = cfg.log_max_file();
  auto lc = host_config.find("LogConfig");
  if (lc != host_config.end() && lc->is_object()) {
    auto c = lc->find("Config");
    if (c != lc->end() && c->is_object()) {
      if (auto s = c->find("max-size"); s != c->end() && s->is_string())
        if (auto v = from_human_size(s->get<std::string>())) size = *v;
      if (auto f = c->find("max-file"); f != c->end() && f->is_string())
        files = std::atoll(f->get<std::string>().c_str());
    }
  }
  return {size < 0 ? 0 : size, files < 1 ? 1 : files};
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

struct ShimStarted {
  pid_t pid = 0;
  pid_t shim_pid = 0;
};

// Runs the shim's launcher and returns its report. posix_spawn, not fork, because silod
// is multi-threaded; the signal mask and dispositions are reset because silod blocks
// SIGTERM/SIGINT (for sigwait) and ignores SIGPIPE, and the container must not inherit that.
Result<ShimStarted> spawn_shim(const std::string& shim, const std::vector<std::string>& args) {
  auto ready = sys::pipe2(O_CLOEXEC);
  if (!ready) return std::unexpected(ready.error());
  auto err = sys::pipe2(O_CLOEXEC);
  if (!err) return std::unexpected(err.error());
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, err->second.get(), 2);
  posix_spawn_file_actions_adddup2(&fa, ready->second.get(), 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigemptyset(&all);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2})
    sigaddset(&all, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(shim.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, shim.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ready->second.reset();
  err->second.reset();
  if (rc != 0) return fail_errno(rc, "run " + shim);
  std::string report = read_all(ready->first.get());
  (void)sys::waitpid(pid, 0);
  std::string stderr_text = read_all(err->first.get());
  auto j = parse_json(report, "shim report");
  if (!j || !j->is_object()) {
    while (!stderr_text.empty() && stderr_text.back() == '\n') stderr_text.pop_back();
    return fail(Code::Internal,
                stderr_text.empty() ? "silo-shim exited without a report" : stderr_text);
  }
  if (j->contains("error")) return fail(Code::Internal, j->value("error", "unknown error"));
  return ShimStarted{.pid = j->value("pid", 0), .shim_pid = j->value("shim_pid", 0)};
}

// A start failure as dockerd words it; a missing executable is the user's (400).
Error start_error(const Error& e) {
  Code c = e.message.find("no such file") != std::string::npos ||
                   e.message.find("not found") != std::string::npos ||
                   e.message.find("ENOENT") != std::string::npos
               ? Code::Invalid
               : Code::Internal;
  return Error{.code = c, .message = "OCI runtime create failed: " + e.message};
}

}  // namespace

Status Engine::Impl::start_locked(ContainerRecord& rec) {
  const std::string& id = rec.id;
  auto p = self->paths(id);
  SILO_TRY(ensure_rootfs(rec));
  (void)::unlink(p.exit_file.c_str());
  SILO_TRY(sys::mkdir_p(p.shim_dir, 0700));
  SILO_TRY(setup_network(rec));
  auto undo_network = [&] {
    net->detach(rec);
    (void)store->update_container(rec);
  };
  if (auto ok = store->record_kernel_object({.kind = "cgroup", .key = cgroups_path(id), .owner = id});
      !ok) {
    undo_network();
    return std::unexpected(ok.error());
  }
  SILO_TRY(store->record_kernel_object({.kind = "shim", .key = id, .owner = id}));
  auto [size, files] = log_limits(rec.host_config, opts.config);
  std::vector<std::string> args = {"--id",
                                   id,
                                   "--bundle",
                                   p.bundle,
                                   "--runtime-root",
                                   self->runtime_root(),
                                   "--log-path",
                                   p.log_path,
                                   "--log-max-size",
                                   std::to_string(size),
                                   "--log-max-file",
                                   std::to_string(files),
                                   "--exit-file",
                                   p.exit_file,
                                   "--attach-socket",
                                   p.attach_socket,
                                   "--ready-fd",
                                   "3"};
  if (json_flag(rec.config, "Tty")) args.push_back("--tty");
  if (json_flag(rec.config, "OpenStdin")) args.push_back("--stdin");
  if (attach_held(id)) args.insert(args.end(), {"--wait-client-ms", "3000"});
  auto started = spawn_shim(opts.shim_path, args);
  if (!started) {
    undo_network();
    (void)store->forget_kernel_object("shim", id);
    (void)store->forget_kernel_object("cgroup", cgroups_path(id));
    Error e = start_error(started.error());
    rec.state.error = e.message;
    rec.state.exit_code = e.code == Code::Invalid ? 127 : 128;
    if (rec.state.status == "restarting") rec.state.status = "exited";
    (void)store->set_state(id, rec.state);
    return std::unexpected(e);
  }
  // The container's processes hold its namespace now; the kernel frees it (and its
  // veths) when the last one exits.
  net->release_netns(id);
  rec.state.status = "running";
  rec.state.pid = started->pid;
  rec.state.exit_code = 0;
  rec.state.oom_killed = false;
  rec.state.error = "";
  rec.state.started_at = now_rfc3339();
  rec.shim["pid"] = started->shim_pid;
  rec.shim["init_pid"] = started->pid;
  SILO_TRY(store->update_container(rec));
  (void)store->record_kernel_object(
      {.kind = "shim", .key = id, .owner = id, .data = {{"pid", started->shim_pid}}});
  monitor->watch(id, started->shim_pid);
  event("start", rec);
  return {};
}

Status Engine::Impl::setup_network(ContainerRecord& rec) {
  auto p = self->paths(rec.id);
  std::string mode = json_str(rec.host_config, "NetworkMode");
  std::string netns;
  if (mode.starts_with("container:")) {
    auto other = store->get_container(mode.substr(10));
    if (!other) return wrap(other.error(), "network mode " + mode);
    if (other->state.status != "running" || other->state.pid <= 0)
      return fail(Code::Conflict, "cannot join network of a non running container: " +
                                      other->name + "; start it first");
    netns = "/proc/" + std::to_string(other->state.pid) + "/ns/net";
  } else if (net->needs_netns(rec.host_config)) {
    netns = net->netns_path(rec.id);
    SILO_TRY_CTX(net->attach(rec, netns), "start " + rec.name);
  }
  auto undo = [&](const Error& e) -> Status {
    if (!mode.starts_with("container:")) net->detach(rec);
    return std::unexpected(e);
  };
  if (mode != "host") {
    if (auto ok = sys::write_file_atomic(p.dir + "/hosts", net->hosts_file(rec)); !ok)
      return undo(ok.error());
    if (auto ok = sys::write_file_atomic(p.dir + "/resolv.conf", net->resolv_conf(rec)); !ok)
      return undo(ok.error());
  }
  // The spec names the namespace to join (written at create without it: the path is only
  // known now for container:<x>, and a container made without a network has none).
  auto text = sys::read_file(p.bundle + "/config.json");
  if (!text) return undo(text.error());
  auto spec = parse_json(*text, "config.json");
  if (!spec) return undo(spec.error());
  bool changed = false;
  auto& nss = (*spec)["linux"]["namespaces"];
  if (nss.is_array())
    for (auto& n : nss)
      if (n.value("type", "") == "network") {
        std::string old = n.value("path", "");
        if (old != netns) {
          if (netns.empty())
            n.erase("path");
          else
            n["path"] = netns;
          changed = true;
        }
      }
  if (changed)
    if (auto ok = sys::write_file_atomic(p.bundle + "/config.json", spec->dump(2), 0600); !ok)
      return undo(ok.error());
  return store->update_container(rec);
}

Status Engine::start(std::string_view ref) {
  auto locked = impl_->lock_container(ref);
  if (!locked) return std::unexpected(locked.error());
  ContainerRecord& rec = locked->rec;
  const std::string& s = rec.state.status;
  if (s == "running" || s == "paused") return {};
  if (s == "removing" || s == "dead")
    return fail(Code::Conflict,
                "container " + rec.id + " is marked for removal and cannot be started");
  if (s == "restarting") impl_->monitor->cancel(rec.id);
  // A start by the user resets the restart manager and the manual-stop mark.
  rec.shim["manually_stopped"] = false;
  rec.state.restart_count = 0;
  {
    std::lock_guard mg(impl_->mu);
    impl_->trackers[rec.id] = {};
  }
  return impl_->start_locked(rec);
}

}  // namespace silo::engine
