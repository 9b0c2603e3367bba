#include "daemon/pidfile.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "common/sys.h"

namespace silo::daemon {
namespace {

// The pid the holder wrote, or "unknown" when the file is still empty (it is between
// its lock and its write).
std::string holder_pid(const std::string& path) {
  auto text = sys::read_file(path);
  if (!text) return "unknown";
  std::string pid = *text;
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

Result<PidFile> PidFile::acquire(const std::string& path) {
  auto fd = sys::open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (!fd) return wrap(fd.error(), "pid file " + path);
  int rc;
  do {
    rc = ::flock(fd->get(), LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno == EWOULDBLOCK)
    return fail(Code::Conflict, "pid file " + path + " is held by a running silod (pid " +
                                    holder_pid(path) +
                                    "): stop that daemon first, or give this one its own "
                                    "--exec-root or --pidfile");
  if (rc != 0) return fail_errno(errno, "lock pid file " + path);
  if (::ftruncate(fd->get(), 0) != 0) return fail_errno(errno, "truncate pid file " + path);
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::pwrite(fd->get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    return fail_errno(errno, "write pid file " + path);
  return PidFile(path, std::move(*fd));
}

PidFile::~PidFile() {
  if (fd_.valid()) ::unlink(path_.c_str());
}

}  // namespace silo::daemon
