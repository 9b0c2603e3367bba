#pragma once
// The image config blob (Docker's container.image.v1 and OCI's image.config.v1, which share
// their JSON): platform, the run defaults, the layer diff_ids and the history.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/json.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/platform.h"

namespace silo::image {

struct Healthcheck {
  std::vector<std::string> test;  // ["CMD", ...], ["CMD-SHELL", "..."], ["NONE"]
  int64_t interval_ns = 0, timeout_ns = 0, start_period_ns = 0, start_interval_ns = 0;
  int retries = 0;
};

// config.* — what `docker run` uses when the command line does not say.
struct RunConfig {
  std::string user;
  std::vector<std::string> env;  // "KEY=value"
  std::vector<std::string> cmd;
  std::vector<std::string> entrypoint;
  std::string working_dir;
  std::set<std::string> exposed_ports;  // "80/tcp"
  std::set<std::string> volumes;        // "/data"
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  std::vector<std::string> shell;
  std::vector<std::string> on_build;
  std::optional<Healthcheck> healthcheck;
  bool args_escaped = false;
};

struct HistoryEntry {
  std::string created, created_by, author, comment;
  bool empty_layer = false;
};

struct ImageConfig {
  Platform platform;  // os, architecture, variant, os.version, os.features
  std::string created, author;
  RunConfig config;
  std::vector<Digest> diff_ids;  // rootfs.diff_ids, base layer first
  std::vector<HistoryEntry> history;
};

// Parses a config blob. Invalid errors name the field ("config.Env: wrong type (string)").
// rootfs.type must be "layers".
[[nodiscard]] Result<ImageConfig> parse_image_config(std::string_view body);

// config.config as Docker writes it (the inverse of the parse above): "Env", "Cmd", ...;
// empty fields are left out, ExposedPorts and Volumes are objects of empty objects.
[[nodiscard]] Json run_config_json(const RunConfig& c);

// Checks that a manifest and its config agree: one diff_id per layer.
[[nodiscard]] Status check_layers_match(const Manifest& m, const ImageConfig& c);

}  // namespace silo::image
