#pragma once
// silod's configuration: built-in defaults, then /etc/silo/daemon.json (dockerd's keys),
// then command-line flags (a key may come from only one of the two). Unknown keys and wrong types
// are errors naming the key and the file, as dockerd reports them.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace silo::engine {

// Where silod looks for its configuration when --config-file is not given.
inline constexpr std::string_view kDefaultConfigFile = "/etc/silo/daemon.json";

// One default-ulimits entry ({"Name": "nofile", "Soft": 1024, "Hard": 4096}).
struct Ulimit {
  std::string name;
  int64_t soft = 0;
  int64_t hard = 0;
};

struct DaemonConfig {
  std::string root = "/var/lib/silo";   // "data-root" (alias "root")
  std::string exec_root = "/run/silo";  // "exec-root"
  std::vector<std::string> hosts = {"unix:///run/silo/silo.sock"};
  std::string log_level = "info";               // debug, info, warn, error, fatal
  std::string log_driver = "json-file";         // default for containers
  std::map<std::string, std::string> log_opts;  // "max-size": "10m", "max-file": "3"
  std::string storage_driver = "overlay2";
  std::map<std::string, Ulimit> default_ulimits;
  std::string bridge;      // "none": no default network
  std::string fixed_cidr;  // "172.17.0.0/16"
  std::vector<std::string> insecure_registries;
  std::vector<std::string> registry_mirrors;
  bool live_restore = true;  // Silo's default, unlike dockerd
  std::string default_runtime = "silo";
  std::string config_file;  // the file read; empty when none

  // Paths derived from root and exec_root (DESIGN.md "State").
  std::string db_path() const { return root + "/silo.db"; }
  std::string containers_dir() const { return root + "/containers"; }
  std::string volumes_dir() const { return root + "/volumes"; }
  std::string blobs_dir() const { return root + "/blobs"; }
  std::string layers_dir() const { return root + "/layers"; }
  std::string run_dir() const { return exec_root; }
  std::string shims_dir() const { return exec_root + "/shims"; }
  std::string netns_dir() const { return exec_root + "/netns"; }

  // json-file's max-size in bytes (decimal units, as dockerd), -1 when unlimited.
  int64_t log_max_size() const;
  // json-file's max-file, 1 when unset.
  int64_t log_max_file() const;
};

// Applies the keys of a daemon.json object onto `cfg`. `source` names where it came from
// for messages (a file path, or "flags"). Errors: Invalid, "unable to configure the Silo
// daemon with file <source>: ...", naming every unknown key or the mistyped one.
[[nodiscard]] Status apply_daemon_json(DaemonConfig& cfg, const Json& doc, std::string_view source);
// Cross-field checks after all sources are applied (absolute paths, log options, CIDR).
[[nodiscard]] Status validate_config(const DaemonConfig& cfg);
// Defaults, then the file at `path` (a missing file is an error only when `required`,
// i.e. it was named on the command line), then `overrides` (daemon.json keys from flags).
// A key both in the file and in `overrides` is an error, as in dockerd.
[[nodiscard]] Result<DaemonConfig> load_daemon_config(const std::string& path, bool required,
                                                      const Json& overrides = Json::object());

}  // namespace silo::engine
