#pragma once
// silo::sys — one thin wrapper per system call, retrying EINTR, returning Result.
// Nothing outside this file calls ::syscall directly.
//
// The `raw_*` functions are for code that runs between clone() and execve(): they
// never allocate and return 0 or -errno.

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace silo::sys {

[[nodiscard]] Result<UniqueFd> open(const std::string& path, int flags, mode_t mode = 0);
[[nodiscard]] Result<UniqueFd> openat(int dirfd, const std::string& path, int flags,
                                      mode_t mode = 0);
// Reads the whole file (small files: /proc, /sys, config.json).
[[nodiscard]] Result<std::string> read_file(const std::string& path);
// Writes `data` to an existing file (O_WRONLY|O_TRUNC unless `append`); no create.
[[nodiscard]] Status write_file(const std::string& path, std::string_view data);
// Creates or replaces `path` atomically (write to a temp file, fsync-free rename).
[[nodiscard]] Status write_file_atomic(const std::string& path, std::string_view data,
                                       mode_t mode = 0644);
[[nodiscard]] Status mkdir_p(const std::string& path, mode_t mode = 0755);
// Removes a directory tree; missing paths are not an error. Does not cross mount points.
[[nodiscard]] Status remove_all(const std::string& path);
[[nodiscard]] Status mount(const std::string& source, const std::string& target,
                           const std::string& fstype, unsigned long flags,
                           const std::string& data = {});
[[nodiscard]] Status umount2(const std::string& target, int flags);
[[nodiscard]] Result<std::pair<UniqueFd, UniqueFd>> pipe2(int flags);
[[nodiscard]] Result<std::pair<UniqueFd, UniqueFd>> socketpair(int domain, int type);
[[nodiscard]] Status setns(int fd, int nstype);
[[nodiscard]] Status unshare(int flags);
[[nodiscard]] Status kill(pid_t pid, int sig);
// pidfd_open(2) (Linux 5.3): an fd that becomes readable when `pid` exits; works for
// processes that are not our children. O_CLOEXEC is implied. NotFound when pid is gone.
[[nodiscard]] Result<UniqueFd> pidfd_open(pid_t pid);
// waitpid() retrying EINTR; returns the raw wait status.
[[nodiscard]] Result<int> waitpid(pid_t pid, int options);
[[nodiscard]] Status write_all(int fd, const void* data, size_t len);
// Reads exactly `len` bytes unless EOF comes first; returns the count read.
[[nodiscard]] Result<size_t> read_full(int fd, void* data, size_t len);
bool path_exists(const std::string& path);
bool is_directory(const std::string& path);

// Connects a SOCK_STREAM unix socket to `path`; `what` names it in errors
// ("connect to console socket /run/x.sock: ENOENT ...").
[[nodiscard]] Result<UniqueFd> connect_unix(const std::string& path,
                                            const std::string& what = "socket");

// Sends / receives one fd over a unix socket with SCM_RIGHTS.
[[nodiscard]] Status send_fd(int sock, int fd);
[[nodiscard]] Result<UniqueFd> recv_fd(int sock);

// --- allocation-free calls for the child between clone() and execve() ---
int raw_pivot_root(const char* new_root, const char* put_old) noexcept;
int raw_close_range(unsigned first, unsigned last, unsigned flags) noexcept;
int raw_seccomp_set_filter(unsigned flags, const void* prog) noexcept;
int raw_capset(const void* header, const void* data) noexcept;
int raw_capget(void* header, void* data) noexcept;
pid_t raw_clone(
    unsigned long flags) noexcept;  // fork-like clone (no CLONE_VM), returns pid/0/-errno
pid_t raw_gettid() noexcept;
// send_fd without allocating: 0 or -errno.
int raw_send_fd(int sock, int fd) noexcept;
// openat2(2) with RESOLVE_* flags; returns an fd or -errno.
int raw_openat2(int dirfd, const char* path, unsigned long long flags,
                unsigned long long resolve) noexcept;

}  // namespace silo::sys
