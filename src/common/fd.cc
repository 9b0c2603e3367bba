#include "common/fd.h"

#include <unistd.h>

namespace silo {

void UniqueFd::reset(int fd) {
  // close() is not retried on EINTR: on Linux the fd is released either way.
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

}  // namespace silo
