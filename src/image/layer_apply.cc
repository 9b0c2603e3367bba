#include "image/layer_apply.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "common/sha256.h"
#include "common/sys.h"

// libarchive reads the tar; its archive_write_disk is not used because it resolves paths by
// name (a symlink swapped in mid-extraction could redirect it) and knows nothing of
// whiteouts. Files are created here with *at() calls on directories that openat2 resolved
// inside the layer root.

namespace silo::image {

namespace {

using Path = std::vector<std::string>;

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr unsigned long long kResolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

std::string join(const Path& p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n && i < p.size(); ++i) s += (i ? "/" : "") + p[i];
  return s.empty() ? "." : s;
}

// Cleans a tar name lexically as Docker does (filepath.Clean; a leading "/" is relative to
// the layer root). A ".." that climbs above the root is refused, not clamped.
Result<Path> clean(std::string_view name) {
  Path out;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    std::string_view c = name.substr(start, slash - start);
    if (c == "..") {
      if (out.empty()) return fail(Code::Invalid, "path leaves the layer root; refusing the layer");
      out.pop_back();
    } else if (!c.empty() && c != ".") {
      out.emplace_back(c);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

Result<UniqueFd> resolve(int rootfd, const std::string& path, int flags) {
  for (int attempt = 0;; ++attempt) {
    int fd = sys::raw_openat2(rootfd, path.c_str(), flags | O_CLOEXEC, kResolve);
    if (fd >= 0) return UniqueFd(fd);
    // EAGAIN: a rename raced the lookup (openat2(2)); EINTR: a signal.
    if ((fd == -EAGAIN || fd == -EINTR) && attempt < 16) continue;
    if (fd == -ENOSYS)
      return fail(Code::Unavailable,
                  "openat2 is missing (Linux >= 5.6 is needed to unpack layers)");
    return fail_errno(-fd, "resolve " + path + " in the layer root");
  }
}

// The directory holding `p`'s last component, created (0755) where missing.
Result<UniqueFd> parent_dir(int rootfd, const Path& p) {
  UniqueFd dir = UniqueFd(::fcntl(rootfd, F_DUPFD_CLOEXEC, 0));
  for (size_t i = 1; i < p.size(); ++i) {
    auto next = resolve(rootfd, join(p, i), O_PATH | O_DIRECTORY);
    if (!next && next.error().sys_errno == ENOENT) {
      if (::mkdirat(dir.get(), p[i - 1].c_str(), 0755) != 0 && errno != EEXIST)
        return fail_errno(errno, "create directory " + join(p, i));
      next = resolve(rootfd, join(p, i), O_PATH | O_DIRECTORY);
      if (!next && next.error().sys_errno == ENOENT)
        return fail(Code::Invalid, join(p, i) +
                                       " is a symlink to a directory the layer does not have; "
                                       "refusing the layer");
    }
    if (!next) return std::unexpected(next.error());
    dir = std::move(*next);
  }
  return dir;
}

// Removes `name` under `dirfd` and, for a directory, all below it, never following a symlink.
// By hand: sys::remove_all takes a path, which a symlink in the layer could redirect.
Status remove_at(int dirfd, const std::string& name) {
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? Status{} : fail_errno(errno, "stat " + name);
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(dirfd, name.c_str(), 0) != 0) return fail_errno(errno, "remove " + name);
    return {};
  }
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail_errno(errno, "open " + name);
  DIR* dp = ::fdopendir(fd);
  if (!dp) {
    ::close(fd);
    return fail_errno(errno, "read " + name);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> guard(dp, ::closedir);
  std::vector<std::string> children;
  while (auto* e = ::readdir(dp))
    if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..")
      children.emplace_back(e->d_name);
  for (const auto& c : children) SILO_TRY_CTX(remove_at(::dirfd(dp), c), name);
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0)
    return fail_errno(errno, "remove " + name);
  return {};
}

struct DirTimes {
  std::string path;
  timespec times[2];
};

class Applier {
 public:
  Applier(int rootfd, archive* tar, const ApplyOptions& o) : rootfd_(rootfd), tar_(tar), opts_(o) {}

