#pragma once
// silo-runc subcommands. Each registers itself on the CLI11 app and runs its operation.

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "common/error.h"
#include "runtime/state.h"

namespace silo::ocirt {

struct Globals {
  std::string root = "/run/silo-runc";
  std::string log;
  std::string log_format = "text";
  bool debug = false;
  bool systemd_cgroup = false;
  runtime::StateDir state_dir() const { return runtime::StateDir(root); }
};

// What a subcommand runs once parsed: an exit code, or an error to report.
using Action = std::function<Result<int>()>;

void add_lifecycle_commands(CLI::App& app, const Globals& g, Action& action);
void add_info_commands(CLI::App& app, const Globals& g, Action& action);
// `command` is what followed the container id (see split_exec_command).
void add_exec_command(CLI::App& app, const Globals& g, Action& action,
                      std::vector<std::string> command);
// Removes `exec`'s command words from argv (shortening argc) and returns them.
std::vector<std::string> split_exec_command(int& argc, char** argv);

// The absolute form of a bundle path ("" = the current directory).
std::string absolute_bundle(const std::string& bundle);

}  // namespace silo::ocirt
