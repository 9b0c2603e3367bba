// create: the parent side of setting up a container (see init.h for the child side).
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/id.h"
#include "common/sys.h"
#include "runtime/cgroup/cgroup.h"
#include "runtime/container.h"
#include "runtime/hooks.h"
#include "runtime/namespaces.h"
#include "runtime/plan.h"

namespace silo::runtime {

namespace {

// Undoes a half-made container unless dismissed: kills the init, removes the cgroup and
// the state directory, so a failed create leaves nothing behind.
class CreateRollback {
 public:
  CreateRollback(const StateDir& dir, std::string id) : dir_(dir), id_(std::move(id)) {}
  ~CreateRollback() {
    if (done_) return;
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      (void)sys::waitpid(pid_, 0);
    }
    if (cgroup_) (void)cgroup_->destroy();
    (void)dir_.remove(id_);
  }
  void set_pid(pid_t pid) { pid_ = pid; }
  // Takes the container's cgroup manager; the rollback destroys the cgroup on failure.
  cgroup::Manager& own_cgroup(std::unique_ptr<cgroup::Manager> m) {
    cgroup_ = std::move(m);
    return *cgroup_;
  }
  void dismiss() { done_ = true; }

 private:
  const StateDir& dir_;
  std::string id_;
  pid_t pid_ = -1;
  std::unique_ptr<cgroup::Manager> cgroup_;
  bool done_ = false;
};

Status write_id_maps(pid_t pid, const Spec& spec) {
  auto render = [](const std::vector<IdMapping>& maps) {
    std::string out;
    for (const auto& m : maps)
      out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
             std::to_string(m.size) + "\n";
    return out;
  };
  std::string base = "/proc/" + std::to_string(pid);
  SILO_TRY_CTX(sys::write_file(base + "/uid_map", render(spec.linux.uid_mappings)),
               "linux.uidMappings");
  SILO_TRY_CTX(sys::write_file(base + "/gid_map", render(spec.linux.gid_mappings)),
               "linux.gidMappings");
  return {};
}

Result<std::vector<std::pair<int, int>>> open_joins(const NamespaceJoins& joins,
                                                    std::vector<UniqueFd>& keep) {
  std::vector<std::pair<int, int>> out;
  for (const auto& [type, path] : joins) {
    auto fd = sys::open(path, O_RDONLY);
    if (!fd) return wrap(fd.error(), "linux.namespaces: join " + type + " namespace");
    out.emplace_back(fd->get(), namespace_kind(type)->clone_flag);
    keep.push_back(std::move(*fd));
  }
  return out;
}

// The caller's user name from /etc/passwd, else its uid. Read by hand rather than with
// getpwuid(): silo-runc is linked statically, where glibc's NSS is not available.
std::string owner_name() {
  std::string uid = std::to_string(::getuid());
  auto text = sys::read_file("/etc/passwd");
  if (!text) return uid;
  std::string_view rest = *text;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    size_t a = line.find(':'), b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    size_t c = line.find(':', b + 1);
    if (line.substr(b + 1, c - b - 1) == uid) return std::string(line.substr(0, a));
  }
  return uid;
}

// Runs the parent's half of the sync protocol until the child reports ready.
Status drive_init(int sync_fd, const Spec& spec, const std::string& hook_state) {
  SILO_TRY(sync_send(sync_fd, kSyncGo, 0, hook_state));
  for (;;) {
    auto msg = sync_recv(sync_fd);
    if (!msg) return std::unexpected(msg.error());
    switch (msg->type) {
      case kSyncHooks:
        SILO_TRY(run_hooks(spec.hooks.prestart, "prestart", hook_state));
        SILO_TRY(run_hooks(spec.hooks.create_runtime, "createRuntime", hook_state));
        SILO_TRY(sync_send(sync_fd, kSyncHooksDone, 0));
        break;
      case kSyncReady:
        return {};
      case kSyncError:
        if (msg->err) return fail_errno(msg->err, msg->payload);
        return fail(Code::Internal, msg->payload);
      default:
        return fail(Code::Internal, "unexpected message from the container init");
    }
  }
}

}  // namespace

