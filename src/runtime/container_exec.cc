// exec: a new process inside a running container; and waiting with signal forwarding.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/sys.h"
#include "runtime/cgroup/cgroup.h"
#include "runtime/container.h"
#include "runtime/namespaces.h"
#include "runtime/plan.h"

namespace silo::runtime {

namespace {

// The namespaces of `pid` that differ from ours, opened, in join order.
Result<std::vector<std::pair<int, int>>> target_namespaces(pid_t pid, std::vector<UniqueFd>& keep) {
  std::vector<std::pair<int, int>> out;
  size_t n;
  const NamespaceKind* kinds = namespace_kinds(&n);
  for (size_t i = 0; i < n; ++i) {
    std::string theirs = "/proc/" + std::to_string(pid) + "/ns/" + kinds[i].proc;
    std::string ours = std::string("/proc/self/ns/") + kinds[i].proc;
    struct stat a, b;
    if (::stat(theirs.c_str(), &a) != 0) continue;  // kind not supported by this kernel
    if (::stat(ours.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue;
    auto fd = sys::open(theirs, O_RDONLY);
    if (!fd) return std::unexpected(fd.error());
    out.emplace_back(fd->get(), kinds[i].clone_flag);
    keep.push_back(std::move(*fd));
  }
  return out;
}

}  // namespace

Result<Process> container_process(const StateDir& dir, const std::string& id) {
  auto st = dir.load(id);
  if (!st) return std::unexpected(st.error());
  auto spec = parse_spec(st->config);
  if (!spec) return wrap(spec.error(), "container " + id + " config");
  return spec->process;
}

Result<int> exec(const StateDir& dir, const ExecOptions& opts) {
  auto info = inspect(dir, opts.id);
  if (!info) return std::unexpected(info.error());
  if (info->status != ContainerStatus::Running)
    return fail(Code::Conflict, "cannot exec in container " + opts.id + ": it is " +
                                    status_name(info->status) + ", not running");
  auto spec = parse_spec(info->state.config);
  if (!spec) return wrap(spec.error(), "container " + opts.id + " config");
  if (opts.process.terminal && opts.console_socket.empty())
    return fail(Code::Invalid, "exec with a terminal needs --console-socket");

  InitPlan plan;
  plan.is_exec = true;
  SILO_TRY(plan_process(opts.process, *spec, plan, dir.seccomp_cache()));
  std::vector<UniqueFd> keep;
  auto joins = target_namespaces(info->state.pid, keep);
  if (!joins) return std::unexpected(joins.error());
  UniqueFd console;
  if (plan.terminal) {
    auto c = sys::connect_unix(opts.console_socket, "console socket");
    if (!c) return std::unexpected(c.error());
    console = std::move(*c);
  }
  auto sync = sys::socketpair(AF_UNIX, SOCK_SEQPACKET);
  if (!sync) return std::unexpected(sync.error());
  plan.sync_fd = sync->second.get();
  plan.console_fd = console.get();
  plan.preserve_fds = opts.preserve_fds;
  plan.finalize();
  // The exec'd process is a grandchild (an intermediate joins the pid namespace): become
  // its reaper so we can wait for it.
  if (!opts.detach) ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  auto pid = spawn_init(plan, *joins, sync->first.get());
  sync->second.reset();
  if (!pid) return wrap(pid.error(), "exec in container " + opts.id);
  auto cg = cgroup::open(info->state.cgroups_path, opts.id);
  if (cg) (void)(*cg)->add_process(*pid);
  if (auto r = sync_send(sync->first.get(), kSyncGo, 0); !r) return std::unexpected(r.error());
  auto msg = sync_recv(sync->first.get());
  if (!msg) return wrap(msg.error(), "exec in container " + opts.id);
  if (msg->type == kSyncError) {
    (void)sys::waitpid(*pid, 0);
    if (msg->err) return fail_errno(msg->err, "exec in container " + opts.id + ": " + msg->payload);
    return fail(Code::Internal, "exec in container " + opts.id + ": " + msg->payload);
  }
  if (!opts.pid_file.empty())
    SILO_TRY_CTX(sys::write_file_atomic(opts.pid_file, std::to_string(*pid), 0644), "pid file");
  if (opts.detach) return 0;
  return wait_forwarding(*pid);
}

namespace {
volatile sig_atomic_t g_forward_to = 0;
void forward(int sig) {
  if (g_forward_to > 0) ::kill(g_forward_to, sig);
}
}  // namespace

int wait_forwarding(pid_t pid) {
  g_forward_to = pid;
  struct sigaction sa {};
  sa.sa_handler = forward;
  sa.sa_flags = SA_RESTART;
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH})
    ::sigaction(s, &sa, nullptr);
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(-1, &status, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return 255;  // no children left: the pid was not ours
    if (r == pid) break;    // others are reparented grandchildren we reap along the way
  }
  g_forward_to = 0;
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

}  // namespace silo::runtime
