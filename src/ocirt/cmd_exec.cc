// exec: run a process in a running container.
#include "common/sys.h"
#include "ocirt/commands.h"
#include "runtime/container.h"

namespace silo::ocirt {

namespace {

struct ExecFlags {
  std::string id, process_file, cwd, user, pid_file, console_socket;
  std::vector<std::string> env, caps, args, additional_gids;
  bool tty = false, detach = false, no_new_privs = false;
  int preserve_fds = 0;
};

Status parse_user(const std::string& s, runtime::User& u) {
  auto colon = s.find(':');
  try {
    u.uid = static_cast<uid_t>(std::stoul(s.substr(0, colon)));
    if (colon != std::string::npos) u.gid = static_cast<gid_t>(std::stoul(s.substr(colon + 1)));
  } catch (const std::exception&) {
    return fail(Code::Invalid, "--user " + s + ": use UID[:GID] in numbers");
  }
  return {};
}

Result<runtime::Process> build_process(const Globals& g, const ExecFlags& f) {
  if (!f.process_file.empty()) {
    auto text = sys::read_file(f.process_file);
    if (!text) return wrap(text.error(), "--process");
    auto doc = parse_json(*text, f.process_file);
    if (!doc) return std::unexpected(doc.error());
    return runtime::parse_process(*doc);
  }
  if (f.args.empty())
    return fail(Code::Invalid, "exec needs a command: silo-runc exec ID COMMAND [ARG...]");
  auto base = runtime::container_process(g.state_dir(), f.id);
  if (!base) return std::unexpected(base.error());
  runtime::Process p = *base;
  p.args = f.args;
  p.terminal = f.tty;
  p.console_size.reset();
  if (!f.cwd.empty()) p.cwd = f.cwd;
  for (const auto& e : f.env) p.env.push_back(e);
  if (!f.user.empty()) SILO_TRY(parse_user(f.user, p.user));
  for (const auto& gid : f.additional_gids)
    p.user.additional_gids.push_back(static_cast<gid_t>(std::stoul(gid)));
  if (f.no_new_privs) p.no_new_privileges = true;
  if (!f.caps.empty()) {
    if (!p.capabilities) p.capabilities = runtime::Capabilities{};
    for (auto* set :
         {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted})
      set->insert(set->end(), f.caps.begin(), f.caps.end());
  }
  return p;
}

}  // namespace

void add_exec_command(CLI::App& app, const Globals& g, Action& action,
                      std::vector<std::string> command) {
  static ExecFlags f;
  f.args = std::move(command);
  auto* c = app.add_subcommand("exec", "run a process in a running container");
  c->add_option("--console-socket", f.console_socket);
  c->add_option("--cwd", f.cwd, "working directory");
  c->add_option("-e,--env", f.env, "KEY=VALUE to add");
  c->add_flag("-t,--tty", f.tty, "allocate a pty (needs --console-socket)");
  c->add_option("-u,--user", f.user, "UID[:GID]");
  c->add_option("-g,--additional-gids", f.additional_gids);
  c->add_option("-p,--process", f.process_file, "a process.json to run");
  c->add_flag("-d,--detach", f.detach);
  c->add_option("--pid-file", f.pid_file);
  c->add_flag("--no-new-privs", f.no_new_privs);
  c->add_option("-c,--cap", f.caps, "add a capability");
  c->add_option("--preserve-fds", f.preserve_fds);
  std::string ignored;
  c->add_option("--process-label,--apparmor,--cgroup", ignored)->group("");
  c->add_flag("--ignore-paused")->group("");
  c->add_option("id", f.id)->required();
  c->callback([&] {
    action = [&]() -> Result<int> {
      auto p = build_process(g, f);
      if (!p) return std::unexpected(p.error());
      runtime::ExecOptions o;
      o.id = f.id;
      o.process = std::move(*p);
      o.pid_file = f.pid_file.empty() ? "" : absolute_bundle(f.pid_file);
      o.console_socket = f.console_socket;
      o.preserve_fds = f.preserve_fds;
      o.detach = f.detach;
      return runtime::exec(g.state_dir(), o);
    };
  });
}

}  // namespace silo::ocirt
