#pragma once
// Doing work inside a network namespace without moving the caller.

#include <functional>
#include <string>

#include "common/error.h"
#include "common/fd.h"

namespace silo::network {

// Opens a network namespace file (/run/netns/x, /proc/<pid>/ns/net) O_RDONLY|O_CLOEXEC.
// NotFound names the path.
[[nodiscard]] Result<UniqueFd> open_netns(const std::string& path);

// Runs `fn` on a helper thread that has entered the namespace `netns_fd` (setns), and
// returns its result. The calling thread never changes namespace, so a failure half
// way cannot leave it in the wrong one. Sockets `fn` opens belong to that namespace,
// and /proc/sys/net there is that namespace's.
[[nodiscard]] Status run_in_netns(int netns_fd, const std::function<Status()>& fn);

}  // namespace silo::network
