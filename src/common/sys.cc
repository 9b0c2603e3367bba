#include "common/sys.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace silo::sys {

namespace {
template <class F>
auto retry(F f) {
  decltype(f()) r;
  do {
    r = f();
  } while (r < 0 && errno == EINTR);
  return r;
}
}  // namespace

Result<UniqueFd> open(const std::string& path, int flags, mode_t mode) {
  int fd = retry([&] { return ::open(path.c_str(), flags | O_CLOEXEC, mode); });
  if (fd < 0) return fail_errno(errno, "open " + path);
  return UniqueFd(fd);
}

Result<UniqueFd> openat(int dirfd, const std::string& path, int flags, mode_t mode) {
  int fd = retry([&] { return ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode); });
  if (fd < 0) return fail_errno(errno, "open " + path);
  return UniqueFd(fd);
}

Result<std::string> read_file(const std::string& path) {
  auto fd = open(path, O_RDONLY);
  if (!fd) return std::unexpected(fd.error());
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = retry([&] { return ::read(fd->get(), buf, sizeof buf); });
    if (n < 0) return fail_errno(errno, "read " + path);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status write_file(const std::string& path, std::string_view data) {
  auto fd = open(path, O_WRONLY | O_TRUNC);
  if (!fd) return std::unexpected(fd.error());
  if (auto w = write_all(fd->get(), data.data(), data.size()); !w)
    return wrap(w.error(), "write " + path);
  return {};
}

Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    auto fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (!fd) return std::unexpected(fd.error());
    if (auto w = write_all(fd->get(), data.data(), data.size()); !w)
      return wrap(w.error(), "write " + tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return fail_errno(err, "rename " + tmp + " to " + path);
  }
  return {};
}

Status mkdir_p(const std::string& path, mode_t mode) {
  if (path.empty()) return {};
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string part = path.substr(0, pos);
    if (part.empty()) continue;
    if (::mkdir(part.c_str(), mode) < 0 && errno != EEXIST)
      return fail_errno(errno, "mkdir " + part);
  }
  if (!is_directory(path))
    return fail(Code::Invalid, "mkdir " + path + ": exists and is not a directory");
  return {};
}

namespace {
Status remove_tree_at(int dirfd, const std::string& name, const std::string& shown, dev_t dev) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return {};
    return fail_errno(errno, "stat " + shown);
  }
  if (S_ISDIR(st.st_mode)) {
    if (st.st_dev != dev)
      return fail(Code::Conflict,
                  "remove " + shown + ": a mount point is still attached; unmount it first");
    auto fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!fd) return std::unexpected(fd.error());
    DIR* d = ::fdopendir(fd->release());
    if (!d) return fail_errno(errno, "opendir " + shown);
    std::vector<std::string> names;
    while (auto* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
        names.emplace_back(e->d_name);
    }
    int inner = ::dirfd(d);
    for (const auto& n : names) {
      if (auto r = remove_tree_at(inner, n, shown + "/" + n, dev); !r) {
        ::closedir(d);
        return r;
      }
    }
    ::closedir(d);
    if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
      return fail_errno(errno, "rmdir " + shown);
    return {};
  }
  if (::unlinkat(dirfd, name.c_str(), 0) < 0 && errno != ENOENT)
    return fail_errno(errno, "unlink " + shown);
  return {};
}
}  // namespace

Status remove_all(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) < 0)
    return errno == ENOENT ? Status{} : fail_errno(errno, "stat " + path);
  return remove_tree_at(AT_FDCWD, path, path, st.st_dev);
}

Status mount(const std::string& source, const std::string& target, const std::string& fstype,
             unsigned long flags, const std::string& data) {
  if (::mount(source.empty() ? nullptr : source.c_str(), target.c_str(),
              fstype.empty() ? nullptr : fstype.c_str(), flags,
              data.empty() ? nullptr : data.c_str()) < 0)
    return fail_errno(errno, "mount " + (source.empty() ? fstype : source) + " on " + target);
  return {};
}

Status umount2(const std::string& target, int flags) {
  if (::umount2(target.c_str(), flags) < 0) return fail_errno(errno, "umount " + target);
  return {};
}

Result<std::pair<UniqueFd, UniqueFd>> pipe2(int flags) {
  int p[2];
  if (::pipe2(p, flags | O_CLOEXEC) < 0) return fail_errno(errno, "pipe2");
  return std::pair{UniqueFd(p[0]), UniqueFd(p[1])};
}

