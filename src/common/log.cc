#include "common/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace silo::log {

void init(const std::string& path, Format format, const std::string& level) {
  std::shared_ptr<spdlog::logger> logger;
  try {
    if (path.empty()) {
      logger = spdlog::stderr_logger_mt("silo");
    } else {
      logger = spdlog::basic_logger_mt("silo", path);
    }
  } catch (const spdlog::spdlog_ex&) {
    // An unwritable log path must not stop the program: fall back to stderr.
    logger = spdlog::stderr_logger_mt("silo-fallback");
  }
  if (format == Format::Json) {
    logger->set_pattern(R"({"level":"%l","msg":"%v","time":"%Y-%m-%dT%H:%M:%S.%fZ"})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace silo::log
