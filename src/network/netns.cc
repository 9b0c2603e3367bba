#include "network/netns.h"

#include <fcntl.h>
#include <sched.h>

#include <thread>

#include "common/sys.h"

namespace silo::network {

Result<UniqueFd> open_netns(const std::string& path) {
  auto fd = sys::open(path, O_RDONLY | O_CLOEXEC);
  if (!fd) return wrap(fd.error(), "open network namespace " + path);
  return fd;
}

Status run_in_netns(int netns_fd, const std::function<Status()>& fn) {
  Status result;
  // A fresh thread rather than setns-and-back on the caller: the thread ends in the
  // namespace it entered, and nothing has to be restored (setns(2) for CLONE_NEWNET is
  // allowed in a multithreaded process, unlike CLONE_NEWNS or CLONE_NEWUSER).
  std::thread worker([&] {
    if (auto r = sys::setns(netns_fd, CLONE_NEWNET); !r) {
      result = wrap(r.error(), "enter network namespace");
      return;
    }
    result = fn();
  });
  worker.join();
  return result;
}

}  // namespace silo::network
