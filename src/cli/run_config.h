#pragma once
// `silo run` / `silo create` flags and the POST /containers/create body they make, as the
// docker CLI builds it (Config, HostConfig, NetworkingConfig).

#include <string>
#include <vector>

#include "cli/flags.h"
#include "common/error.h"
#include "common/json.h"

namespace silo::cli {

// The flags of run and create (run adds -d, --rm is shared, as docker's).
[[nodiscard]] const std::vector<FlagSpec>& run_flag_specs();

// Everything run/create need besides the body.
struct CreatePlan {
  std::string name;                 // --name, "" for a generated one
  std::string image;                // the first positional argument
  Json body;                        // the create request body
  bool detach = false;              // -d
  bool tty = false;                 // -t
  bool interactive = false;         // -i
  bool auto_remove = false;         // --rm
  std::vector<std::string> attach;  // -a values (lower-case stream names)
  std::string detach_keys;          // --detach-keys
};

// Builds the create request from parsed run/create flags. Invalid errors name the flag
// and value ("invalid argument \"x\" for \"-p, --publish\" flag: ...").
[[nodiscard]] Result<CreatePlan> build_create(const Parsed& p);

// One -p value into ("80/tcp", HostIp, HostPort) triples (a range gives several).
struct PortSpec {
  std::string container_port;  // "80/tcp"
  std::string host_ip;
  std::string host_port;
};
[[nodiscard]] Result<std::vector<PortSpec>> parse_publish(const std::string& value);

// Reads an --env-file: KEY=VALUE lines, '#' comments, a bare KEY taken from our environment.
[[nodiscard]] Result<std::vector<std::string>> read_env_file(const std::string& path);

}  // namespace silo::cli
