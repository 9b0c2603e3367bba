#pragma once
// The `silo` commands. Each takes the words after its name and returns the process exit
// code, printing its output and errors as the docker CLI does.

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/client.h"
#include "cli/flags.h"

namespace silo::cli {

using Args = std::vector<std::string>;

// Container lifecycle and interactive commands (cmd_run.cc).
int cmd_run(Client& c, const Args& a);
int cmd_create(Client& c, const Args& a);
int cmd_start(Client& c, const Args& a);
int cmd_attach(Client& c, const Args& a);
int cmd_exec(Client& c, const Args& a);

// Container management (cmd_containers.cc).
int cmd_stop(Client& c, const Args& a);
int cmd_restart(Client& c, const Args& a);
int cmd_kill(Client& c, const Args& a);
int cmd_rm(Client& c, const Args& a);
int cmd_pause(Client& c, const Args& a);
int cmd_unpause(Client& c, const Args& a);
int cmd_wait(Client& c, const Args& a);
int cmd_rename(Client& c, const Args& a);
int cmd_top(Client& c, const Args& a);
int cmd_ps(Client& c, const Args& a);
int cmd_logs(Client& c, const Args& a);
int cmd_inspect(Client& c, const Args& a);

// Observation and system (cmd_system.cc).
int cmd_stats(Client& c, const Args& a);
int cmd_events(Client& c, const Args& a);
int cmd_version(Client& c, const Args& a);
int cmd_info(Client& c, const Args& a);
int cmd_system(Client& c, const Args& a);
int cmd_volume(Client& c, const Args& a);

// Images (cmd_images.cc).
int cmd_images(Client& c, const Args& a);
int cmd_image(Client& c, const Args& a);
int cmd_rmi(Client& c, const Args& a);
int cmd_tag(Client& c, const Args& a);
int cmd_history(Client& c, const Args& a);
// docker run's pull of a missing image: the progress on stderr, the stored credentials
// sent (cmd_images_registry.cc). Errors carry the daemon's message.
[[nodiscard]] Status pull_image(Client& c, const std::string& image);
// POST /images/prune (all: unused tagged images too); prints docker's "Deleted Images:"
// list and returns the bytes reclaimed (cmd_images.cc).
[[nodiscard]] Result<double> prune_images(Client& c, bool all,
                                          const std::vector<std::string>& filters);
// Images to and from archives (cmd_images_archive.cc).
int cmd_import(Client& c, const Args& a);
int cmd_load(Client& c, const Args& a);
int cmd_save(Client& c, const Args& a);
int cmd_commit(Client& c, const Args& a);

// Registries (cmd_images_registry.cc).
int cmd_pull(Client& c, const Args& a);
int cmd_push(Client& c, const Args& a);
int cmd_login(Client& c, const Args& a);
int cmd_logout(Client& c, const Args& a);

// Copying files (cmd_cp.cc).
int cmd_cp(Client& c, const Args& a);
// A tar of the entries under host directory `dir`, relative to it (libarchive is opened
// on first use; an error names the package to install).
[[nodiscard]] Result<std::string> tar_directory(const std::string& dir);

// Networks, static NAT mappings and published ports (cmd_network.cc).
int cmd_network(Client& c, const Args& a);
int cmd_port(Client& c, const Args& a);

// docker build (cmd_build.cc).
int cmd_build(Client& c, const Args& a);

// ---- shared helpers ----

// Parses a command's flags; on error prints docker's usage error ("unknown flag: --x",
// "See 'silo CMD --help'.") and returns nullopt (the caller exits 125).
[[nodiscard]] std::optional<Parsed> parse_or_usage(const std::string& cmd,
                                                   const std::vector<FlagSpec>& specs,
                                                   const Args& a, bool interspersed = true);
// False (after printing docker's "\"silo CMD\" requires at least N arguments." and the
// usage line) when `p` has fewer than `n` positional arguments.
[[nodiscard]] bool need_args(const std::string& cmd, const Parsed& p, size_t n,
                             const std::string& usage);
// Prints an error to stderr and returns `code`.
int print_error(const Error& e, int code = 1);
// Runs `fn` for each name, printing the name on success and each error; 1 if any failed.
int for_each_container(const std::vector<std::string>& names,
                       const std::function<Status(const std::string&)>& fn);
// Builds "?a=1&b=2" from pairs, skipping empty values.
[[nodiscard]] std::string query(const std::vector<std::pair<std::string, std::string>>& kv);
// The JSON filters parameter from --filter k=v values (docker's {"k":{"v":true}}).
[[nodiscard]] std::string filters_json(const std::vector<std::string>& filters);
// A time flag (--since/--until): RFC 3339, a unix timestamp, or a Go duration ago, as the
// unix seconds string the API takes.
[[nodiscard]] Result<std::string> api_time(const std::string& value, int64_t now);
// Renders `data` with a Go template (--format) and prints it with a newline.
[[nodiscard]] Status print_formatted(const std::string& format, const Json& data);
// "REPO[:TAG]" as the API takes it, repo and tag apart ("localhost:5000/a" has no tag).
[[nodiscard]] std::pair<std::string, std::string> split_repo_tag(const std::string& ref);
// Writes `s` to stdout.
void out(const std::string& s);

}  // namespace silo::cli
