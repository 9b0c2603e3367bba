// run, create, start, attach, exec: the commands that may attach a terminal.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/run_config.h"
#include "cli/terminal.h"

namespace silo::cli {
namespace {

// docker's toStatusError: the exit code run gives for a failed create/start.
int run_error_code(const std::string& msg) {
  if (msg.find("executable file not found") != std::string::npos ||
      msg.find("no such file or directory") != std::string::npos)
    return 127;
  if (msg.find("permission denied") != std::string::npos ||
      msg.find("is a directory") != std::string::npos)
    return 126;
  return 125;
}

int run_failure(const std::string& cmd, const Error& e) {
  std::cerr << "silo: " << e.message << "\n\nRun 'silo " << cmd
            << " --help' for more information\n";
  return run_error_code(e.message);
}

// POST /containers/create (pulling once when the image is missing); prints warnings.
Result<std::string> create(Client& c, const CreatePlan& plan) {
  std::string path = "/containers/create" + query({{"name", plan.name}});
  auto r = c.call("POST", path, plan.body);
  if (!r && r.error().code == Code::NotFound &&
      r.error().message.find("No such image") != std::string::npos) {
    std::string ref =
        plan.image.find(':') == std::string::npos ? plan.image + ":latest" : plan.image;
    std::cerr << "Unable to find image '" << ref << "' locally\n";
    if (auto pulled = pull_image(c, plan.image); !pulled)
      return fail(Code::NotFound, "Error response from daemon: " + pulled.error().message);
    r = c.call("POST", path, plan.body);
  }
  if (!r) return std::unexpected(r.error());
  auto j = parse_json(r->body, "create response");
  if (!j) return std::unexpected(j.error());
  if (j->contains("Warnings") && (*j)["Warnings"].is_array())
    for (const auto& w : (*j)["Warnings"]) std::cerr << "WARNING: " << w.get<std::string>() << "\n";
  return j->value("Id", "");
}

// Returns whether the daemon took the size.
bool resize(Client& c, const std::string& what, int rows, int cols) {
  auto r = c.call_raw(
      "POST", what + "/resize" + query({{"h", std::to_string(rows)}, {"w", std::to_string(cols)}}));
  return r && r->status >= 200 && r->status < 300;
}

// The terminal's size right after start: retried a few times (10, 20, … 100 ms apart) while
// the process is not ready to take it, as the docker CLI's initTtySize does, so that the
// first `stty size` in the container already sees it.
void initial_resize(Client& c, const std::string& what, int rows, int cols) {
  for (int retry = 0; retry < 10 && !resize(c, what, rows, cols); ++retry)
    std::this_thread::sleep_for(std::chrono::milliseconds(10 * (retry + 1)));
}

// The exit code from a wait answer: {"StatusCode": N, "Error": {...}}.
Result<int> wait_code(const HttpResponse& r) {
  auto j = parse_json(r.body, "wait response");
  if (!j) return std::unexpected(j.error());
  if (j->contains("Error") && (*j)["Error"].is_object() &&
      !(*j)["Error"].value("Message", "").empty())
    return fail(Code::Internal, (*j)["Error"].value("Message", ""));
  return j->value("StatusCode", 0);
}

// An attach session: hijack, then `start` (may be empty), then pump until the stream ends.
struct Session {
  std::string id;
  bool tty = false;
  bool stdin = false;
  std::string detach_keys;  // as typed ("ctrl-p,ctrl-q")
  bool sig_proxy = true;
  std::string resize_path;  // "/containers/<id>" or "/exec/<id>"
};

Result<PumpEnd> attach_and_pump(Client& c, const Session& s, const std::string& attach_path,
                                const std::optional<Json>& body,
                                const std::function<Status()>& start) {
  auto keys = parse_detach_keys(s.detach_keys.empty() ? "ctrl-p,ctrl-q" : s.detach_keys);
  if (!keys) return std::unexpected(keys.error());
  // Attach before start, so that no output is lost.
  auto conn = c.hijack(attach_path, body);
  if (!conn) return std::unexpected(conn.error());
  std::optional<RawTerminal> raw;
  if (s.tty && s.stdin && isatty(STDIN_FILENO)) raw.emplace();
  if (start) SILO_TRY(start());
  PumpOptions o;
  o.tty = s.tty;
  o.send_stdin = s.stdin;
  o.detach_keys = s.stdin ? *keys : "";
  if (s.tty && isatty(STDIN_FILENO)) {
    o.resize = [&](int rows, int cols) { (void)resize(c, s.resize_path, rows, cols); };
    auto [rows, cols] = terminal_size(STDIN_FILENO);
    if (rows > 0) initial_resize(c, s.resize_path, rows, cols);
  }
  if (s.sig_proxy && !s.tty && s.resize_path.starts_with("/containers/"))
    o.forward_signal = [&](int sig) {
      (void)c.call_raw("POST", s.resize_path + "/kill" + query({{"signal", std::to_string(sig)}}));
    };
  return pump(*conn, o);
}

std::string attach_query(bool in, bool out, bool err, const std::string& keys) {
  return query({{"stream", "1"},
                {"stdin", in ? "1" : ""},
                {"stdout", out ? "1" : ""},
                {"stderr", err ? "1" : ""},
                {"detachKeys", keys}});
}

int run_or_create(Client& c, const Args& a, bool run) {
  const std::string cmd = run ? "run" : "create";
  auto p = parse_or_usage(cmd, run_flag_specs(), a, false);
  if (!p) return 125;
  if (!need_args(cmd, *p, 1, "[OPTIONS] IMAGE [COMMAND] [ARG...]")) return 125;
  auto plan = build_create(*p);
  if (!plan) return run_failure(cmd, plan.error());
  if (!run)
    plan->body["AttachStdin"] = plan->body["AttachStdout"] = plan->body["AttachStderr"] = false;
  auto id = create(c, *plan);
  if (!id) return run_failure(cmd, id.error());
  if (!run) {
    std::cout << *id << "\n";
    return 0;
  }
  const std::string ctr = "/containers/" + *id;
  auto start = [&]() -> Status {
    auto r = c.call("POST", ctr + "/start");
    if (!r) return std::unexpected(r.error());
    return {};
  };
  if (plan->detach) {
    if (auto s = start(); !s) return run_failure(cmd, s.error());
    std::cout << *id << "\n";
    return 0;
  }
  const Json& b = plan->body;
  // Registered before start, as docker does: with --rm the container is gone once it exits.
  auto early_wait = c.send(
      "POST", ctr + "/wait" + query({{"condition", plan->auto_remove ? "removed" : "next-exit"}}));
  if (!early_wait) return run_failure(cmd, early_wait.error());
  Session s{*id,
            plan->tty,
            b.value("AttachStdin", false),
            plan->detach_keys,
            p->get("sig-proxy", "true") != "false",
            ctr};
  Status start_status;
  auto end = attach_and_pump(c, s,
                             ctr + "/attach" +
                                 attach_query(s.stdin, b.value("AttachStdout", false),
                                              b.value("AttachStderr", false), plan->detach_keys),
                             std::nullopt, [&]() -> Status {
                               start_status = start();
                               return start_status;
                             });
  if (!end) return start_status ? print_error(end.error(), 125) : run_failure(cmd, end.error());
  if (*end == PumpEnd::Detached) return 0;
  // The wait registered before start answers for this run's exit (next-exit, or removed
  // with --rm), as docker's waitExitOrRemoved: a wait sent only now could race the exit.
  auto r = c.finish(std::move(*early_wait));
  if (!r) return print_error(r.error(), 125);
  auto code = wait_code(*r);
  return code ? *code : print_error(code.error(), 125);
}

Result<Json> inspect_container(Client& c, const std::string& name) {
  auto r = c.call("GET", "/containers/" + url_encode(name) + "/json");
  if (!r) return std::unexpected(r.error());
  return parse_json(r->body, "inspect response");
}

// Attaches to a running (or about-to-start) container and returns its exit code.
int attach_to(Client& c, const std::string& name, bool with_stdin, const std::string& keys,
              bool sig_proxy, bool start_it) {
  auto info = inspect_container(c, name);
  if (!info) return print_error(info.error());
  std::string id = info->value("Id", name);
  bool tty = (*info)["Config"].value("Tty", false);
  bool in = with_stdin && (*info)["Config"].value("OpenStdin", false);
  const std::string ctr = "/containers/" + id;
  if (!start_it && !(*info)["State"].value("Running", false))
    return print_error(
        Error{0, Code::Conflict, "You cannot attach to a stopped container, start it first"});
  Session s{id, tty, in, keys, sig_proxy, ctr};
  std::function<Status()> start;
  if (start_it)
    start = [&]() -> Status {
      auto r = c.call("POST", ctr + "/start");
      if (!r) return std::unexpected(r.error());
      return {};
    };
  auto end = attach_and_pump(c, s, ctr + "/attach" + attach_query(in, true, true, keys),
                             std::nullopt, start);
  if (!end) return print_error(end.error());
  if (*end == PumpEnd::Detached) return 0;
  auto r = c.call("POST", ctr + "/wait");
  if (!r) return print_error(r.error());
  auto code = wait_code(*r);
  return code ? *code : print_error(code.error());
}

}  // namespace

int cmd_run(Client& c, const Args& a) {
  return run_or_create(c, a, true);
}
int cmd_create(Client& c, const Args& a) {
  return run_or_create(c, a, false);
}

int cmd_start(Client& c, const Args& a) {
  static const std::vector<FlagSpec> specs = {
      {"a,attach"}, {"i,interactive"}, {"detach-keys", true}};
  auto p = parse_or_usage("start", specs, a);
  if (!p) return 125;
  if (!need_args("start", *p, 1, "[OPTIONS] CONTAINER [CONTAINER...]")) return 1;
  if (p->on("attach") || p->on("interactive")) {
    if (p->args.size() > 1)
      return print_error(
          Error{0, Code::Invalid, "you cannot start and attach multiple containers at once"});
    return attach_to(c, p->args[0], p->on("interactive"), p->get("detach-keys"), true, true);
  }
  return for_each_container(p->args, [&](const std::string& n) -> Status {
    auto r = c.call("POST", "/containers/" + url_encode(n) + "/start");
    if (!r) return std::unexpected(r.error());
    return {};
  });
}

int cmd_attach(Client& c, const Args& a) {
  static const std::vector<FlagSpec> specs = {{"detach-keys", true}, {"no-stdin"}, {"sig-proxy"}};
  auto p = parse_or_usage("attach", specs, a);
  if (!p) return 125;
  if (!need_args("attach", *p, 1, "[OPTIONS] CONTAINER")) return 1;
  return attach_to(c, p->args[0], !p->on("no-stdin"), p->get("detach-keys"),
                   p->get("sig-proxy", "true") != "false", false);
}

int cmd_exec(Client& c, const Args& a) {
  static const std::vector<FlagSpec> specs = {
      {"i,interactive"},   {"t,tty"},          {"d,detach"},
      {"e,env", true},     {"env-file", true}, {"u,user", true},
      {"w,workdir", true}, {"privileged"},     {"detach-keys", true}};
  auto p = parse_or_usage("exec", specs, a, false);
  if (!p) return 125;
  if (!need_args("exec", *p, 2, "[OPTIONS] CONTAINER COMMAND [ARG...]")) return 1;
  bool detach = p->on("detach"), in = p->on("interactive"), tty = p->on("tty");
  std::vector<std::string> env;
  for (const auto& f : p->all("env-file")) {
    auto e = read_env_file(f);
    if (!e) return print_error(e.error());
    env.insert(env.end(), e->begin(), e->end());
  }
  for (const auto& e : p->all("env")) env.push_back(e);
  Json body = {{"AttachStdin", in && !detach},
               {"AttachStdout", !detach},
               {"AttachStderr", !detach},
               {"Tty", tty},
               {"Privileged", p->on("privileged")},
               {"Cmd", std::vector<std::string>(p->args.begin() + 1, p->args.end())}};
  if (!env.empty()) body["Env"] = env;
  if (p->has("user")) body["User"] = p->get("user");
  if (p->has("workdir")) body["WorkingDir"] = p->get("workdir");
  if (p->has("detach-keys")) body["DetachKeys"] = p->get("detach-keys");
  auto r = c.call("POST", "/containers/" + url_encode(p->args[0]) + "/exec", body);
  if (!r) return print_error(r.error());
  auto j = parse_json(r->body, "exec create response");
  if (!j) return print_error(j.error());
  std::string exec_id = j->value("Id", "");
  if (detach) {
    auto s = c.call("POST", "/exec/" + exec_id + "/start", Json{{"Detach", true}, {"Tty", tty}});
    return s ? 0 : print_error(s.error());
  }
  Session s{exec_id, tty, in, p->get("detach-keys"), false, "/exec/" + exec_id};
  auto end = attach_and_pump(c, s, "/exec/" + exec_id + "/start",
                             Json{{"Detach", false}, {"Tty", tty}}, {});
  if (!end) return print_error(end.error());
  if (*end == PumpEnd::Detached) return 0;
  auto info = c.call("GET", "/exec/" + exec_id + "/json");
  if (!info) return print_error(info.error());
  auto ij = parse_json(info->body, "exec inspect response");
  if (!ij) return print_error(ij.error());
  return (*ij)["ExitCode"].is_number() ? (*ij)["ExitCode"].get<int>() : 0;
}

}  // namespace silo::cli
