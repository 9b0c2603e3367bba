#pragma once
// Built-in routes every Engine API server has: GET/HEAD /_ping and GET /version.

#include <string>

#include "api/router.h"
#include "common/json.h"

namespace silo::api {

// The version this build of Silo carries (the SILO_VERSION the build defines).
[[nodiscard]] std::string silo_build_version();

// What the daemon says about itself in /version and in the Server header.
struct VersionInfo {
  std::string engine_version = "20.10.24";  // Docker Engine release whose API Silo speaks
  std::string silo_version = silo_build_version();
  std::string git_commit = "unknown";
  std::string build_time;
  std::string kernel_version;  // from uname(2) when empty
  std::string arch;            // Go's GOARCH spelling ("amd64"), from uname(2) when empty
  std::string platform_name = "Silo";
  // Sent as the Builder-Version header of /_ping: "1" makes newer docker CLIs use the
  // classic builder rather than BuildKit, which Silo does not serve.
  std::string builder_version = "1";
};

// Fills kernel_version and arch from uname(2) when they are empty.
[[nodiscard]] VersionInfo with_host_defaults(VersionInfo info);

// "Docker/20.10.24 (linux) Silo/0.1.0": the docker CLI does not parse Server, and tools
// that look for a "Docker/" product token still find one first.
[[nodiscard]] std::string server_header(const VersionInfo& info);

// The body of GET /version, shaped like dockerd 20.10's (types.Version).
[[nodiscard]] Json version_json(const VersionInfo& info);

// Adds GET /_ping, HEAD /_ping and GET /version unless the router already has them.
[[nodiscard]] Status add_system_routes(Router& router, const VersionInfo& info);

}  // namespace silo::api