  Status entry(archive_entry* e) {
    auto p = clean(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
    if (!p) return std::unexpected(p.error());
    if (p->empty()) return {};  // "./": the layer root itself keeps the caller's metadata
    const std::string& base = p->back();
    if (base == kOpaqueMarker) return opaque(*p);
    if (base.starts_with(kWhiteoutPrefix)) return whiteout(*p);
    auto parent = parent_dir(rootfd_, *p);
    if (!parent) return std::unexpected(parent.error());
    return create(*p, parent->get(), e);
  }

  // Directory times last: creating their children changed them.
  Status finish() {
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
      auto fd = resolve(rootfd_, it->path, O_RDONLY | O_DIRECTORY);
      // A later entry replaced or whited out this directory: nothing to stamp.
      if (!fd && (fd.error().sys_errno == ENOTDIR || fd.error().sys_errno == ENOENT)) continue;
      if (!fd) return std::unexpected(fd.error());
      if (::futimens(fd->get(), it->times) != 0)
        return fail_errno(errno, "set times of " + it->path);
    }
    return {};
  }

 private:
  Status opaque(const Path& p) {
    Path dir(p.begin(), p.end() - 1);
    dir.push_back(".");  // parent_dir() of "<dir>/." is <dir> itself
    auto parent = parent_dir(rootfd_, dir);
    if (!parent) return std::unexpected(parent.error());
    auto fd = resolve(parent->get(), ".", O_RDONLY | O_DIRECTORY);
    if (!fd) return std::unexpected(fd.error());
    if (::fsetxattr(fd->get(), "trusted.overlay.opaque", "y", 1, 0) != 0)
      return fail_errno(errno, "mark " + join(p, p.size() - 1) +
                                   " opaque (xattr trusted.overlay.opaque needs root)");
    return {};
  }

  Status whiteout(const Path& p) {
    std::string target = p.back().substr(kWhiteoutPrefix.size());
    if (target.empty() || target == "." || target == ".." || target.starts_with(kWhiteoutPrefix))
      return fail(Code::Invalid, "malformed whiteout; refusing the layer");
    auto parent = parent_dir(rootfd_, p);
    if (!parent) return std::unexpected(parent.error());
    SILO_TRY(remove_at(parent->get(), target));
    if (::mknodat(parent->get(), target.c_str(), S_IFCHR | 0, ::makedev(0, 0)) != 0)
      return fail_errno(
          errno, "make whiteout " + target + " (character device 0/0; needs root or CAP_MKNOD)");
    return {};
  }

  Status create(const Path& p, int dirfd, archive_entry* e) {
    const std::string& name = p.back();
    const mode_t type = archive_entry_filetype(e);
    const char* link = archive_entry_hardlink(e);
    struct stat st {};
    bool exists = ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    // Docker replaces whatever is there unless a directory meets a directory.
    if (exists && !(S_ISDIR(st.st_mode) && type == AE_IFDIR && !link)) {
      SILO_TRY(remove_at(dirfd, name));
      exists = false;
    }
    if (link) return hardlink(link, dirfd, name);
    switch (type) {
      case AE_IFDIR:
        return directory(p, dirfd, exists, e);
      case AE_IFREG:
        return regular(dirfd, name, e);
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(e);
        if (::symlinkat(target ? target : "", dirfd, name.c_str()) != 0)
          return fail_errno(errno, "create symlink");
        return metadata_at(dirfd, name, e, /*chmod=*/false);
      }
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO:
        if (::mknodat(dirfd, name.c_str(), type | (archive_entry_perm(e) & 07777),
                      archive_entry_rdev(e)) != 0)
          return fail_errno(errno, "create device node (needs root or CAP_MKNOD)");
        return metadata_at(dirfd, name, e, /*chmod=*/true);
      default:  // sockets and anything else a tar cannot meaningfully carry
        return {};
    }
  }

  Status hardlink(const char* target, int dirfd, const std::string& name) {
    auto t = clean(target);
    if (!t) return wrap(t.error(), std::string("hard link target ") + target);
    if (t->empty()) return fail(Code::Invalid, "hard link to the layer root; refusing the layer");
    auto tdir = resolve(rootfd_, join(*t, t->size() - 1), O_PATH | O_DIRECTORY);
    if (!tdir) return wrap(tdir.error(), std::string("hard link target ") + target);
    // No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself, never its target.
    if (::linkat(tdir->get(), t->back().c_str(), dirfd, name.c_str(), 0) != 0)
      return fail_errno(errno, std::string("hard link to ") + target);
    return {};
  }

