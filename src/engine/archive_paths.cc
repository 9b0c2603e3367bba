// Paths inside a container's root: resolution that cannot escape it, and dockerd's stat.

#include <fcntl.h>
#include <linux/openat2.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "common/sys.h"
#include "engine/archive.h"

namespace silo::engine {

namespace archive_internal {

Result<UniqueFd> open_root(const std::string& rootfs) {
  auto fd = sys::open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (!fd) return wrap(fd.error(), "open container root " + rootfs);
  return fd;
}

Result<UniqueFd> open_in_root(int root, const std::string& path, int flags) {
  std::string rel = path.empty() ? "." : path;
  for (int attempt = 0;; ++attempt) {
    // RESOLVE_IN_ROOT makes "/" and ".." stop at `root` and resolves absolute symlinks
    // against it, so whatever the container put in its filesystem, the result is inside
    // (openat2(2), Linux 5.6). EAGAIN means a concurrent rename; the kernel asks to retry.
    int fd = sys::raw_openat2(root, rel.c_str(), static_cast<unsigned>(flags) | O_CLOEXEC,
                              RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd >= 0) return UniqueFd(fd);
    if ((fd == -EAGAIN || fd == -EINTR) && attempt < 16) continue;
    return fail_errno(-fd, "open " + path + " in the container");
  }
}

void split_path(std::string_view abs, std::string& dir, std::string& base) {
  size_t slash = abs.rfind('/');
  if (slash == std::string_view::npos) {
    dir = "/";
    base = std::string(abs);
    return;
  }
  dir = std::string(abs.substr(0, slash + 1));
  base = std::string(abs.substr(slash + 1));
}

std::string clean_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::string_view rest = path;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    auto part = rest.substr(0, slash);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  std::string out;
  for (auto p : parts) out += "/" + std::string(p);
  if (out.empty()) out = "/";
  // dockerd keeps a trailing "/." or "/" so "copy the contents" and "must be a
  // directory" survive the cleaning.
  if (out != "/") {
    if (path.ends_with("/."))
      out += "/.";
    else if (path.ends_with("/"))
      out += "/";
  }
  return out;
}

}  // namespace archive_internal

using namespace archive_internal;

uint32_t go_file_mode(mode_t m) {
  // Go's os.FileMode bits (io/fs): ModeDir 1<<31, ModeSymlink 1<<27, ModeDevice 1<<26,
  // ModeNamedPipe 1<<25, ModeSocket 1<<24, ModeSetuid 1<<23, ModeSetgid 1<<22,
  // ModeCharDevice 1<<21, ModeSticky 1<<20.
  uint32_t out = m & 0777;
  switch (m & S_IFMT) {
    case S_IFDIR:
      out |= 1u << 31;
      break;
    case S_IFLNK:
      out |= 1u << 27;
      break;
    case S_IFBLK:
      out |= 1u << 26;
      break;
    case S_IFCHR:
      out |= (1u << 26) | (1u << 21);
      break;
    case S_IFIFO:
      out |= 1u << 25;
      break;
    case S_IFSOCK:
      out |= 1u << 24;
      break;
    default:
      break;
  }
  if (m & S_ISUID) out |= 1u << 23;
  if (m & S_ISGID) out |= 1u << 22;
  if (m & S_ISVTX) out |= 1u << 20;
  return out;
}

Json path_stat_json(const PathStat& st) {
  return {{"name", st.name},
          {"size", st.size},
          {"mode", st.mode},
          {"mtime", st.mtime},
          {"linkTarget", st.link_target}};
}

std::string path_base(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/" || path.empty()) return "/";
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

namespace {

std::string rfc3339(const timespec& ts) {
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec);
  return buf;
}

// Where a symlink finally leads, as an absolute path inside the root (dockerd's
// FollowSymlinkInScope made relative to the root).
std::string link_target(int root, const std::string& rootfs, const std::string& abs, int parent,
                        const std::string& base) {
  if (auto fd = open_in_root(root, abs, O_PATH)) {
    char buf[4096];
    std::string proc = "/proc/self/fd/" + std::to_string(fd->get());
    ssize_t n = ::readlink(proc.c_str(), buf, sizeof buf);
    std::string host(buf, n > 0 ? static_cast<size_t>(n) : 0);
    char* real = ::realpath(rootfs.c_str(), nullptr);  // the kernel reports resolved paths
    std::string top = real ? real : rootfs;
    ::free(real);
    if (host == top) return "/";
    if (host.starts_with(top + "/")) return host.substr(top.size());
  }
  // Dangling: report the link's own text, made absolute against its directory.
  char buf[4096];
  ssize_t n = ::readlinkat(parent, base.c_str(), buf, sizeof buf);
  std::string text(buf, n > 0 ? static_cast<size_t>(n) : 0);
  if (text.starts_with("/")) return clean_path(text);
  std::string dir, ignored;
  split_path(abs, dir, ignored);
  return clean_path(dir + text);
}

}  // namespace

Result<Located> archive_internal::locate(const std::string& rootfs, std::string_view path) {
  Located l;
  auto root = open_root(rootfs);
  if (!root) return std::unexpected(root.error());
  l.root = std::move(*root);
  l.abs = clean_path(std::string("/") + std::string(path));
  std::string dir;
  split_path(l.abs, dir, l.base);
  auto parent = open_in_root(l.root.get(), dir, O_PATH | O_DIRECTORY);
  if (!parent) return fail(Code::NotFound, "no such file " + l.abs);
  l.parent = std::move(*parent);
  const char* name = l.base.empty() ? "" : l.base.c_str();
  if (::fstatat(l.parent.get(), name, &l.st, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) return fail(Code::NotFound, "no such file " + l.abs);
    return fail_errno(err, "stat " + l.abs + " in the container");
  }
  return l;
}

Result<PathStat> stat_in_root(const std::string& rootfs, std::string_view path) {
  auto loc = locate(rootfs, path);
  if (!loc) return std::unexpected(loc.error());
  const std::string& abs = loc->abs;
  const struct stat& st = loc->st;
  PathStat out{.name = path_base(abs),
               .size = static_cast<int64_t>(st.st_size),
               .mode = go_file_mode(st.st_mode),
               .mtime = rfc3339(st.st_mtim),
               .link_target = {}};
  if (S_ISLNK(st.st_mode))
    out.link_target = link_target(loc->root.get(), rootfs, abs, loc->parent.get(), loc->base);
  return out;
}

}  // namespace silo::engine
