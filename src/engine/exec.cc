// The exec service: exec instances in memory, each started under a silo-shim in exec mode.
#include "engine/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/id.h"
#include "common/sys.h"

namespace silo::engine {

namespace {

// How long the exec shim waits for the route to connect before it runs the process anyway.
constexpr int kWaitClientMs = 10000;

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

std::string parent_dir(const std::string& p) {
  auto slash = p.find_last_of('/');
  return slash == std::string::npos || slash == 0 ? "/" : p.substr(0, slash);
}

long now_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// A launched shim: its launcher's pid and the read end of its stdout+stderr.
struct Launch {
  pid_t pid = -1;
  UniqueFd out;
};

Result<Launch> spawn(const std::vector<std::string>& args) {
  auto p = sys::pipe2(O_CLOEXEC);
  if (!p) return std::unexpected(p.error());
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // posix_spawn (vfork semantics), not fork: silod is multi-threaded and may be large.
  posix_spawn_file_actions_t fa;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&fa, p->second.get(), 1);
  ::posix_spawn_file_actions_adddup2(&fa, p->second.get(), 2);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return fail_errno(rc, "run " + args[0]);
  return Launch{pid, std::move(p->first)};
}

// The launcher's report: the exec'd process and its shim.
struct Launched {
  int pid = 0, shim_pid = 0;
};

// Waits for the launcher and returns its report, or its error.
Result<Launched> finish_launch(Launch& l) {
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(l.out.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) text.append(buf, static_cast<size_t>(n));
  auto st = sys::waitpid(l.pid, 0);
  // The report decides (the status too, unless someone else reaped the launcher).
  if (text.starts_with("{")) {
    auto doc = parse_json(text, "silo-shim report");
    if (doc && doc->contains("pid"))
      return Launched{doc->value("pid", 0), doc->value("shim_pid", 0)};
  }
  if (text.rfind("silo-shim: ", 0) == 0) text.erase(0, 11);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (text.empty())
    text = "silo-shim exited with status " + std::to_string(st ? *st : -1) + " without a report";
  return fail(Code::Internal, text);
}

// Connects to `path` once it exists, giving up when the launcher exited or after 10 s.
Result<UniqueFd> connect_when_ready(const std::string& path, Launch& l) {
  long deadline = now_ms() + 10000;
  while (now_ms() < deadline) {
    if (sys::path_exists(path)) {
      auto fd = sys::connect_unix(path, "exec attach socket");
      if (fd) return fd;
    }
    pollfd p{l.out.get(), POLLIN, 0};
    // Output from the launcher before the socket exists means it failed.
    if (::poll(&p, 1, 10) > 0) break;
  }
  return fail(Code::Internal, "the exec shim did not open its attach socket " + path);
}

}  // namespace

void ExecService::publish(const ExecInstance& x, const std::string& action, Json attrs) {
  if (!host_.events) return;
  attrs["execID"] = x.id;
  attrs["name"] = x.container_name;
  attrs["image"] = x.image;
  host_.events->container(action, x.container_id, std::move(attrs));
}

Result<std::string> ExecService::create(std::string_view ref, const Json& body) {
  auto c = host_.get(ref);
  if (!c) return std::unexpected(c.error());
  if (c->state.status == "paused")
    return fail(Code::Conflict,
                "Container " + c->id + " is paused, unpause the container before exec");
  if (c->state.status != "running")
    return fail(Code::Conflict, "Container " + c->id + " is not running");
  auto x = parse_exec_config(body);
  if (!x) return std::unexpected(x.error());
  x->id = new_id();
  x->container_id = c->id;
  x->container_name = c->name;
  x->image = c->image;
  x->dir = parent_dir(host_.runtime_root) + "/execs/" + x->id.substr(0, 12);
  std::string id = x->id;
  publish(*x, "exec_create: " + join(x->cmd), Json::object());
  std::lock_guard lock(mu_);
  execs_.emplace(id, std::move(*x));
  return id;
}

Result<ExecInstance*> ExecService::find(std::string_view id) {
  auto it = execs_.find(id);
  if (it == execs_.end()) {
    // dockerd also accepts a unique prefix of the id.
    ExecInstance* match = nullptr;
    for (auto& [k, v] : execs_)
      if (!id.empty() && k.starts_with(id)) match = match ? nullptr : &v;
    if (!match) return fail(Code::NotFound, "No such exec instance: " + std::string(id));
    return match;
  }
  refresh(it->second);
  return &it->second;
}

void ExecService::refresh(ExecInstance& x) {
  if (!x.started || !x.running) return;
  auto text = sys::read_file(x.dir + "/exit.json");
  if (!text) return;
  auto doc = parse_json(*text, "exec exit file");
  if (!doc) return;
  x.running = false;
  x.exit_code = doc->value("exit_code", 0);
  if (!x.died_reported) {
    x.died_reported = true;
    publish(x, "exec_die", Json{{"exitCode", std::to_string(*x.exit_code)}});
  }
}

