#pragma once
// Logging through spdlog. Programs call init_logging once; libraries just log.

#include <spdlog/spdlog.h>

#include <string>

namespace silo::log {

enum class Format { Text, Json };

// Sends log lines to `path` (stderr when empty) at `level` ("debug", "info", "warn", "error").
// Json writes one {"level","msg","time"} object per line, as runc's --log-format json does.
void init(const std::string& path, Format format, const std::string& level = "info");

}  // namespace silo::log