Result<pid_t> create(const StateDir& dir, const CreateOptions& opts) {
  SILO_TRY(validate_id(opts.id));
  Json config;  // kept in the state, as runc keeps the config it ran
  auto spec = load_spec(opts.bundle, &config);
  if (!spec) return std::unexpected(spec.error());
  if (spec->process.terminal && opts.console_socket.empty())
    return fail(Code::Invalid,
                "process.terminal is true but no --console-socket was given; pass one or set "
                "terminal to false");
  SILO_TRY(dir.reserve(opts.id));
  CreateRollback rollback(dir, opts.id);

  Resources resources = spec->linux.resources.value_or(Resources{});
  if (!resources.devices.empty()) {
    for (auto& r : implied_device_rules(*spec)) resources.devices.push_back(r);
  }
  SILO_TRY(cgroup::validate(resources));
  auto cg = cgroup::open(spec->linux.cgroups_path, opts.id);
  if (!cg) return wrap(cg.error(), "cgroup");
  cgroup::Manager& cgm = rollback.own_cgroup(std::move(*cg));
  SILO_TRY_CTX(cgm.create(), "cgroup");
  SILO_TRY_CTX(cgm.apply(resources), "cgroup");

  NamespaceJoins joins;
  auto plan = plan_container(*spec, opts.bundle, cgm.paths(), &joins, dir.seccomp_cache());
  if (!plan) return std::unexpected(plan.error());
  std::vector<UniqueFd> join_fds;
  auto join_list = open_joins(joins, join_fds);
  if (!join_list) return std::unexpected(join_list.error());

  std::string fifo = dir.fifo(opts.id);
  mode_t old = ::umask(0);
  int mk = ::mkfifo(fifo.c_str(), 0622);
  ::umask(old);
  if (mk < 0) return fail_errno(errno, "mkfifo " + fifo);
  auto fifo_fd = sys::open(fifo, O_PATH);
  if (!fifo_fd) return std::unexpected(fifo_fd.error());
  UniqueFd console;
  if (plan->terminal) {
    auto c = sys::connect_unix(opts.console_socket, "console socket");
    if (!c) return std::unexpected(c.error());
    console = std::move(*c);
  }
  auto sync = sys::socketpair(AF_UNIX, SOCK_SEQPACKET);
  if (!sync) return std::unexpected(sync.error());

  plan->sync_fd = sync->second.get();
  plan->fifo_fd = fifo_fd->get();
  plan->console_fd = console.get();
  plan->preserve_fds = opts.preserve_fds;
  plan->finalize();
  auto pid = spawn_init(*plan, *join_list, sync->first.get());
  sync->second.reset();
  if (!pid) return std::unexpected(pid.error());
  rollback.set_pid(*pid);

  if (plan->new_user) SILO_TRY(write_id_maps(*pid, *spec));
  if (spec->process.oom_score_adj)
    SILO_TRY_CTX(sys::write_file("/proc/" + std::to_string(*pid) + "/oom_score_adj",
                                 std::to_string(*spec->process.oom_score_adj)),
                 "process.oomScoreAdj");
  SILO_TRY_CTX(cgm.add_process(*pid), "cgroup");

  ContainerState st;
  st.id = opts.id;
  st.bundle = opts.bundle;
  st.rootfs = spec->root.path;
  st.pid = *pid;
  st.pid_start = process_start_time(*pid);
  st.created = now_rfc3339();
  st.owner = owner_name();
  st.cgroups_path = spec->linux.cgroups_path;
  st.config = std::move(config);
  SILO_TRY(dir.save(st));

  std::string hook_state = state_json(st, ContainerStatus::Creating).dump();
  if (auto r = drive_init(sync->first.get(), *spec, hook_state); !r)
    return wrap(r.error(), "create container " + opts.id);
  if (!opts.pid_file.empty())
    SILO_TRY_CTX(sys::write_file_atomic(opts.pid_file, std::to_string(*pid), 0644), "pid file");
  rollback.dismiss();
  return *pid;
}

}  // namespace silo::runtime