Result<ExecStream> ExecService::start(std::string_view id, bool detach, std::optional<bool> tty,
                                      std::optional<std::pair<int, int>> console) {
  std::unique_lock lock(mu_);
  auto found = find(id);
  if (!found) return std::unexpected(found.error());
  ExecInstance& x = **found;
  if (x.running) return fail(Code::Conflict, "Error: Exec command " + x.id + " is already running");
  if (x.started) return fail(Code::Conflict, "Error: Exec command " + x.id + " has already run");
  auto c = host_.get(x.container_id);
  if (!c) return std::unexpected(c.error());
  if (c->state.status != "running")
    return fail(Code::Conflict, "Container " + c->id + " is not running");
  if (tty) x.tty = *tty;
  auto paths = host_.paths(c->id);
  auto spec_text = sys::read_file(paths.bundle + "/config.json");
  if (!spec_text) return wrap(spec_text.error(), "exec in container " + c->id);
  auto spec = parse_json(*spec_text, "config.json");
  if (!spec) return std::unexpected(spec.error());
  auto proc = exec_process_json(x, spec->value("process", Json::object()), paths.rootfs);
  if (!proc) return std::unexpected(proc.error());
  if (console && x.tty)
    (*proc)["consoleSize"] = {{"height", console->first}, {"width", console->second}};
  SILO_TRY(sys::mkdir_p(x.dir, 0700));
  const std::string sock = x.dir + "/attach.sock", exit_file = x.dir + "/exit.json";
  SILO_TRY(sys::write_file_atomic(x.dir + "/process.json", proc->dump(), 0600));
  ::unlink(exit_file.c_str());
  std::vector<std::string> args = {host_.shim_path,
                                   "--exec-id",
                                   x.id,
                                   "--id",
                                   c->id,
                                   "--process",
                                   x.dir + "/process.json",
                                   "--runtime-root",
                                   host_.runtime_root,
                                   "--exit-file",
                                   exit_file,
                                   "--attach-socket",
                                   sock};
  if (x.tty) args.push_back("--tty");
  if (x.attach_stdin && !detach) args.push_back("--stdin");
  if (!detach) args.insert(args.end(), {"--wait-client-ms", std::to_string(kWaitClientMs)});
  x.started = true;
  x.running = true;
  lock.unlock();
  auto launch = spawn(args);
  ExecStream out;
  out.tty = x.tty;
  Result<Launched> pid = launch ? Result<Launched>() : std::unexpected(launch.error());
  if (launch && !detach) {
    auto fd = connect_when_ready(sock, *launch);
    if (fd) out.attach = std::move(*fd);
  }
  if (launch) pid = finish_launch(*launch);
  lock.lock();
  if (!pid) {
    x.running = false;
    x.exit_code = 126;
    return wrap(pid.error(), "exec in container " + c->id);
  }
  x.pid = pid->pid;
  x.shim_pid = pid->shim_pid;
  publish(x, "exec_start: " + join(x.cmd), Json::object());
  watch_shim(x);
  if (!detach && !out.attach)
    return fail(Code::Internal, "exec " + x.id + ": could not connect to its attach socket");
  return out;
}

Result<Json> ExecService::inspect(std::string_view id) {
  std::lock_guard lock(mu_);
  auto x = find(id);
  if (!x) return std::unexpected(x.error());
  return exec_inspect_json(**x);
}

Result<std::string> ExecService::attach_socket(std::string_view id) {
  std::lock_guard lock(mu_);
  auto x = find(id);
  if (!x) return std::unexpected(x.error());
  if (!(*x)->running) return fail(Code::Conflict, "Exec " + (*x)->id + " is not running");
  return (*x)->dir + "/attach.sock";
}

void ExecService::forget_container(std::string_view container_id) {
  std::lock_guard lock(mu_);
  std::erase_if(execs_, [&](const auto& kv) { return kv.second.container_id == container_id; });
}

ExecService::~ExecService() {
  stop_ = true;
  if (wake_) (void)::eventfd_write(wake_.get(), 1);
  if (watcher_.joinable()) watcher_.join();
}

Status ExecService::watch() {
  if (!host_.events) return fail(Code::Internal, "exec watcher: no event bus");
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) return fail_errno(errno, "exec watcher: epoll_create1");
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_) return fail_errno(errno, "exec watcher: eventfd");
  epoll_event ev{.events = EPOLLIN, .data = {.fd = wake_.get()}};
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev) < 0)
    return fail_errno(errno, "exec watcher: epoll_ctl");
  destroyed_ = host_.events->subscribe();
  watcher_ = std::thread([this] { watch_loop(); });
  return {};
}

void ExecService::watch_shim(const ExecInstance& x) {
  if (!epoll_ || x.shim_pid <= 0) return;
  // A shim that is already gone cannot be opened: its exit file is there, refresh now.
  auto fd = sys::pidfd_open(x.shim_pid);
  if (!fd) {
    if (auto it = execs_.find(x.id); it != execs_.end()) refresh(it->second);
    return;
  }
  int raw = fd->get();
  epoll_event ev{.events = EPOLLIN, .data = {.fd = raw}};
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, raw, &ev) < 0) return;
  watched_[raw] = {x.id, std::move(*fd)};
}

// One thread: shim exits as they happen (epoll wakes at once); destroyed containers
// within the 200 ms tick, which is soon enough for forgetting.
void ExecService::watch_loop() {
  epoll_event evs[16];
  while (!stop_) {
    int n = ::epoll_wait(epoll_.get(), evs, 16, 200);
    std::lock_guard lock(mu_);
    for (int i = 0; i < n; ++i) {
      auto it = watched_.find(evs[i].data.fd);
      if (it == watched_.end()) continue;
      (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->first, nullptr);
      if (auto x = execs_.find(it->second.first); x != execs_.end()) refresh(x->second);
      watched_.erase(it);
    }
    while (auto ev = destroyed_->next(std::chrono::milliseconds(0))) {
      if (ev->type != "container" || ev->action != "destroy") continue;
      std::erase_if(execs_, [&](const auto& kv) { return kv.second.container_id == ev->actor_id; });
    }
  }
}

}  // namespace silo::engine
