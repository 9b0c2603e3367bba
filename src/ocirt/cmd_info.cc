// state, list, ps, features, spec.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>

#include "common/sys.h"
#include "ocirt/commands.h"
#include "runtime/container.h"
#include "runtime/spec.h"

namespace silo::ocirt {

namespace {

// Prints rows as columns separated by at least three spaces, like Go's tabwriter in runc.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 3, ' ');
    }
    std::puts(line.c_str());
  }
}

Result<int> list(const Globals& g, const std::string& format, bool quiet) {
  auto dir = g.state_dir();
  Json arr = Json::array();
  std::vector<std::vector<std::string>> rows = {
      {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (const auto& id : dir.list()) {
    auto info = runtime::inspect(dir, id);
    if (!info) continue;
    if (quiet) {
      std::puts(id.c_str());
      continue;
    }
    Json s = runtime::state_document(*info);
    arr.push_back(s);
    rows.push_back({id, std::to_string(s["pid"].get<int>()), s["status"], info->state.bundle,
                    info->state.created, info->state.owner});
  }
  if (quiet) return 0;
  if (format == "json") {
    std::puts(arr.dump().c_str());
  } else {
    print_table(rows);
  }
  return 0;
}

// Like runc: the table is `ps -ef` (or the given ps options) filtered to the container's pids.
Result<int> ps(const Globals& g, const std::string& id, const std::string& format,
               const std::vector<std::string>& ps_args) {
  auto pids = runtime::processes(g.state_dir(), id);
  if (!pids) return std::unexpected(pids.error());
  if (format == "json") {
    std::puts(Json(*pids).dump().c_str());
    return 0;
  }
  std::string cmd = "ps";
  for (const auto& a : ps_args.empty() ? std::vector<std::string>{"-ef"} : ps_args)
    cmd += " '" + a + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return fail_errno(errno, "run ps");
  char line[4096];
  int pid_col = -1;
  bool header = true;
  while (std::fgets(line, sizeof line, p)) {
    std::istringstream fields(line);
    std::vector<std::string> cols;
    for (std::string f; fields >> f;) cols.push_back(f);
    if (header) {
      for (size_t i = 0; i < cols.size(); ++i)
        if (cols[i] == "PID") pid_col = static_cast<int>(i);
      std::fputs(line, stdout);
      header = false;
      continue;
    }
    if (pid_col < 0 || static_cast<size_t>(pid_col) >= cols.size()) continue;
    pid_t pid = std::atoi(cols[pid_col].c_str());
    for (pid_t c : *pids)
      if (c == pid) std::fputs(line, stdout);
  }
  int st = ::pclose(p);
  if (pid_col < 0)
    return fail(Code::Internal, "ps printed no PID column (status " + std::to_string(st) + ")");
  return 0;
}

Json features() {
  Json ns = Json::array({"cgroup", "ipc", "mount", "network", "pid", "user", "uts"});
  return {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", "1.1.0"},
      {"hooks",
       {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
      {"mountOptions",
       {"async",      "atime",         "bind",    "defaults", "dev",         "diratime", "dirsync",
        "exec",       "mand",          "noatime", "nodev",    "nodiratime",  "noexec",   "nomand",
        "norelatime", "nostrictatime", "nosuid",  "private",  "rbind",       "relatime", "remount",
        "ro",         "rprivate",      "rshared", "rslave",   "runbindable", "rw",       "shared",
        "slave",      "strictatime",   "suid",    "sync",     "unbindable"}},
      {"linux",
       {{"namespaces", ns},
        {"capabilities", Json::array()},
        {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
        {"seccomp",
         {{"enabled", true},
          {"actions",
           {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
            "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"}},
          {"operators",
           {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
            "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}},
          {"archs",
           {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
            "SCMP_ARCH_ARM"}}}},
        {"apparmor", {{"enabled", false}}},
        {"selinux", {{"enabled", false}}}}},
      {"annotations",
       {{"org.opencontainers.runtime-spec.features.runtime", "silo-runc " SILO_VERSION}}}};
}

}  // namespace

void add_info_commands(CLI::App& app, const Globals& g, Action& action) {
  static std::string state_id;
  auto* state = app.add_subcommand("state", "print the state of a container as JSON");
  state->add_option("id", state_id)->required();
  state->callback([&] {
    action = [&]() -> Result<int> {
      auto info = runtime::inspect(g.state_dir(), state_id);
      if (!info) return std::unexpected(info.error());
      std::puts(runtime::state_document(*info).dump(2).c_str());
      return 0;
    };
  });

  static std::string list_format = "table";
  static bool list_quiet = false;
  auto* ls = app.add_subcommand("list", "list containers");
  ls->alias("ls");
  ls->add_option("-f,--format", list_format)->check(CLI::IsMember({"table", "json"}));
  ls->add_flag("-q,--quiet", list_quiet, "print ids only");
  ls->callback([&] { action = [&] { return list(g, list_format, list_quiet); }; });

  static std::string ps_id, ps_format = "table";
  static std::vector<std::string> ps_args;
  auto* psc = app.add_subcommand("ps", "list the processes of a container");
  psc->add_option("-f,--format", ps_format)->check(CLI::IsMember({"table", "json"}));
  psc->add_option("id", ps_id)->required();
  psc->add_option("ps-args", ps_args, "options passed to ps (default -ef)");
  psc->callback([&] { action = [&] { return ps(g, ps_id, ps_format, ps_args); }; });

  auto* feat = app.add_subcommand("features", "print what this runtime supports, as JSON");
  feat->callback([&] {
    action = []() -> Result<int> {
      std::puts(features().dump(2).c_str());
      return 0;
    };
  });

  static std::string spec_bundle;
  static bool spec_rootless = false;
  auto* spec = app.add_subcommand("spec", "write a default config.json into the bundle");
  spec->add_option("-b,--bundle", spec_bundle, "bundle directory (default: current directory)");
  spec->add_flag("--rootless", spec_rootless, "a spec for an unprivileged user");
  spec->callback([&] {
    action = [&]() -> Result<int> {
      std::string path = absolute_bundle(spec_bundle) + "/config.json";
      if (sys::path_exists(path))
        return fail(Code::Conflict, "File " + path + " exists. Remove it first");
      SILO_TRY(sys::write_file_atomic(
          path, runtime::default_spec_json(spec_rootless).dump(2) + "\n", 0644));
      return 0;
    };
  });
}

}  // namespace silo::ocirt
