// Child side: the container's root filesystem. Runs between clone() and execve(), so it
// only reads the plan and makes system calls (see init.h).
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "common/sys.h"
#include "runtime/init_internal.h"

namespace silo::runtime::child {

namespace {

// Opens (O_PATH) `path` inside the root at `rootfd`, resolving symlinks as if rootfd were
// "/" (openat2 RESOLVE_IN_ROOT), so an image's symlink cannot point a mount outside its
// root. Missing components are created as directories; the last one as a directory or,
// with `file`, an empty file. Returns the fd or -errno.
int open_in_root(int rootfd, const char* path, bool create, bool file) noexcept {
  constexpr unsigned long long kResolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd = sys::raw_openat2(rootfd, path, O_PATH | O_CLOEXEC, kResolve);
  if (fd >= 0 || fd != -ENOENT || !create) return fd;
  char buf[PATH_MAX];
  size_t len = std::strlen(path);
  if (len >= sizeof buf) return -ENAMETOOLONG;
  std::memcpy(buf, path, len + 1);
  // Walk the components, creating what is missing.
  for (char* p = buf + 1;; ++p) {
    bool last = (*p == '\0');
    if (*p != '/' && !last) continue;
    char saved = *p;
    *p = '\0';
    int probe = sys::raw_openat2(rootfd, buf, O_PATH | O_CLOEXEC, kResolve);
    if (probe == -ENOENT) {
      char* slash = std::strrchr(buf, '/');
      const char* name = slash + 1;
      int parent;
      if (slash == buf) {
        parent = sys::raw_openat2(rootfd, "/", O_PATH | O_CLOEXEC, kResolve);
      } else {
        *slash = '\0';
        parent = sys::raw_openat2(rootfd, buf, O_PATH | O_CLOEXEC, kResolve);
        *slash = '/';
      }
      if (parent < 0) return parent;
      int r;
      if (last && file) {
        r = ::openat(parent, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (r >= 0) ::close(r);
      } else {
        r = ::mkdirat(parent, name, 0755);
      }
      int err = errno;
      ::close(parent);
      if (r < 0 && err != EEXIST) return -err;
      probe = sys::raw_openat2(rootfd, buf, O_PATH | O_CLOEXEC, kResolve);
    }
    if (probe < 0) return probe;
    if (last) return probe;
    ::close(probe);
    *p = saved;
  }
}

// Flags a remount inside a user namespace must keep (the kernel refuses to clear locked ones).
unsigned long locked_flags(const char* path) noexcept {
  struct statvfs sv;
  if (::statvfs(path, &sv) != 0) return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
  return f;
}

struct FdPath {
  char buf[64];
  explicit FdPath(int fd) { std::snprintf(buf, sizeof buf, "/proc/self/fd/%d", fd); }
};

// Errors name the host path (<rootfs><target>), as the user sees it from outside.
bool do_mount(int rootfd, const char* rootfs, const MountOp& op) noexcept {
  int fd = open_in_root(rootfd, op.target.c_str(), true, op.source_is_file);
  if (fd < 0) return fail(-fd, "create mount point %s%s", rootfs, op.target.c_str());
  FdPath target(fd);
  bool ok = true;
  const char* data = op.data.empty() ? nullptr : op.data.c_str();
  const char* fstype = op.fstype.empty() ? nullptr : op.fstype.c_str();
  if (::mount(op.source.c_str(), target.buf, fstype, op.flags, data) != 0) {
    int err = errno;
    // sysfs can only be mounted by the owner of the network namespace; without one of
    // our own (host network), fall back to a read-only recursive bind of /sys as runc does.
    if (op.sysfs_fallback && (err == EPERM || err == EBUSY) &&
        ::mount("/sys", target.buf, nullptr, MS_BIND | MS_REC, nullptr) == 0) {
      ::mount(nullptr, target.buf, nullptr,
              MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(target.buf), nullptr);
    } else {
      ok = fail(err, "mount %s on %s%s (type %s)", op.source.c_str(), rootfs, op.target.c_str(),
                fstype ? fstype : "bind");
    }
  }
  if (ok && (op.remount_flags || op.propagation)) {
    // Re-open: the mount went on top of the path; the old fd still names what is below it.
    ::close(fd);
    fd = open_in_root(rootfd, op.target.c_str(), false, false);
    if (fd < 0) return fail(-fd, "open mount point %s%s", rootfs, op.target.c_str());
    FdPath top(fd);
    if (op.remount_flags) {
      unsigned long flags = op.remount_flags | (locked_flags(top.buf) & ~MS_RDONLY);
      if (::mount(nullptr, top.buf, nullptr, flags, nullptr) != 0)
        ok = fail(errno, "remount %s%s with its options", rootfs, op.target.c_str());
    }
    if (ok && op.propagation && ::mount(nullptr, top.buf, nullptr, op.propagation, nullptr) != 0)
      ok = fail(errno, "set propagation of %s%s", rootfs, op.target.c_str());
  }
  ::close(fd);
  return ok;
}

struct DefaultDevice {
  const char* path;
  unsigned major, minor;
};
constexpr DefaultDevice kDefaultDevices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

// mknod, or — where that is not allowed (a user namespace) — a bind of the host's node.
bool make_device(int rootfd, const char* path, mode_t mode, dev_t dev, uid_t uid, gid_t gid,
                 bool in_userns) noexcept {
  if (!in_userns) {
    const char* slash = std::strrchr(path, '/');
    char dir[PATH_MAX];
    size_t n = static_cast<size_t>(slash - path);
    if (n == 0 || n >= sizeof dir) return fail(EINVAL, "device path %s", path);
    std::memcpy(dir, path, n);
    dir[n] = '\0';
    int dfd = open_in_root(rootfd, dir, true, false);
    if (dfd < 0) return fail(-dfd, "create %s", dir);
    // O_PATH dir fds work as the dirfd of *at calls; reopen to be sure mknodat gets a real dir.
    FdPath dp(dfd);
    int real = ::open(dp.buf, O_DIRECTORY | O_CLOEXEC);
    ::close(dfd);
    if (real < 0) return fail(errno, "open %s", dir);
    ::unlinkat(real, slash + 1, 0);
    int r = ::mknodat(real, slash + 1, mode, dev);
    int err = errno;
    if (r == 0) {
      // mknod applies the umask; the config's fileMode is the mode the node must have.
      ::fchmodat(real, slash + 1, mode & 07777, 0);
      ::fchownat(real, slash + 1, uid, gid, AT_SYMLINK_NOFOLLOW);
    }
    ::close(real);
    if (r == 0) return true;
    if (err != EPERM) return fail(err, "mknod %s", path);
  }
  int fd = open_in_root(rootfd, path, true, true);
  if (fd < 0) return fail(-fd, "create %s", path);
  FdPath target(fd);
  bool ok = ::mount(path, target.buf, nullptr, MS_BIND, nullptr) == 0 ||
            fail(errno, "bind host device %s", path);
  ::close(fd);
  return ok;
}

bool populate_dev(const InitPlan& plan, int rootfd) noexcept {
  for (const auto& d : kDefaultDevices) {
    if (!make_device(rootfd, d.path, S_IFCHR | 0666, makedev(d.major, d.minor), 0, 0,
                     plan.new_user))
      return false;
  }
  struct Link {
    const char* target;
    const char* path;
  };
  constexpr Link kLinks[] = {{"/proc/self/fd", "dev/fd"},
                             {"/proc/self/fd/0", "dev/stdin"},
                             {"/proc/self/fd/1", "dev/stdout"},
                             {"/proc/self/fd/2", "dev/stderr"},
                             {"pts/ptmx", "dev/ptmx"}};
  int dev = open_in_root(rootfd, "/dev", false, false);
  if (dev < 0) return fail(-dev, "open /dev");
  FdPath dp(dev);
  int real = ::open(dp.buf, O_DIRECTORY | O_CLOEXEC);
  ::close(dev);
  if (real < 0) return fail(errno, "open /dev");
  for (const auto& l : kLinks) {
    const char* name = l.path + 4;
    ::unlinkat(real, name, 0);
    if (::symlinkat(l.target, real, name) != 0 && errno != EEXIST) {
      int err = errno;
      ::close(real);
      return fail(err, "symlink /%s", l.path);
    }
  }
  ::close(real);
  return true;
}

bool pivot(const InitPlan& plan) noexcept {
  if (::chdir(plan.rootfs.c_str()) != 0) return fail(errno, "chdir %s", plan.rootfs.c_str());
  int r = sys::raw_pivot_root(".", ".");
  if (r == -EINVAL) {
    // pivot_root(2) refuses the initramfs root ("rootfs"); move the tree over "/" and chroot.
    if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0)
      return fail(errno, "move %s to /", plan.rootfs.c_str());
    if (::chroot(".") != 0) return fail(errno, "chroot %s", plan.rootfs.c_str());
    return ::chdir("/") == 0 || fail(errno, "chdir /");
  }
  if (r != 0) return fail(-r, "pivot_root %s", plan.rootfs.c_str());
  // The old root is now stacked on top of "/": detach it. Make it a slave first so the
  // unmount cannot propagate back to the host (pivot_root(2), NOTES).
  if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0)
    return fail(errno, "make old root a slave");
  if (::umount2(".", MNT_DETACH) != 0) return fail(errno, "detach the old root");
  return ::chdir("/") == 0 || fail(errno, "chdir /");
}

}  // namespace

