// Extracting an uploaded tar into a container's root (PUT /containers/{name}/archive).
// Every parent is resolved inside the root and every entry is made with *at() calls on
// its parent's descriptor (see archive.h): a tar, or the container racing us, can put
// nothing outside the root.

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <memory>
#include <optional>
#include <vector>

#include "common/sys.h"
#include "engine/archive.h"

namespace silo::engine {
namespace {

using namespace archive_internal;

struct ReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

// The entry's path relative to the extraction directory, components joined by '/';
// Invalid when it climbs out of it (dockerd's breakout check).
Result<std::vector<std::string>> entry_parts(std::string_view name) {
  std::vector<std::string> parts;
  while (!name.empty()) {
    size_t slash = name.find('/');
    std::string part(name.substr(0, slash));
    if (part == "..") {
      if (parts.empty())
        return fail(Code::Invalid, "invalid tar entry \"" + std::string(name) +
                                       "\": it is outside of the extraction directory");
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
    if (slash == std::string_view::npos) break;
    name.remove_prefix(slash + 1);
  }
  return parts;
}

std::string join(const std::vector<std::string>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += "/" + parts[i];
  return out;
}

// Removes `name` in `dir` and everything under it, never following a symlink.
Status remove_at(int dir, const std::string& name) {
  if (::unlinkat(dir, name.c_str(), 0) == 0) return {};
  if (errno != EISDIR && errno != EPERM) return fail_errno(errno, "remove " + name);
  auto sub = sys::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!sub) return wrap(sub.error(), "remove " + name);
  std::vector<std::string> names;
  if (DIR* d = ::fdopendir(::dup(sub->get()))) {
    while (dirent* e = ::readdir(d))
      if (std::string n = e->d_name; n != "." && n != "..") names.push_back(n);
    ::closedir(d);
  }
  for (const auto& n : names) SILO_TRY(remove_at(sub->get(), n));
  if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0) return fail_errno(errno, "remove " + name);
  return {};
}

class Extractor {
 public:
  Extractor(int root, std::string dest, const ExtractOptions& opts)
      : root_(root), dest_(std::move(dest)), opts_(opts) {}

  // Opens (making missing ones, 0755) the directory dest/parts[0..n) inside the root.
  Result<UniqueFd> parent_dir(const std::vector<std::string>& parts, size_t n) {
    auto fd = open_in_root(root_, dest_ + join(parts, n), O_PATH | O_DIRECTORY);
    if (fd || fd.error().sys_errno != ENOENT || n == 0) return fd;
    auto up = parent_dir(parts, n - 1);
    if (!up) return up;
    if (::mkdirat(up->get(), parts[n - 1].c_str(), 0755) != 0 && errno != EEXIST)
      return fail_errno(errno, "make directory " + join(parts, n));
    return open_in_root(root_, dest_ + join(parts, n), O_PATH | O_DIRECTORY);
  }

