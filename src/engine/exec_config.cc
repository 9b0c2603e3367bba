// Exec instances as data: Docker's ExecConfig in, the OCI process and ExecInspect out.
#include <charconv>
#include <sstream>

#include "common/sys.h"
#include "engine/exec.h"
#include "runtime/caps.h"

namespace silo::engine {

namespace {

std::optional<uint32_t> number(std::string_view s) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Looks `name` up in an /etc/passwd or /etc/group style file: field 2 (uid or gid) and,
// for passwd, field 3 (the primary gid).
std::optional<std::pair<uint32_t, uint32_t>> lookup(const std::string& file,
                                                    std::string_view name) {
  auto text = sys::read_file(file);
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::string cur;
    for (char c : line) {
      if (c == ':') {
        f.push_back(cur);
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
    f.push_back(cur);
    if (f.size() < 3 || f[0] != name) continue;
    auto id = number(f[2]);
    auto gid = f.size() > 3 ? number(f[3]) : id;
    if (id) return std::pair<uint32_t, uint32_t>(*id, gid.value_or(*id));
  }
  return std::nullopt;
}

// Docker's User: "user", "uid", "user:group", "uid:gid" (names from the container's files).
Result<Json> resolve_user(const std::string& user, const std::string& rootfs) {
  auto colon = user.find(':');
  std::string u = user.substr(0, colon);
  std::string g = colon == std::string::npos ? "" : user.substr(colon + 1);
  uint32_t uid = 0, gid = 0;
  if (auto n = number(u)) {
    uid = *n;
    if (auto pw = lookup(rootfs + "/etc/passwd", u)) gid = pw->second;
  } else if (auto pw = lookup(rootfs + "/etc/passwd", u)) {
    uid = pw->first, gid = pw->second;
  } else {
    return fail(Code::Invalid, "unable to find user " + u + ": no matching entries in passwd file");
  }
  if (!g.empty()) {
    if (auto n = number(g)) {
      gid = *n;
    } else if (auto gr = lookup(rootfs + "/etc/group", g)) {
      gid = gr->first;
    } else {
      return fail(Code::Invalid,
                  "unable to find group " + g + ": no matching entries in group file");
    }
  }
  return Json{{"uid", uid}, {"gid", gid}};
}

std::vector<std::string> string_list(const Json& body, const char* key) {
  std::vector<std::string> out;
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return out;
  if (it->is_string()) return {it->get<std::string>()};
  for (const auto& v : *it) out.push_back(v.get<std::string>());
  return out;
}

}  // namespace

Result<ExecInstance> parse_exec_config(const Json& body) {
  ExecInstance x;
  try {
    x.cmd = string_list(body, "Cmd");
    x.env = string_list(body, "Env");
  } catch (const nlohmann::json::exception&) {
    return fail(Code::Invalid, "Cmd and Env must be arrays of strings");
  }
  if (x.cmd.empty()) return fail(Code::Invalid, "No exec command specified");
  SILO_TRY(get_opt(body, "User", x.user, "ExecConfig"));
  SILO_TRY(get_opt(body, "WorkingDir", x.working_dir, "ExecConfig"));
  SILO_TRY(get_opt(body, "DetachKeys", x.detach_keys, "ExecConfig"));
  SILO_TRY(get_opt(body, "Tty", x.tty, "ExecConfig"));
  SILO_TRY(get_opt(body, "Privileged", x.privileged, "ExecConfig"));
  SILO_TRY(get_opt(body, "AttachStdin", x.attach_stdin, "ExecConfig"));
  SILO_TRY(get_opt(body, "AttachStdout", x.attach_stdout, "ExecConfig"));
  SILO_TRY(get_opt(body, "AttachStderr", x.attach_stderr, "ExecConfig"));
  return x;
}

Result<Json> exec_process_json(const ExecInstance& x, const Json& container_process,
                               const std::string& rootfs) {
  Json p = container_process.is_object() ? container_process : Json::object();
  p["args"] = x.cmd;
  p["terminal"] = x.tty;
  p.erase("consoleSize");
  Json env = p.value("env", Json::array());
  for (const auto& e : x.env) env.push_back(e);
  p["env"] = env;
  if (!x.working_dir.empty()) p["cwd"] = x.working_dir;
  if (!p.contains("cwd")) p["cwd"] = "/";
  if (!x.user.empty()) {
    auto u = resolve_user(x.user, rootfs);
    if (!u) return std::unexpected(u.error());
    p["user"] = *u;
  }
  if (x.privileged) {
    Json all = Json::array();
    for (int c = 0; c <= runtime::last_cap(); ++c) all.push_back(runtime::capability_name(c));
    p["capabilities"] = {{"bounding", all}, {"effective", all}, {"permitted", all}};
  }
  return p;
}

Json exec_inspect_json(const ExecInstance& x) {
  Json args = Json::array();
  for (size_t i = 1; i < x.cmd.size(); ++i) args.push_back(x.cmd[i]);
  return Json{
      {"ID", x.id},
      {"Running", x.running},
      {"ExitCode", x.exit_code ? Json(*x.exit_code) : Json(nullptr)},
      {"ProcessConfig",
       {{"tty", x.tty},
        {"entrypoint", x.cmd.empty() ? "" : x.cmd[0]},
        {"arguments", args},
        {"privileged", x.privileged},
        {"user", x.user}}},
      {"OpenStdin", x.attach_stdin},
      {"OpenStderr", x.attach_stderr},
      {"OpenStdout", x.attach_stdout},
      {"CanRemove", false},
      {"ContainerID", x.container_id},
      {"DetachKeys", x.detach_keys},
      {"Pid", x.pid},
  };
}

}  // namespace silo::engine