bool setup_rootfs(const InitPlan& plan, const char* state, size_t state_len) noexcept {
  unsigned long prop = plan.root_propagation ? plan.root_propagation : (MS_SLAVE | MS_REC);
  // Shared propagation is applied at the end: pivot_root needs a non-shared parent.
  if (prop & MS_SHARED) prop = MS_SLAVE | MS_REC;
  if (::mount(nullptr, "/", nullptr, prop, nullptr) != 0)
    return fail(errno, "set propagation of /");
  if (::mount(plan.rootfs.c_str(), plan.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    return fail(errno, "bind %s onto itself", plan.rootfs.c_str());
  int rootfd = ::open(plan.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return fail(errno, "open %s", plan.rootfs.c_str());
  bool ok = true;
  for (const auto& m : plan.mounts) {
    if (!(ok = do_mount(rootfd, plan.rootfs.c_str(), m))) break;
  }
  if (ok && plan.populate_dev) ok = populate_dev(plan, rootfd);
  for (size_t i = 0; ok && i < plan.devices.size(); ++i) {
    const auto& d = plan.devices[i];
    ok = make_device(rootfd, d.path.c_str(), d.mode, d.dev, d.uid, d.gid, plan.new_user);
  }
  ::close(rootfd);
  if (!ok) return false;
  if (plan.wait_for_runtime_hooks) {
    SyncHeader h{kSyncHooks, 0};
    if (::write(plan.sync_fd, &h, sizeof h) != sizeof h)
      return fail(errno, "ask for createRuntime hooks");
    SyncHeader reply{};
    if (::read(plan.sync_fd, &reply, sizeof reply) < static_cast<ssize_t>(sizeof reply) ||
        reply.type != kSyncHooksDone)
      return fail(ECANCELED, "wait for createRuntime hooks");
  }
  if (!run_child_hooks(plan.create_container_hooks, "createContainer", state, state_len))
    return false;
  return pivot(plan);
}

bool finish_rootfs(const InitPlan& plan) noexcept {
  for (const auto& [path, value] : plan.sysctls) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno, "sysctl %s", path.c_str());
    ssize_t n = ::write(fd, value.data(), value.size());
    int err = errno;
    ::close(fd);
    if (n < 0) return fail(err, "sysctl %s = %s", path.c_str(), value.c_str());
  }
  for (const auto& p : plan.readonly_paths) {
    const char* path = p.c_str();
    if (::mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      if (errno == ENOENT) continue;
      return fail(errno, "bind read-only path %s", path);
    }
    if (::mount(nullptr, path, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(path),
                nullptr) != 0)
      return fail(errno, "remount %s read-only", path);
  }
  for (const auto& p : plan.masked_paths) {
    const char* path = p.c_str();
    struct stat st;
    if (::stat(path, &st) != 0) {
      if (errno == ENOENT) continue;
      return fail(errno, "stat masked path %s", path);
    }
    int r = S_ISDIR(st.st_mode) ? ::mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k")
                                : ::mount("/dev/null", path, nullptr, MS_BIND, nullptr);
    if (r != 0) return fail(errno, "mask %s", path);
  }
  if (plan.readonly_root &&
      ::mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/"),
              nullptr) != 0)
    return fail(errno, "remount / read-only");
  if (plan.final_propagation &&
      ::mount(nullptr, "/", nullptr, plan.final_propagation, nullptr) != 0)
    return fail(errno, "set propagation of /");
  return true;
}

}  // namespace silo::runtime::child