  Status entry(struct archive* a, archive_entry* e) {
    auto parts = entry_parts(archive_entry_pathname(e));
    if (!parts) return std::unexpected(parts.error());
    if (parts->empty()) return {};  // "." is the extraction directory itself
    auto dir = parent_dir(*parts, parts->size() - 1);
    if (!dir) return std::unexpected(dir.error());
    const std::string& base = parts->back();
    const std::string shown = join(*parts, parts->size());
    mode_t type = archive_entry_filetype(e);
    bool is_hardlink = archive_entry_hardlink(e) != nullptr;
    SILO_TRY(clear_way(dir->get(), base, shown, type == AE_IFDIR && !is_hardlink));
    if (is_hardlink) return hardlink(dir->get(), base, archive_entry_hardlink(e));
    uid_t uid = opts_.copy_uid_gid ? archive_entry_uid(e) : 0;
    gid_t gid = opts_.copy_uid_gid ? archive_entry_gid(e) : 0;
    mode_t perm = archive_entry_perm(e);
    timespec times[2] = {{archive_entry_atime(e), archive_entry_atime_nsec(e)},
                         {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
    if (!archive_entry_atime_is_set(e)) times[0] = times[1];
    switch (type) {
      case AE_IFDIR:
        return directory(dir->get(), base, shown, perm, uid, gid, times);
      case AE_IFREG:
        return file(a, dir->get(), base, shown, perm, uid, gid, times);
      case AE_IFLNK: {
        if (::symlinkat(archive_entry_symlink(e), dir->get(), base.c_str()) != 0)
          return fail_errno(errno, "make symlink " + shown);
        break;
      }
      case AE_IFIFO:
      case AE_IFCHR:
      case AE_IFBLK: {
        if (::mknodat(dir->get(), base.c_str(), type | perm, archive_entry_rdev(e)) != 0)
          return fail_errno(errno, "make node " + shown);
        break;
      }
      default:
        return {};  // sockets and unknown types: skipped as Go's tar does
    }
    // lchown and utimensat with AT_SYMLINK_NOFOLLOW act on the entry itself, never on
    // what a symlink points to.
    (void)::fchownat(dir->get(), base.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW);
    (void)::utimensat(dir->get(), base.c_str(), times, AT_SYMLINK_NOFOLLOW);
    return {};
  }

  // Sets directory times last: making their children changed them (as dockerd does).
  void finish() {
    for (const auto& [path, t] : dir_times_) {
      auto fd = open_in_root(root_, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (fd) (void)::futimens(fd->get(), t.data());
    }
  }

 private:
  // Makes room for a new entry `base`: an existing directory stays for a directory;
  // anything else is removed, unless no_overwrite_dir_non_dir forbids it.
  Status clear_way(int dir, const std::string& base, const std::string& shown, bool want_dir) {
    struct stat st {};
    if (::fstatat(dir, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return {};
    bool is_dir = S_ISDIR(st.st_mode);
    if (opts_.no_overwrite_dir_non_dir && is_dir && !want_dir)
      return fail(Code::Invalid, "cannot overwrite directory \"" + dest_ + shown +
                                     "\" with non-directory \"" + shown + "\"");
    if (opts_.no_overwrite_dir_non_dir && !is_dir && want_dir)
      return fail(Code::Invalid, "cannot overwrite non-directory \"" + dest_ + shown +
                                     "\" with directory \"" + shown + "\"");
    if (is_dir && want_dir) return {};
    return remove_at(dir, base);
  }

  Status directory(int dir, const std::string& base, const std::string& shown, mode_t perm,
                   uid_t uid, gid_t gid, const timespec* times) {
    if (::mkdirat(dir, base.c_str(), perm) != 0 && errno != EEXIST)
      return fail_errno(errno, "make directory " + shown);
    auto fd = sys::openat(dir, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!fd) return wrap(fd.error(), "extract " + shown);
    (void)::fchown(fd->get(), uid, gid);
    (void)::fchmod(fd->get(), perm);
    dir_times_.push_back({dest_ + shown, {times[0], times[1]}});
    return {};
  }

  Status file(struct archive* a, int dir, const std::string& base, const std::string& shown,
              mode_t perm, uid_t uid, gid_t gid, const timespec* times) {
    auto fd = sys::openat(dir, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    if (!fd) return wrap(fd.error(), "extract " + shown);
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    for (;;) {
      int r = archive_read_data_block(a, &buf, &size, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK)
        return fail(Code::Invalid, "read tar entry " + shown + ": " + archive_error_string(a));
      if (::lseek(fd->get(), offset, SEEK_SET) < 0) return fail_errno(errno, "write " + shown);
      SILO_TRY_CTX(sys::write_all(fd->get(), buf, size), "write " + shown);
    }
    (void)::fchown(fd->get(), uid, gid);
    (void)::fchmod(fd->get(), perm);  // after fchown, which clears setuid bits
    (void)::futimens(fd->get(), times);
    return {};
  }

  Status hardlink(int dir, const std::string& base, const char* target) {
    auto parts = entry_parts(target);
    if (!parts) return std::unexpected(parts.error());
    if (parts->empty()) return fail(Code::Invalid, "invalid hardlink to the extraction directory");
    auto tdir = open_in_root(root_, dest_ + join(*parts, parts->size() - 1), O_PATH | O_DIRECTORY);
    if (!tdir) return wrap(tdir.error(), std::string("hard link target ") + target);
    // No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself.
    if (::linkat(tdir->get(), parts->back().c_str(), dir, base.c_str(), 0) != 0)
      return fail_errno(errno, "make hard link " + base + " to " + target);
    return {};
  }

  int root_;
  std::string dest_;  // the extraction directory, absolute inside the root
  ExtractOptions opts_;
  std::vector<std::pair<std::string, std::array<timespec, 2>>> dir_times_;
};

struct SourceCtx {
  const TarSource& source;
  std::vector<char> buf = std::vector<char>(64 * 1024);
  std::optional<Error> error;
};

la_ssize_t on_read(struct archive* a, void* p, const void** out) {
  auto* ctx = static_cast<SourceCtx*>(p);
  auto n = ctx->source(ctx->buf.data(), ctx->buf.size());
  if (!n) {
    ctx->error = n.error();
    archive_set_error(a, EIO, "%s", n.error().message.c_str());
    return -1;
  }
  *out = ctx->buf.data();
  return static_cast<la_ssize_t>(*n);
}

}  // namespace

Status extract_tar(const std::string& rootfs, std::string_view dir, const TarSource& source,
                   const ExtractOptions& opts) {
  auto root = open_root(rootfs);
  if (!root) return std::unexpected(root.error());
  std::string abs = clean_path(std::string("/") + std::string(dir));
  std::string parent, base;
  split_path(abs, parent, base);
  // As dockerd: the last component must itself be a directory, not a symlink to one.
  auto pfd = open_in_root(root->get(), parent, O_PATH | O_DIRECTORY);
  if (!pfd) return fail(Code::NotFound, "no such file " + abs);
  struct stat st {};
  if (::fstatat(pfd->get(), base.empty() ? "" : base.c_str(), &st,
                AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0)
    return fail(Code::NotFound, "no such file " + abs);
  if (!S_ISDIR(st.st_mode)) return fail(Code::Invalid, "extraction point is not a directory");
  std::string dest = clean_path(abs);
  while (dest.size() > 1 && (dest.ends_with("/") || dest.ends_with("/.")))
    dest.resize(dest.ends_with("/") ? dest.size() - 1 : dest.size() - 2);
  if (dest == "/") dest = "";

  std::unique_ptr<struct archive, ReadDeleter> a(archive_read_new());
  archive_read_support_filter_all(a.get());  // dockerd's Untar decompresses too
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  SourceCtx ctx{source, std::vector<char>(64 * 1024), std::nullopt};
  if (archive_read_open(a.get(), &ctx, nullptr, &on_read, nullptr) != ARCHIVE_OK) {
    if (ctx.error) return std::unexpected(*ctx.error);
    return fail(Code::Invalid, std::string("read tar: ") + archive_error_string(a.get()));
  }
  Extractor x(root->get(), dest, opts);
  for (;;) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (ctx.error) return std::unexpected(*ctx.error);
    if (r < ARCHIVE_WARN)
      return fail(Code::Invalid, std::string("read tar: ") + archive_error_string(a.get()));
    SILO_TRY(x.entry(a.get(), e));
  }
  x.finish();
  return {};
}

}  // namespace silo::engine
