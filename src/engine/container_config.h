#pragma once
// A container's configuration as Docker's API gives it (the body of POST /containers/create:
// Config fields at the top level, plus HostConfig and NetworkingConfig), validated, and
// turned into an OCI runtime spec. Pure functions: no kernel, no store, no files.
//
// Validation answers as dockerd does: the same checks, Docker's messages (Invalid -> 400),
// so `docker run --memory 1k busybox` gets "Minimum memory limit allowed is 6MB" from
// silod exactly as from dockerd.

#include <map>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace silo::engine {

// The image's own defaults (Docker's image Config), applied under the request's.
struct ImageConfig {
  std::vector<std::string> env;         // "PATH=/usr/bin:/bin"
  std::vector<std::string> cmd;         // ["sh"]
  std::vector<std::string> entrypoint;  // usually empty
  std::string working_dir;
  std::string user;
  std::map<std::string, std::string> labels;
  std::string stop_signal;  // empty: SIGTERM
  std::set<std::string> exposed_ports;  // "80/tcp": -P publishes them
};

// A create request after validation and normalisation: `config` and `host_config` are
// what inspect shows (Docker's Config and HostConfig, every field present with Docker's
// zero value, image defaults merged into Config the way dockerd merges them).
struct CreateRequest {
  Json config = Json::object();
  Json host_config = Json::object();
  Json networking_config = Json::object();
  std::vector<std::string> warnings;  // dockerd's create warnings (e.g. swap limit unsupported)
};

// Validates a create body against Docker's rules and merges the image's defaults.
// Errors: Invalid with dockerd's message for each bad field (wrong JSON type, unknown
// restart policy, bad mount spec, memory below 6MB, memory-swap below memory, cpus and
// cpu-period/quota both set, bad cpuset, bad ulimit, unknown capability, bad tmpfs
// options, conflicting options such as --rm with a restart policy...).
[[nodiscard]] Result<CreateRequest> parse_create_request(const Json& body, const ImageConfig& image);

// The files and kernel objects the engine prepared for one container, which the OCI
// spec refers to.
struct SpecPaths {
  std::string rootfs;       // the merged root filesystem (absolute)
  std::string hostname;     // the container's hostname ("" = first 12 hex of the id)
  std::string netns;        // netns path to join; "" = a new one (network mode none/default)
  std::string cgroups_path; // "silo/<id>" (runtime's cgroupsPath form)
  std::string init_path;    // the init binary bind-mounted at /sbin/docker-init for --init
  std::string hosts_file, resolv_conf, hostname_file;  // bind-mounted when non-empty
  // Named volumes resolved to host directories: volume name -> host path.
  std::map<std::string, std::string> volumes;
};

// The OCI runtime spec (config.json) for a validated request: process (args = entrypoint +
// cmd, env, cwd, user, terminal, rlimits, capabilities from Docker's default set with
// cap-add/drop, or all with privileged, no_new_privileges), root (readonly),
// hostname, mounts (Docker's default /proc /dev /dev/pts /dev/shm /dev/mqueue /sys
// /sys/fs/cgroup, tmpfs, binds and volumes), linux namespaces, resources (memory, swap,
// cpu shares/quota/period/cpuset, pids), default devices, masked and readonly paths
// (none with privileged), sysctls, seccomp (Docker's default unless privileged).
// Errors: Invalid when the user or a mount cannot be expressed.
[[nodiscard]] Result<Json> build_oci_spec(const CreateRequest& req, const std::string& id,
                                          const SpecPaths& paths);

// Docker's ContainerJSON (what GET /containers/{id}/json returns) for a stored container,
// with Mounts from the host config.
struct ContainerRecord;
[[nodiscard]] Json inspect_json(const ContainerRecord& rec, const std::string& log_path,
                                const std::string& rootfs);

}  // namespace silo::engine
