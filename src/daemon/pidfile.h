#pragma once
// silod's pid file, as dockerd's: one live daemon per file. The file is held with an
// exclusive flock(2) for the daemon's lifetime, so a crashed daemon's file never blocks a
// new one and two daemons can never both believe they own it.

#include <string>

#include "common/error.h"
#include "common/fd.h"

namespace silo::daemon {

class PidFile {
 public:
  // Creates or takes over `path` and writes our pid into it. Errors: Conflict naming the
  // pid and the file when another live process holds it; the open/lock error otherwise.
  [[nodiscard]] static Result<PidFile> acquire(const std::string& path);
  PidFile(PidFile&&) = default;
  PidFile& operator=(PidFile&&) = default;
  // Removes the file (while still holding the lock, so no successor's file is removed).
  ~PidFile();

 private:
  PidFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;
};

}  // namespace silo::daemon
