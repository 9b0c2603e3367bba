// silo-runc: a runc-compatible OCI runtime CLI over Silo's runtime library.
#include <unistd.h>

#include <cstring>

#include <cstdio>
#include <filesystem>
#include <vector>

#include "common/log.h"
#include "ocirt/commands.h"

namespace silo::ocirt {

std::string absolute_bundle(const std::string& bundle) {
  // Like Go's filepath.Abs (what runc uses): lexical, symlinks are not resolved.
  std::filesystem::path p(bundle.empty() ? "." : bundle);
  if (p.is_relative()) {
    char cwd[4096];
    p = std::filesystem::path(::getcwd(cwd, sizeof cwd) ? cwd : "/") / p;
  }
  std::string out = p.lexically_normal().string();
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::vector<std::string> split_exec_command(int& argc, char** argv) {
  // `exec ID CMD ARGS...`: everything after the id is the command, even words that look
  // like exec's own flags (`sh -c ...`). CLI11 cannot stop at a positional, so cut here.
  static const char* kTakesValue[] = {"--console-socket",
                                      "--cwd",
                                      "-e",
                                      "--env",
                                      "-u",
                                      "--user",
                                      "-g",
                                      "--additional-gids",
                                      "-p",
                                      "--process",
                                      "--pid-file",
                                      "-c",
                                      "--cap",
                                      "--preserve-fds",
                                      "--process-label",
                                      "--apparmor",
                                      "--cgroup",
                                      "--root",
                                      "--log",
                                      "--log-format",
                                      "--criu",
                                      "--rootless"};
  auto takes_value = [](const char* a) {
    if (std::strchr(a, '=')) return false;
    for (const char* t : kTakesValue)
      if (!std::strcmp(a, t)) return true;
    return false;
  };
  int i = 1;
  for (; i < argc; ++i) {
    if (argv[i][0] != '-') break;
    if (takes_value(argv[i])) ++i;
  }
  if (i >= argc || std::strcmp(argv[i], "exec") != 0) return {};
  for (++i; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--")) continue;
    if (argv[i][0] != '-') break;
    if (takes_value(argv[i])) ++i;
  }
  std::vector<std::string> command;
  for (int j = i + 1; j < argc; ++j) command.emplace_back(argv[j]);
  if (i < argc) argc = i + 1;
  return command;
}

}  // namespace silo::ocirt

int main(int argc, char** argv) {
  using namespace silo;
  CLI::App app{"silo-runc: run containers from OCI bundles (runc-compatible)", "silo-runc"};
  app.require_subcommand(1);
  app.set_version_flag("-v,--version",
                       std::string("silo-runc version ") + SILO_VERSION + "\nspec: 1.0.2");
  ocirt::Globals g;
  app.add_option("--root", g.root, "where container state is kept")->capture_default_str();
  app.add_option("--log", g.log, "log file (default: stderr)");
  app.add_option("--log-format", g.log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", g.debug, "log at debug level");
  app.add_flag("--systemd-cgroup", g.systemd_cgroup,
               "accepted: cgroupsPath in slice:prefix:name form is honoured either way");
  std::string ignored;
  app.add_option("--criu", ignored, "accepted for compatibility; checkpointing is not supported")
      ->group("");
  app.add_option("--rootless", ignored, "accepted for compatibility")->group("");
  ocirt::Action action;
  ocirt::add_lifecycle_commands(app, g, action);
  ocirt::add_info_commands(app, g, action);
  ocirt::add_exec_command(app, g, action, ocirt::split_exec_command(argc, argv));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  log::init(g.log, g.log_format == "json" ? log::Format::Json : log::Format::Text,
            g.debug ? "debug" : "warn");
  auto r = action();
  if (!r) {
    // Errors leave the program here, once: on stderr and in the log file (conmon reads it).
    std::fprintf(stderr, "silo-runc: %s\n", r.error().message.c_str());
    if (!g.log.empty()) spdlog::error("{}", r.error().message);
    return 1;
  }
  return *r;
}
