// silo: the command-line client of silod (Docker's command grammar, Engine API v1.41).
#include <csignal>
#include <iostream>
#include <map>

#include "cli/commands.h"

namespace {

using namespace silo::cli;
using Fn = int (*)(Client&, const Args&);

const std::map<std::string, Fn>& commands() {
  static const std::map<std::string, Fn> m = {
      {"run", cmd_run},         {"create", cmd_create},   {"start", cmd_start},
      {"attach", cmd_attach},   {"exec", cmd_exec},       {"stop", cmd_stop},
      {"restart", cmd_restart}, {"kill", cmd_kill},       {"rm", cmd_rm},
      {"pause", cmd_pause},     {"unpause", cmd_unpause}, {"wait", cmd_wait},
      {"rename", cmd_rename},   {"top", cmd_top},         {"ps", cmd_ps},
      {"logs", cmd_logs},       {"inspect", cmd_inspect}, {"stats", cmd_stats},
      {"events", cmd_events},   {"version", cmd_version}, {"info", cmd_info},
      {"system", cmd_system},   {"volume", cmd_volume},   {"cp", cmd_cp},           {"build", cmd_build},
      {"network", cmd_network}, {"port", cmd_port},
      {"images", cmd_images},   {"image", cmd_image},     {"rmi", cmd_rmi},
      {"tag", cmd_tag},         {"history", cmd_history}, {"import", cmd_import},
      {"load", cmd_load},       {"save", cmd_save},       {"commit", cmd_commit},
      {"pull", cmd_pull},       {"push", cmd_push},       {"login", cmd_login},
      {"logout", cmd_logout}};
  return m;
}

void usage() {
  std::cout << "Usage:  silo [OPTIONS] COMMAND\n\nA Docker-compatible container host\n\n"
               "Options:\n  -H, --host string   Daemon socket to connect to (unix:// only)\n"
               "  -v, --version       Print version information and quit\n\nCommands:\n";
  for (const auto& [name, fn] : commands()) std::cout << "  " << name << "\n";
  std::cout << "\nRun 'silo COMMAND --help' for more information on a command.\n";
}

}  // namespace

int main(int argc, char** argv) {
  // A daemon that hangs up mid-write is an error to report, not a reason to die silently.
  signal(SIGPIPE, SIG_IGN);
  Args args(argv + 1, argv + argc);
  std::string host;
  size_t i = 0;
  // Global options come before the command, as docker's.
  for (; i < args.size() && args[i].starts_with("-"); ++i) {
    const std::string& a = args[i];
    if (a == "-H" || a == "--host") {
      if (i + 1 >= args.size()) {
        std::cerr << "flag needs an argument: " << a << "\nSee 'silo --help'.\n";
        return 125;
      }
      host = args[++i];
    } else if (a.starts_with("--host=")) {
      host = a.substr(7);
    } else if (a.starts_with("-H") && a.size() > 2) {
      host = a.substr(2);
    } else if (a == "-v" || a == "--version") {
      std::cout << "Silo version " << SILO_VERSION << "\n";
      return 0;
    } else if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else if (a == "-D" || a == "--debug") {
      // Accepted for docker compatibility.
    } else if (a == "-l" || a == "--log-level" || a == "--config" || a == "-c" ||
               a == "--context") {
      ++i;
    } else {
      std::cerr << "unknown flag: " << a << "\nSee 'silo --help'.\n";
      return 125;
    }
  }
  if (i >= args.size()) {
    usage();
    return 0;
  }
  std::string name = args[i++];
  Args rest(args.begin() + static_cast<long>(i), args.end());
  // `silo container ls` and friends: the management-command spelling of the same commands.
  if (name == "container" && !rest.empty()) {
    name = rest[0];
    rest.erase(rest.begin());
    if (name == "ls" || name == "list") name = "ps";
    if (name == "remove") name = "rm";
  }
  auto it = commands().find(name);
  if (it == commands().end()) {
    std::cerr << "silo: '" << name << "' is not a silo command.\nSee 'silo --help'\n";
    return 1;
  }
  for (const auto& a : rest) {
    if (a == "--") break;
    if (a == "--help") {
      std::cout << "Usage:  silo " << name << " [OPTIONS]\n";
      return 0;
    }
  }
  auto h = resolve_host(host);
  if (!h) return print_error(h.error(), 125);
  Client client(*h);
  return it->second(client, rest);
}
