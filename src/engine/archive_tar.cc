// Writing tar streams of a container's files with libarchive, walking the tree by
// descriptors (see archive.h for why).

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "common/sys.h"
#include "engine/archive.h"

namespace silo::engine {
namespace {

using namespace archive_internal;

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

class TarWriter {
 public:
  explicit TarWriter(const TarSink& sink) : sink_(sink), a_(archive_write_new()) {}

  Status open() {
    archive_write_set_format_pax_restricted(a_.get());
    // 64 KiB writes to the sink, and no padding of the last block beyond the tar format's
    // own two zero records (Go's archive/tar reads either).
    archive_write_set_bytes_per_block(a_.get(), 64 * 1024);
    archive_write_set_bytes_in_last_block(a_.get(), 1);
    if (archive_write_open(a_.get(), this, nullptr, &TarWriter::on_write, nullptr) != ARCHIVE_OK)
      return error("start the tar stream");
    return {};
  }

  Status close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) return error("finish the tar stream");
    return {};
  }

  // Adds `name` (in directory `dir`) as entry `entry_name`, and, for a directory, all
  // that is under it.
  Status add(int dir, const std::string& name, const std::string& entry_name) {
    struct stat st {};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0) {
      int err = errno;
      if (err == ENOENT) return {};  // removed while we walk: as dockerd, leave it out
      return fail_errno(err, "stat " + entry_name);
    }
    if (S_ISSOCK(st.st_mode)) return {};  // tar cannot hold sockets; Go's tar skips them
    std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_copy_stat(e.get(), &st);
    archive_entry_set_pathname(e.get(),
                               (S_ISDIR(st.st_mode) ? entry_name + "/" : entry_name).c_str());
    if (S_ISLNK(st.st_mode)) {
      std::vector<char> buf(4096);
      ssize_t n = ::readlinkat(dir, name.c_str(), buf.data(), buf.size());
      if (n < 0) return fail_errno(errno, "read link " + entry_name);
      archive_entry_set_symlink(e.get(), std::string(buf.data(), n).c_str());
      archive_entry_set_size(e.get(), 0);
    }
    bool data = S_ISREG(st.st_mode);
    if (data && st.st_nlink > 1) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      auto it = links_.find(key);
      if (it != links_.end()) {
        archive_entry_set_hardlink(e.get(), it->second.c_str());
        archive_entry_set_size(e.get(), 0);
        data = false;
      } else {
        links_[key] = entry_name;
      }
    }
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) archive_entry_set_size(e.get(), 0);
    UniqueFd fd;
    if (data || S_ISDIR(st.st_mode)) {
      // O_NOFOLLOW: if the container swapped the file for a symlink since fstatat, the
      // open fails instead of reading the link's target.
      int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0);
      auto opened = name.empty() ? sys::openat(dir, ".", flags) : sys::openat(dir, name, flags);
      if (!opened) {
        if (opened.error().sys_errno == ENOENT) return {};
        return wrap(opened.error(), "archive " + entry_name);
      }
      fd = std::move(*opened);
    }
    if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK) return error("write " + entry_name);
    if (data) SILO_TRY(copy_data(fd.get(), st.st_size, entry_name));
    if (S_ISDIR(st.st_mode)) return add_children(fd.get(), entry_name + "/");
    return {};
  }

  // Adds everything in directory `dir`, names prefixed by `prefix` ("" or "etc/").
  Status add_children(int dir, const std::string& prefix) {
    auto dup = sys::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (!dup) return wrap(dup.error(), "read directory " + prefix);
    DIR* d = ::fdopendir(dup->release());
    if (!d) return fail_errno(errno, "read directory " + prefix);
    std::vector<std::string> names;
    while (dirent* ent = ::readdir(d)) {
      std::string n = ent->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) SILO_TRY(add(dir, n, prefix + n));
    return {};
  }

 private:
  static la_ssize_t on_write(struct archive* a, void* self, const void* buf, size_t n) {
    auto* w = static_cast<TarWriter*>(self);
    auto st = w->sink_(std::string_view(static_cast<const char*>(buf), n));
    if (!st) {
      w->sink_error_ = st.error();
      archive_set_error(a, EIO, "%s", st.error().message.c_str());
      return -1;
    }
    return static_cast<la_ssize_t>(n);
  }

  // Writes exactly `size` bytes: a file that shrank meanwhile is padded with zeros, one
  // that grew is cut, so the header stays true.
  Status copy_data(int fd, off_t size, const std::string& entry_name) {
    std::vector<char> buf(64 * 1024);
    off_t left = size;
    while (left > 0) {
      size_t want = static_cast<size_t>(std::min<off_t>(left, buf.size()));
      ssize_t n = ::read(fd, buf.data(), want);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail_errno(errno, "read " + entry_name);
      if (n == 0) {
        std::fill(buf.begin(), buf.end(), 0);
        n = static_cast<ssize_t>(want);
      }
      if (archive_write_data(a_.get(), buf.data(), static_cast<size_t>(n)) < 0)
        return error("write " + entry_name);
      left -= n;
    }
    return {};
  }

  std::unexpected<Error> error(const std::string& what) {
    if (sink_error_) return wrap(*sink_error_, what);
    const char* msg = archive_error_string(a_.get());
    return fail(Code::Internal, what + ": " + (msg ? msg : "libarchive error"));
  }

  const TarSink& sink_;
  std::unique_ptr<struct archive, ArchiveDeleter> a_;
  std::optional<Error> sink_error_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

}  // namespace

Status tar_path(const std::string& rootfs, std::string_view path, const TarSink& sink) {
  auto loc = locate(rootfs, path);
  if (!loc) return std::unexpected(loc.error());
  const std::string& abs = loc->abs;
  // The directory itself with "/." or "/" at the end: dockerd names the entries after
  // the base of the path as the user wrote it ("." copies the contents).
  std::string entry = abs.ends_with("/.") ? "." : path_base(abs);
  if (entry == "/") entry = ".";
  TarWriter w(sink);
  SILO_TRY(w.open());
  SILO_TRY(w.add(loc->parent.get(), loc->base, entry));
  return w.close();
}

Status tar_root(const std::string& rootfs, const TarSink& sink) {
  auto root = sys::open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (!root) return wrap(root.error(), "export: open container root " + rootfs);
  TarWriter w(sink);
  SILO_TRY(w.open());
  SILO_TRY(w.add_children(root->get(), ""));
  return w.close();
}

}  // namespace silo::engine