Result<std::pair<UniqueFd, UniqueFd>> socketpair(int domain, int type) {
  int p[2];
  if (::socketpair(domain, type | SOCK_CLOEXEC, 0, p) < 0) return fail_errno(errno, "socketpair");
  return std::pair{UniqueFd(p[0]), UniqueFd(p[1])};
}

Status setns(int fd, int nstype) {
  if (::setns(fd, nstype) < 0) return fail_errno(errno, "setns");
  return {};
}

Status unshare(int flags) {
  if (::unshare(flags) < 0) return fail_errno(errno, "unshare");
  return {};
}

Status kill(pid_t pid, int sig) {
  if (::kill(pid, sig) < 0) return fail_errno(errno, "kill " + std::to_string(pid));
  return {};
}

Result<UniqueFd> pidfd_open(pid_t pid) {
  long r = ::syscall(SYS_pidfd_open, pid, 0);
  if (r < 0) return fail_errno(errno, "pidfd_open " + std::to_string(pid));
  return UniqueFd(static_cast<int>(r));
}

Result<int> waitpid(pid_t pid, int options) {
  int status = 0;
  pid_t r = retry([&] { return ::waitpid(pid, &status, options); });
  if (r < 0) return fail_errno(errno, "waitpid " + std::to_string(pid));
  if (r == 0) return fail(Code::Unavailable, "waitpid: still running");
  return status;
}

Status write_all(int fd, const void* data, size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = retry([&] { return ::write(fd, p, len); });
    if (n < 0) return fail_errno(errno, "write");
    p += n;
    len -= static_cast<size_t>(n);
  }
  return {};
}

Result<size_t> read_full(int fd, void* data, size_t len) {
  char* p = static_cast<char*>(data);
  size_t got = 0;
  while (got < len) {
    ssize_t n = retry([&] { return ::read(fd, p + got, len - got); });
    if (n < 0) return fail_errno(errno, "read");
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return got;
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

int raw_send_fd(int sock, int fd) noexcept {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctrl;
  msg.msg_controllen = sizeof ctrl;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t r;
  do {
    r = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : 0;
}

Status send_fd(int sock, int fd) {
  if (int r = raw_send_fd(sock, fd); r < 0) return fail_errno(-r, "sendmsg");
  return {};
}

Result<UniqueFd> connect_unix(const std::string& path, const std::string& what) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno(errno, what);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return fail(Code::Invalid, what + " path " + path + " is too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return fail_errno(errno, "connect to " + what + " " + path);
  return fd;
}

Result<UniqueFd> recv_fd(int sock) {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctrl;
  msg.msg_controllen = sizeof ctrl;
  if (retry([&] { return ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); }) < 0)
    return fail_errno(errno, "recvmsg");
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS)
    return fail(Code::Invalid, "recvmsg: no file descriptor received");
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
  return UniqueFd(fd);
}

int raw_pivot_root(const char* new_root, const char* put_old) noexcept {
  return ::syscall(SYS_pivot_root, new_root, put_old) < 0 ? -errno : 0;
}

int raw_close_range(unsigned first, unsigned last, unsigned flags) noexcept {
  return ::syscall(SYS_close_range, first, last, flags) < 0 ? -errno : 0;
}

int raw_seccomp_set_filter(unsigned flags, const void* prog) noexcept {
  // SECCOMP_SET_MODE_FILTER == 1
  return ::syscall(SYS_seccomp, 1, flags, prog) < 0 ? -errno : 0;
}

int raw_capset(const void* header, const void* data) noexcept {
  return ::syscall(SYS_capset, header, data) < 0 ? -errno : 0;
}

int raw_capget(void* header, void* data) noexcept {
  return ::syscall(SYS_capget, header, data) < 0 ? -errno : 0;
}

pid_t raw_clone(unsigned long flags) noexcept {
  // Fork semantics (no CLONE_VM, child continues on a copy of the parent's stack), so
  // the raw syscall is safe here; glibc's clone() wrapper would need a separate stack.
  long r = ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  return r < 0 ? -errno : static_cast<pid_t>(r);
}

pid_t raw_gettid() noexcept {
  return static_cast<pid_t>(::syscall(SYS_gettid));
}

int raw_openat2(int dirfd, const char* path, unsigned long long flags,
                unsigned long long resolve) noexcept {
  // glibc 2.36 has no openat2() wrapper. struct open_how: flags, mode, resolve.
  struct {
    unsigned long long flags, mode, resolve;
  } how{flags, 0, resolve};
  long r = ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  return r < 0 ? -errno : static_cast<int>(r);
}

}  // namespace silo::sys