  Status directory(const Path& p, int dirfd, bool exists, archive_entry* e) {
    if (!exists && ::mkdirat(dirfd, p.back().c_str(), 0700) != 0)
      return fail_errno(errno, "create directory");
    auto fd = resolve(dirfd, p.back(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!fd) return std::unexpected(fd.error());
    SILO_TRY(metadata_fd(fd->get(), e));
    dirs_.push_back({join(p, p.size()), {times(e)[0], times(e)[1]}});
    return {};
  }

  Status regular(int dirfd, const std::string& name, archive_entry* e) {
    int raw =
        ::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (raw < 0) return fail_errno(errno, "create file");
    UniqueFd fd(raw);
    const void* buf;
    size_t len;
    la_int64_t offset;
    while (true) {
      int r = archive_read_data_block(tar_, &buf, &len, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN)
        return fail(Code::Invalid, std::string("read data: ") + archive_error_string(tar_));
      // pwrite at the block's offset keeps the holes of a sparse entry.
      const char* p = static_cast<const char*>(buf);
      while (len > 0) {
        ssize_t n = ::pwrite(fd.get(), p, len, offset);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_errno(errno, "write file");
        p += n, len -= static_cast<size_t>(n), offset += n;
      }
    }
    if (::ftruncate(fd.get(), archive_entry_size(e)) != 0) return fail_errno(errno, "size file");
    SILO_TRY(metadata_fd(fd.get(), e));
    if (::futimens(fd.get(), times(e)) != 0) return fail_errno(errno, "set times");
    return {};
  }

  const timespec* times(archive_entry* e) {
    times_[0] = {
        archive_entry_atime_is_set(e) ? archive_entry_atime(e) : archive_entry_mtime(e),
        archive_entry_atime_is_set(e) ? archive_entry_atime_nsec(e) : archive_entry_mtime_nsec(e)};
    times_[1] = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
    return times_;
  }

  // Owner, then mode (chown clears set-id bits), then xattrs, on an open file or directory.
  Status metadata_fd(int fd, archive_entry* e) {
    if (opts_.same_owner && ::fchown(fd, static_cast<uid_t>(archive_entry_uid(e)),
                                     static_cast<gid_t>(archive_entry_gid(e))) != 0)
      return fail_errno(errno, "set owner");
    if (::fchmod(fd, archive_entry_perm(e) & 07777) != 0) return fail_errno(errno, "set mode");
    const char* name;
    const void* value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      // A layer must not forge overlayfs metadata (redirects, opaque marks): only the
      // whiteout conversion above writes trusted.overlay.*.
      if (std::string_view(name).starts_with("trusted.overlay.")) continue;
      // As Docker: a file system or a caller that cannot hold an xattr is not fatal.
      if (::fsetxattr(fd, name, value, size, 0) != 0 && errno != ENOTSUP && errno != EPERM)
        return fail_errno(errno, std::string("set xattr ") + name);
    }
    return {};
  }

  // For symlinks and device nodes, which cannot be opened to work on an fd.
  Status metadata_at(int dirfd, const std::string& name, archive_entry* e, bool chmod) {
    if (opts_.same_owner &&
        ::fchownat(dirfd, name.c_str(), static_cast<uid_t>(archive_entry_uid(e)),
                   static_cast<gid_t>(archive_entry_gid(e)), AT_SYMLINK_NOFOLLOW) != 0)
      return fail_errno(errno, "set owner");
    if (chmod && ::fchmodat(dirfd, name.c_str(), archive_entry_perm(e) & 07777, 0) != 0)
      return fail_errno(errno, "set mode");
    if (::utimensat(dirfd, name.c_str(), times(e), AT_SYMLINK_NOFOLLOW) != 0)
      return fail_errno(errno, "set times");
    return {};
  }

  int rootfd_;
  archive* tar_;
  ApplyOptions opts_;
  std::vector<DirTimes> dirs_;
  timespec times_[2] = {};
};

using ArchivePtr = std::unique_ptr<archive, int (*)(archive*)>;

// The layer goes through two libarchive readers: the outer one only decompresses (format
// "raw"), the inner one reads the tar from the outer one's output. The bytes between them are
// the uncompressed tar, which is what the diff_id hashes.
struct Pipeline {
  const ReadFn* src;
  std::string in_buf = std::string(64 * 1024, '\0');
  std::string mid_buf = std::string(64 * 1024, '\0');
  std::optional<Error> src_error;
  archive* outer = nullptr;
  Sha256 hash;
  uint64_t size = 0;
  bool outer_empty = false;

