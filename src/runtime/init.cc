// Child side of container creation and exec, and the clone that starts it. Runs
// between clone() and execve(): reads the plan, makes system calls, reports failures
// over the sync socket (see init.h).
#include "runtime/init.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "common/sys.h"
#include "runtime/init_internal.h"

namespace silo::runtime {

void InitPlan::finalize() {
  argv.clear();
  envp.clear();
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  for (auto* hooks : {&create_container_hooks, &start_container_hooks}) {
    for (auto& h : *hooks) {
      h.argv.clear();
      h.envp.clear();
      if (h.args.empty()) h.args.push_back(h.path);
      for (auto& a : h.args) h.argv.push_back(a.data());
      h.argv.push_back(nullptr);
      for (auto& e : h.env) h.envp.push_back(e.data());
      h.envp.push_back(nullptr);
    }
  }
}

namespace child {

namespace {
struct {
  int err;
  char what[2048];
} g_error;
// The state JSON for hooks, received with kSyncGo.
char g_state[kSyncMax];
size_t g_state_len = 0;
}  // namespace

bool fail(int err, const char* fmt, ...) noexcept {
  g_error.err = err;
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(g_error.what, sizeof g_error.what, fmt, ap);
  va_end(ap);
  return false;
}

bool run_child_hooks(const std::vector<ChildHook>& hooks, const char* kind, const char* state,
                     size_t len) noexcept {
  for (const auto& h : hooks) {
    int in[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return fail(errno, "hook %s: pipe", kind);
    pid_t pid = ::fork();
    if (pid < 0) return fail(errno, "hook %s %s: fork", kind, h.path.c_str());
    if (pid == 0) {
      ::dup2(in[0], 0);
      ::execve(h.path.c_str(), h.argv.data(), h.envp.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::signal(SIGPIPE, SIG_IGN);
    (void)!::write(in[1], state, len);
    ::close(in[1]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      return fail(0, "hook %s %s exited with status %d", kind, h.path.c_str(),
                  WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  return true;
}

namespace {

[[noreturn]] void die(const InitPlan& plan) noexcept {
  struct {
    SyncHeader h;
    char text[sizeof g_error.what];
  } msg;
  msg.h = {kSyncError, g_error.err};
  size_t n = std::strlen(g_error.what);
  std::memcpy(msg.text, g_error.what, n);
  (void)!::write(plan.sync_fd, &msg, sizeof msg.h + n);
  ::_exit(1);
}

bool send_header(const InitPlan& plan, SyncType type) noexcept {
  SyncHeader h{type, 0};
  return ::write(plan.sync_fd, &h, sizeof h) == sizeof h || fail(errno, "sync with the runtime");
}

bool wait_go(const InitPlan& plan) noexcept {
  struct {
    SyncHeader h;
    char payload[kSyncMax];
  } msg;
  ssize_t n = ::read(plan.sync_fd, &msg, sizeof msg);
  if (n < static_cast<ssize_t>(sizeof msg.h) || msg.h.type != kSyncGo)
    return fail(ECANCELED, "wait for the runtime");
  g_state_len = static_cast<size_t>(n) - sizeof msg.h;
  std::memcpy(g_state, msg.payload, g_state_len);
  return true;
}

// Opens a pty pair in the container's devpts, sends the master over the console socket
// and makes the slave our controlling terminal and stdio.
bool setup_console(const InitPlan& plan) noexcept {
  int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return fail(errno, "open /dev/ptmx");
  int unlock = 0, n = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) != 0 || ::ioctl(master, TIOCGPTN, &n) != 0)
    return fail(errno, "unlock pty");
  char name[64];
  std::snprintf(name, sizeof name, "/dev/pts/%d", n);
  int slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) return fail(errno, "open %s", name);
  if (plan.console_size) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(plan.console_size->height);
    ws.ws_col = static_cast<unsigned short>(plan.console_size->width);
    ::ioctl(slave, TIOCSWINSZ, &ws);
  }
  if (int r = sys::raw_send_fd(plan.console_fd, master); r < 0)
    return fail(-r, "send the pty over the console socket");
  ::close(master);
  if (::ioctl(slave, TIOCSCTTY, 0) != 0)
    return fail(errno, "make %s the controlling terminal", name);
  for (int fd = 0; fd < 3; ++fd)
    if (::dup2(slave, fd) < 0) return fail(errno, "dup2 %s", name);
  ::close(slave);
  return true;
}

// Finds args[0] on PATH the way execvp does, but with the container's PATH.
const char* find_program(const InitPlan& plan, char* buf, size_t size) noexcept {
  const char* prog = plan.args[0].c_str();
  if (std::strchr(prog, '/')) return prog;
  const char* path = plan.path_env.empty()
                         ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                         : plan.path_env.c_str();
  while (*path) {
    const char* end = std::strchr(path, ':');
    size_t len = end ? static_cast<size_t>(end - path) : std::strlen(path);
    if (len > 0 && std::snprintf(buf, size, "%.*s/%s", static_cast<int>(len), path, prog) <
                       static_cast<int>(size)) {
      struct stat st;
      if (::stat(buf, &st) == 0 && S_ISREG(st.st_mode) && ::access(buf, X_OK) == 0) return buf;
    }
    if (!end) break;
    path = end + 1;
  }
  return nullptr;
}

bool set_identity(const InitPlan& plan) noexcept {
  if (plan.caps) {
    int r = apply_bounding(*plan.caps, plan.last_cap);
    if (r != 0) return fail(-r, "drop capabilities from the bounding set");
  }
  if (plan.set_groups && ::setgroups(plan.groups.size(), plan.groups.data()) != 0 &&
      !(errno == EPERM && plan.groups.empty()))
    return fail(errno, "setgroups");
  if (::setresgid(plan.gid, plan.gid, plan.gid) != 0) return fail(errno, "setresgid %u", plan.gid);
  if (::setresuid(plan.uid, plan.uid, plan.uid) != 0) return fail(errno, "setresuid %u", plan.uid);
  if (plan.caps) {
    int r = apply_caps(*plan.caps, plan.last_cap);
    if (r != 0) return fail(-r, "set capabilities");
  }
  return true;
}

bool prepare_process(const InitPlan& plan) noexcept {
  size_t bad = 0;
  if (int r = apply_rlimits(plan.rlimits, &bad); r != 0)
    return fail(
        -r, "setrlimit %s to %llu:%llu (above what this host allows? lower it in process.rlimits)",
        plan.rlimits[bad].name, static_cast<unsigned long long>(plan.rlimits[bad].soft),
        static_cast<unsigned long long>(plan.rlimits[bad].hard));
  if (plan.umask) ::umask(*plan.umask);
  if (plan.terminal && !setup_console(plan)) return false;
  if (::chdir(plan.cwd.c_str()) != 0) return fail(errno, "chdir to cwd %s", plan.cwd.c_str());
  // Without no_new_privileges, loading a filter needs CAP_SYS_ADMIN: do it while we have it.
  if (!plan.no_new_privileges && !plan.seccomp.empty()) {
    if (int r = apply_seccomp(plan.seccomp); r != 0) return fail(-r, "load the seccomp filter");
  }
  if (!set_identity(plan)) return false;
  if (plan.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return fail(errno, "set no_new_privs");
  return true;
}

void reset_signals() noexcept {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s = 1; s < NSIG; ++s) ::signal(s, SIG_DFL);
}

}  // namespace
}  // namespace child

void run_init(const InitPlan& plan) noexcept {
  using namespace child;
  reset_signals();
  ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  if (!wait_go(plan)) die(plan);
  if (plan.new_user && (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0)) {
    fail(errno, "become root in the user namespace (are uid 0 and gid 0 mapped?)");
    die(plan);
  }
  if (plan.unshare_cgroup && ::unshare(CLONE_NEWCGROUP) != 0) {
    fail(errno, "create the cgroup namespace");
    die(plan);
  }
  // setsid: the container gets its own session, so terminal signals reach the runtime,
  // which forwards them, and never the container's process group directly.
  ::setsid();
  if (!plan.is_exec) {
    if (!setup_rootfs(plan, g_state, g_state_len)) die(plan);
    if (plan.hostname && ::sethostname(plan.hostname->data(), plan.hostname->size()) != 0) {
      fail(errno, "sethostname %s", plan.hostname->c_str());
      die(plan);
    }
    if (plan.domainname && ::setdomainname(plan.domainname->data(), plan.domainname->size()) != 0) {
      fail(errno, "setdomainname %s", plan.domainname->c_str());
      die(plan);
    }
    if (!finish_rootfs(plan)) die(plan);
  }
  if (!prepare_process(plan)) die(plan);
  char pathbuf[PATH_MAX];
  const char* prog = find_program(plan, pathbuf, sizeof pathbuf);
  if (!prog) {
    fail(ENOENT, "exec %s: executable file not found in $PATH", plan.args[0].c_str());
    die(plan);
  }
  if (!send_header(plan, kSyncReady)) die(plan);
  if (plan.fifo_fd >= 0) {
    // Block until `start` opens the fifo for reading; the fd is O_PATH so reopen it.
    char fifo[64];
    std::snprintf(fifo, sizeof fifo, "/proc/self/fd/%d", plan.fifo_fd);
    int w = ::open(fifo, O_WRONLY | O_CLOEXEC);
    if (w < 0 || ::write(w, "0", 1) != 1) ::_exit(255);
    ::close(w);
  }
  if (!run_child_hooks(plan.start_container_hooks, "startContainer", g_state, g_state_len)) {
    ::dprintf(2, "silo-runc: %s\n", g_error.what);
    ::_exit(255);
  }
  if (plan.no_new_privileges && !plan.seccomp.empty()) {
    if (int r = apply_seccomp(plan.seccomp); r != 0) {
      ::dprintf(2, "silo-runc: load the seccomp filter: %s\n", std::strerror(-r));
      ::_exit(255);
    }
  }
  sys::raw_close_range(3 + static_cast<unsigned>(plan.preserve_fds), ~0U, CLOSE_RANGE_CLOEXEC);
  ::execve(prog, plan.argv.data(), plan.envp.data());
  // Past kSyncReady the runtime is no longer listening: tell the container's stderr.
  ::dprintf(2, "silo-runc: exec %s: %s\n", prog, std::strerror(errno));
  ::_exit(errno == ENOENT ? 127 : 126);
}

Result<pid_t> spawn_init(const InitPlan& plan, const std::vector<std::pair<int, int>>& joins,
                         int parent_sync_fd) {
  if (joins.empty()) {
    pid_t pid = sys::raw_clone(plan.clone_flags);
    if (pid < 0) return fail_errno(-pid, "clone the container init");
    if (pid == 0) run_init(plan);
    return pid;
  }
  pid_t mid = sys::raw_clone(0);
  if (mid < 0) return fail_errno(-mid, "fork");
  if (mid == 0) {
    for (auto [fd, type] : joins) {
      if (::setns(fd, type) != 0) {
        child::fail(errno, "join namespace (setns type 0x%x)", type);
        child::die(plan);
      }
    }
    // CLONE_PARENT: the init becomes the runtime's child, so the runtime can wait for it.
    pid_t pid = sys::raw_clone(plan.clone_flags | CLONE_PARENT);
    if (pid < 0) {
      child::fail(-pid, "clone the container init");
      child::die(plan);
    }
    if (pid == 0) run_init(plan);
    SyncHeader h{kSyncPid, pid};
    (void)!::write(plan.sync_fd, &h, sizeof h);
    ::_exit(0);
  }
  // The intermediate writes its one message before it exits, so after the wait it is
  // queued or it never comes (the intermediate was killed): never block here.
  auto status = sys::waitpid(mid, 0);
  auto msg = sync_recv(parent_sync_fd, true);
  if (!msg) return wrap(msg.error(), "start the container init");
  if (msg->type == kSyncError) return fail_errno(msg->err, msg->payload);
  if (msg->type != kSyncPid)
    return fail(Code::Internal, "start the container init: unexpected message");
  (void)status;
  return static_cast<pid_t>(msg->err);
}

Status sync_send(int fd, SyncType type, int err, std::string_view payload) {
  if (payload.size() > kSyncMax) return fail(Code::Invalid, "sync message too large");
  std::string buf(sizeof(SyncHeader) + payload.size(), '\0');
  SyncHeader h{type, err};
  std::memcpy(buf.data(), &h, sizeof h);
  std::memcpy(buf.data() + sizeof h, payload.data(), payload.size());
  if (::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL) < 0)
    return fail_errno(errno, "sync with the container init");
  return {};
}

Result<SyncMessage> sync_recv(int fd, bool dont_wait) {
  std::string buf(sizeof(SyncHeader) + kSyncMax, '\0');
  ssize_t n;
  do {
    n = ::recv(fd, buf.data(), buf.size(), dont_wait ? MSG_DONTWAIT : 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN)
    return fail(Code::Unavailable, "the container init's parent exited without a word");
  if (n < 0) return fail_errno(errno, "read from the container init");
  if (n == 0) return fail(Code::Unavailable, "the container init exited during setup");
  if (static_cast<size_t>(n) < sizeof(SyncHeader))
    return fail(Code::Internal, "short message from the container init");
  SyncHeader h;
  std::memcpy(&h, buf.data(), sizeof h);
  return SyncMessage{static_cast<SyncType>(h.type), h.err,
                     buf.substr(sizeof h, static_cast<size_t>(n) - sizeof h)};
}

}  // namespace silo::runtime
