// create, start, run, kill, delete, pause, resume.
#include <sys/prctl.h>

#include "ocirt/commands.h"
#include "runtime/container.h"

namespace silo::ocirt {

namespace {

struct CreateFlags {
  std::string bundle, pid_file, console_socket, id;
  int preserve_fds = 0;
  bool no_pivot = false, no_new_keyring = false, detach = false, no_subreaper = false, keep = false;
};

void add_create_flags(CLI::App* c, CreateFlags& f) {
  c->add_option("-b,--bundle", f.bundle, "path to the bundle (default: current directory)");
  c->add_option("--pid-file", f.pid_file, "write the container init's pid here");
  c->add_option("--console-socket", f.console_socket, "unix socket that receives the pty master");
  c->add_option("--preserve-fds", f.preserve_fds,
                "pass this many extra fds (from 3) to the container");
  c->add_flag("--no-pivot", f.no_pivot, "accepted for compatibility");
  c->add_flag("--no-new-keyring", f.no_new_keyring, "accepted for compatibility");
  c->add_option("id", f.id, "container id")->required();
}

runtime::CreateOptions create_options(const CreateFlags& f) {
  runtime::CreateOptions o;
  o.id = f.id;
  o.bundle = absolute_bundle(f.bundle);
  o.pid_file = f.pid_file.empty() ? "" : absolute_bundle(f.pid_file);
  o.console_socket = f.console_socket;
  o.preserve_fds = f.preserve_fds;
  o.no_pivot = f.no_pivot;
  return o;
}

Result<int> ok(Status s) {
  if (!s) return std::unexpected(s.error());
  return 0;
}

}  // namespace

void add_lifecycle_commands(CLI::App& app, const Globals& g, Action& action) {
  static CreateFlags create_f, run_f;
  auto* create = app.add_subcommand("create", "create a container from a bundle; start runs it");
  add_create_flags(create, create_f);
  create->callback([&] {
    action = [&] {
      auto pid = runtime::create(g.state_dir(), create_options(create_f));
      if (!pid) return Result<int>(std::unexpected(pid.error()));
      return Result<int>(0);
    };
  });

  static std::string start_id;
  auto* start = app.add_subcommand("start", "run the process of a created container");
  start->add_option("id", start_id)->required();
  start->callback([&] { action = [&] { return ok(runtime::start(g.state_dir(), start_id)); }; });

  auto* run = app.add_subcommand("run", "create and start a container; wait for it unless -d");
  add_create_flags(run, run_f);
  run->add_flag("-d,--detach", run_f.detach, "do not wait for the container");
  run->add_flag("--no-subreaper", run_f.no_subreaper, "accepted for compatibility");
  run->add_flag("--keep", run_f.keep, "keep the container's state after it exits");
  run->callback([&] {
    action = [&]() -> Result<int> {
      auto dir = g.state_dir();
      // The init may be a grandchild (namespace joins): reap it as a subreaper.
      if (!run_f.detach) ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
      auto pid = runtime::create(dir, create_options(run_f));
      if (!pid) return std::unexpected(pid.error());
      if (auto s = runtime::start(dir, run_f.id); !s) {
        (void)runtime::remove(dir, run_f.id, true);
        return std::unexpected(s.error());
      }
      if (run_f.detach) return 0;
      int code = runtime::wait_forwarding(*pid);
      if (!run_f.keep) {
        if (auto r = runtime::remove(dir, run_f.id, true); !r) return std::unexpected(r.error());
      }
      return code;
    };
  });

  static std::string kill_id, kill_sig = "SIGTERM";
  static bool kill_all = false;
  auto* kill =
      app.add_subcommand("kill", "send a signal (default SIGTERM) to the container's init");
  kill->add_flag("-a,--all", kill_all, "signal every process of the container");
  kill->add_option("id", kill_id)->required();
  kill->add_option("signal", kill_sig);
  kill->callback([&] {
    action = [&]() -> Result<int> {
      auto sig = runtime::parse_signal(kill_sig);
      if (!sig) return std::unexpected(sig.error());
      return ok(runtime::kill(g.state_dir(), kill_id, *sig, kill_all));
    };
  });

  static std::string del_id;
  static bool del_force = false;
  auto* del = app.add_subcommand("delete", "remove a stopped container (and its cgroup)");
  del->add_flag("-f,--force", del_force, "kill it first if it is running");
  del->add_option("id", del_id)->required();
  del->callback([&] {
    action = [&]() -> Result<int> {
      auto r = runtime::remove(g.state_dir(), del_id, del_force);
      // runc: deleting a container that does not exist with --force is not an error.
      if (!r && del_force && r.error().code == Code::NotFound) return 0;
      return ok(r);
    };
  });

  static std::string pause_id, resume_id;
  auto* pause = app.add_subcommand("pause", "freeze every process of the container");
  pause->add_option("id", pause_id)->required();
  pause->callback([&] { action = [&] { return ok(runtime::pause(g.state_dir(), pause_id)); }; });
  auto* resume = app.add_subcommand("resume", "thaw a paused container");
  resume->add_option("id", resume_id)->required();
  resume->callback([&] { action = [&] { return ok(runtime::resume(g.state_dir(), resume_id)); }; });
}

}  // namespace silo::ocirt