  static la_ssize_t read_src(archive* a, void* self, const void** out) {
    auto* p = static_cast<Pipeline*>(self);
    auto n = (*p->src)(p->in_buf.data(), p->in_buf.size());
    if (!n) {
      p->src_error = n.error();
      archive_set_error(a, EIO, "%s", n.error().message.c_str());
      return -1;
    }
    *out = p->in_buf.data();
    return static_cast<la_ssize_t>(*n);
  }

  static la_ssize_t read_tar(archive* a, void* self, const void** out) {
    auto* p = static_cast<Pipeline*>(self);
    if (p->outer_empty) return 0;
    la_ssize_t n = archive_read_data(p->outer, p->mid_buf.data(), p->mid_buf.size());
    if (n < 0) {
      archive_set_error(a, EIO, "%s", archive_error_string(p->outer));
      return -1;
    }
    p->hash.update(std::string_view(p->mid_buf.data(), static_cast<size_t>(n)));
    p->size += static_cast<uint64_t>(n);
    *out = p->mid_buf.data();
    return n;
  }
};

Error archive_error(archive* a, const Pipeline& p, std::string_view what) {
  if (p.src_error) return p.src_error->wrap("read layer");
  const char* s = archive_error_string(a);
  return Error{0, Code::Invalid,
               std::string(what) + ": " + (s ? s : "unknown libarchive error") +
                   "; the layer is not a valid (gzip/zstd) tar"};
}

}  // namespace

Result<ApplyResult> apply_layer(const ReadFn& src, const std::string& dir,
                                const ApplyOptions& options) {
  auto rootfd = sys::open(dir, O_PATH | O_DIRECTORY);
  if (!rootfd) return wrap(rootfd.error(), "unpack layer");
  Pipeline p{.src = &src};
  ArchivePtr outer(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(outer.get());
  archive_read_support_format_raw(outer.get());
  archive_read_support_format_empty(outer.get());
  p.outer = outer.get();
  if (archive_read_open(outer.get(), &p, nullptr, Pipeline::read_src, nullptr) != ARCHIVE_OK)
    return std::unexpected(archive_error(outer.get(), p, "unpack layer"));
  archive_entry* raw_entry;
  int r = archive_read_next_header(outer.get(), &raw_entry);
  if (r == ARCHIVE_EOF)
    p.outer_empty = true;
  else if (r < ARCHIVE_WARN)
    return std::unexpected(archive_error(outer.get(), p, "unpack layer"));

  ArchivePtr tar(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(tar.get());
  archive_read_support_format_empty(tar.get());
  if (archive_read_open(tar.get(), &p, nullptr, Pipeline::read_tar, nullptr) != ARCHIVE_OK)
    return std::unexpected(archive_error(tar.get(), p, "unpack layer"));
  Applier applier(rootfd->get(), tar.get(), options);
  archive_entry* e;
  while ((r = archive_read_next_header(tar.get(), &e)) != ARCHIVE_EOF) {
    if (r < ARCHIVE_WARN) return std::unexpected(archive_error(tar.get(), p, "unpack layer"));
    const char* name = archive_entry_pathname(e);
    if (auto s = applier.entry(e); !s)
      return wrap(s.error(), "unpack layer: layer entry " + std::string(name ? name : ""));
  }
  SILO_TRY_CTX(applier.finish(), "unpack layer");
  // The tar's end-of-archive blocks and any padding after them are part of the diff_id.
  const void* rest;
  while ((r = static_cast<int>(Pipeline::read_tar(tar.get(), &p, &rest))) > 0) {
  }
  if (r < 0) return std::unexpected(archive_error(outer.get(), p, "unpack layer"));
  return ApplyResult{Digest::sha256(p.hash.hex_digest()), p.size};
}

Result<ApplyResult> apply_layer(int fd, const std::string& dir, const ApplyOptions& options) {
  return apply_layer(
      [fd](char* buf, size_t len) -> Result<size_t> {
        while (true) {
          ssize_t n = ::read(fd, buf, len);
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) return fail_errno(errno, "read layer");
          return static_cast<size_t>(n);
        }
      },
      dir, options);
}

}  // namespace silo::image
