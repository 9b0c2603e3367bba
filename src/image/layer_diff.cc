#include "image/layer_diff.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <vector>

#include "common/sha256.h"
#include "common/sys.h"

// libarchive writes the tar headers (pax where a name or a size needs it). The tree is walked
// here with *at() calls on directory fds opened O_NOFOLLOW, not with archive_read_disk: that
// one knows nothing of overlayfs whiteouts, and a per-directory sort by name keeps the
// output deterministic. Gzip is zlib's deflate with a gzip header whose mtime is 0, as Go's
// gzip writer (and so Docker) produces: same tree, same compressed digest.

namespace silo::image {

namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr std::string_view kWhiteoutPrefix = ".wh.";

// Hashes and counts the compressed (or plain) stream and hands it to the caller.
struct Output {
  const WriteFn* out;
  Sha256 hash;
  uint64_t size = 0;
  Status write(std::string_view data) {
    hash.update(data);
    size += data.size();
    return (*out)(data);
  }
};

// Deflates into a gzip member (windowBits 15 + 16 = gzip header, mtime 0).
class Gzip {
 public:
  explicit Gzip(Output* out) : out_(out) {
    ok_ = deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) ==
          Z_OK;
  }
  ~Gzip() {
    if (ok_) deflateEnd(&z_);
  }
  Status write(std::string_view data) { return pump(data, Z_NO_FLUSH); }
  Status finish() { return pump({}, Z_FINISH); }

 private:
  Status pump(std::string_view data, int flush) {
    if (!ok_) return fail(Code::Internal, "gzip: zlib deflateInit2 failed (out of memory?)");
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z_.avail_in = static_cast<uInt>(data.size());
    int r = Z_OK;
    do {
      z_.next_out = reinterpret_cast<Bytef*>(buf_);
      z_.avail_out = sizeof buf_;
      r = deflate(&z_, flush);
      if (r == Z_STREAM_ERROR) return fail(Code::Internal, "gzip: zlib deflate failed");
      size_t n = sizeof buf_ - z_.avail_out;
      if (n) SILO_TRY(out_->write(std::string_view(buf_, n)));
    } while (z_.avail_out == 0 || (flush == Z_FINISH && r != Z_STREAM_END));
    return {};
  }

  Output* out_;
  z_stream z_{};
  bool ok_ = false;
  char buf_[kChunk];
};

// Receives libarchive's output: the uncompressed tar, hashed for the diff_id.
struct TarSink {
  Sha256 hash;
  uint64_t size = 0;
  Output* plain = nullptr;
  Gzip* gzip = nullptr;
  std::optional<Error> error;

  static la_ssize_t write_cb(archive*, void* self, const void* buf, size_t n) {
    auto* s = static_cast<TarSink*>(self);
    std::string_view data(static_cast<const char*>(buf), n);
    s->hash.update(data);
    s->size += n;
    Status st = s->gzip ? s->gzip->write(data) : s->plain->write(data);
    if (!st) {
      s->error = st.error();
      return -1;
    }
    return static_cast<la_ssize_t>(n);
  }
};

using ArchivePtr = std::unique_ptr<archive, int (*)(archive*)>;
using EntryPtr = std::unique_ptr<archive_entry, void (*)(archive_entry*)>;

Result<std::vector<std::string>> sorted_children(int dirfd, const std::string& what) {
  int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail_errno(errno, "open " + what);
  DIR* dp = ::fdopendir(fd);
  if (!dp) {
    ::close(fd);
    return fail_errno(errno, "read " + what);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> guard(dp, ::closedir);
  std::vector<std::string> names;
  errno = 0;
  while (auto* e = ::readdir(dp)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  if (errno != 0) return fail_errno(errno, "read " + what);
  std::sort(names.begin(), names.end());  // byte order, as Go's filepath.Walk
  return names;
}

// Reads one xattr of an entry (by dir fd + name, never following a symlink); empty when absent.
std::optional<std::string> get_xattr(int dirfd, const std::string& name, const char* key) {
  std::string path = "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
  char buf[4096];
  ssize_t n = ::lgetxattr(path.c_str(), key, buf, sizeof buf);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

class Differ {
 public:
  Differ(archive* tar, TarSink* sink, DiffMode mode) : tar_(tar), sink_(sink), mode_(mode) {}

  // Writes the entries below the directory `dirfd` whose tar path is `prefix` ("" = root).
  Status walk(int dirfd, const std::string& prefix) {
    auto names = sorted_children(dirfd, prefix.empty() ? "." : prefix);
    if (!names) return std::unexpected(names.error());
    for (const auto& name : *names) {
      std::string path = prefix.empty() ? name : prefix + "/" + name;
      SILO_TRY_CTX(entry(dirfd, name, path), path);
    }
    return {};
  }

 private:
  Status entry(int dirfd, const std::string& name, const std::string& path) {
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return fail_errno(errno, "stat");
    if (S_ISSOCK(st.st_mode)) return {};  // as Docker: a socket cannot travel in a tar
    if (mode_ == DiffMode::OverlayUpper && S_ISCHR(st.st_mode) && st.st_rdev == ::makedev(0, 0))
      return whiteout(st, path, name);
    if (mode_ == DiffMode::OverlayUpper && S_ISDIR(st.st_mode) &&
        get_xattr(dirfd, name, "trusted.overlay.redirect"))
      return fail(Code::Invalid,
                  "directory was renamed under overlayfs redirect_dir=on, which a layer tar "
                  "cannot express; mount the container's overlay with redirect_dir=off");
    EntryPtr e(archive_entry_new(), archive_entry_free);
    fill(e.get(), st, path);
    if (S_ISLNK(st.st_mode)) SILO_TRY(symlink_target(e.get(), dirfd, name, st));
    if (auto cap = get_xattr(dirfd, name, "security.capability"))
      archive_entry_xattr_add_entry(e.get(), "security.capability", cap->data(), cap->size());
    if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
      auto [it, first] = links_.try_emplace({st.st_dev, st.st_ino}, path);
      if (!first) {
        archive_entry_set_hardlink(e.get(), it->second.c_str());
        archive_entry_set_size(e.get(), 0);
        return header(e.get());
      }
    }
    SILO_TRY(header(e.get()));
    if (S_ISREG(st.st_mode)) return contents(dirfd, name, st);
    if (!S_ISDIR(st.st_mode)) return {};
    if (mode_ == DiffMode::OverlayUpper) {
      auto opq = get_xattr(dirfd, name, "trusted.overlay.opaque");
      if (opq && *opq == "y") SILO_TRY(opaque_marker(st, path));
    }
    int sub = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) return fail_errno(errno, "open directory");
    UniqueFd subfd(sub);
    return walk(subfd.get(), path);
  }

  void fill(archive_entry* e, const struct stat& st, const std::string& path) {
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_mode(e, st.st_mode);
    archive_entry_set_uid(e, st.st_uid);
    archive_entry_set_gid(e, st.st_gid);
    // Whole seconds only: Go's tar writer drops sub-second mtimes unless it must write pax,
    // and a nanosecond that differs between two copies of a tree would change the diff_id.
    archive_entry_set_mtime(e, st.st_mtim.tv_sec, 0);
    archive_entry_set_size(e, S_ISREG(st.st_mode) ? st.st_size : 0);
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) archive_entry_set_rdev(e, st.st_rdev);
  }

  Status symlink_target(archive_entry* e, int dirfd, const std::string& name,
                        const struct stat& st) {
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
    if (n < 0) return fail_errno(errno, "read symlink");
    target.resize(static_cast<size_t>(n));
    archive_entry_set_symlink(e, target.c_str());
    return {};
  }

  // As Docker's overlay converter: the whiteout keeps the device's owner and times, becomes an
  // empty regular file with mode 0600.
  Status whiteout(const struct stat& st, const std::string& path, const std::string& name) {
    std::string dir = path.substr(0, path.size() - name.size());
    EntryPtr e(archive_entry_new(), archive_entry_free);
    fill(e.get(), st, dir + std::string(kWhiteoutPrefix) + name);
    archive_entry_set_mode(e.get(), AE_IFREG | 0600);
    archive_entry_set_size(e.get(), 0);
    return header(e.get());
  }

  // As Docker: the marker follows its directory's entry and copies its mode, owner and times.
  Status opaque_marker(const struct stat& dir_st, const std::string& path) {
    EntryPtr e(archive_entry_new(), archive_entry_free);
    fill(e.get(), dir_st, path + "/" + std::string(kOpaqueMarker));
    archive_entry_set_mode(e.get(), AE_IFREG | (dir_st.st_mode & 07777));
    archive_entry_set_size(e.get(), 0);
    return header(e.get());
  }

  Status header(archive_entry* e) {
    if (archive_write_header(tar_, e) != ARCHIVE_OK) return tar_error("write header");
    return {};
  }

  Status contents(int dirfd, const std::string& name, const struct stat& st) {
    int raw = ::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (raw < 0) return fail_errno(errno, "open file");
    UniqueFd fd(raw);
    uint64_t left = static_cast<uint64_t>(st.st_size);
    while (left > 0) {
      ssize_t n = ::read(fd.get(), buf_, std::min<uint64_t>(sizeof buf_, left));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail_errno(errno, "read file");
      if (n == 0)
        return fail(Code::Conflict,
                    "file shrank while it was being read; stop the container "
                    "that writes it and retry");
      if (archive_write_data(tar_, buf_, static_cast<size_t>(n)) != n)
        return tar_error("write data");
      left -= static_cast<uint64_t>(n);
    }
    return {};
  }

  Status tar_error(std::string_view what) {
    if (sink_->error) return std::unexpected(*sink_->error);
    const char* s = archive_error_string(tar_);
    return fail(Code::Internal, std::string(what) + ": " + (s ? s : "libarchive error"));
  }

  archive* tar_;
  TarSink* sink_;
  DiffMode mode_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
  char buf_[kChunk];
};

Result<DiffResult> diff(const std::string& dir, const WriteFn& out, const DiffOptions& options) {
  if (options.compression == Compression::Zstd)
    return fail(Code::Invalid, "zstd layers cannot be written yet; use gzip or no compression");
  auto rootfd = sys::open(dir, O_RDONLY | O_DIRECTORY);
  if (!rootfd) return std::unexpected(rootfd.error());
  Output output{&out};
  auto gzip = options.compression == Compression::Gzip ? std::make_unique<Gzip>(&output) : nullptr;
  TarSink sink{.plain = &output, .gzip = gzip.get()};
  ArchivePtr tar(archive_write_new(), archive_write_free);
  archive_write_set_format_pax_restricted(tar.get());
  archive_write_set_bytes_per_block(tar.get(), 512);
  archive_write_set_bytes_in_last_block(tar.get(), 1);
  if (archive_write_open(tar.get(), &sink, nullptr, TarSink::write_cb, nullptr) != ARCHIVE_OK)
    return fail(Code::Internal, std::string("open tar writer: ") + archive_error_string(tar.get()));
  Differ differ(tar.get(), &sink, options.mode);
  SILO_TRY(differ.walk(rootfd->get(), ""));
  if (archive_write_close(tar.get()) != ARCHIVE_OK) {
    if (sink.error) return std::unexpected(*sink.error);
    return fail(Code::Internal, std::string("close tar: ") + archive_error_string(tar.get()));
  }
  if (gzip) SILO_TRY(gzip->finish());
  DiffResult r;
  r.diff_id = Digest::sha256(sink.hash.hex_digest());
  r.uncompressed_size = sink.size;
  r.size = output.size;
  r.digest = gzip ? Digest::sha256(output.hash.hex_digest()) : r.diff_id;
  r.media_type = std::string(gzip ? media_type::kOciLayerGzip : media_type::kOciLayer);
  return r;
}

}  // namespace

Result<DiffResult> diff_layer(const std::string& dir, const WriteFn& out,
                              const DiffOptions& options) {
  auto r = diff(dir, out, options);
  if (!r) return wrap(r.error(), "layer diff of " + dir);
  return r;
}

Result<DiffResult> diff_layer_to_store(const std::string& dir, BlobStore& store,
                                       const std::string& spool_dir, const DiffOptions& options) {
  // O_TMPFILE: the spool has no name, so nothing is left behind when we fail or crash.
  auto spool = sys::open(spool_dir, O_RDWR | O_TMPFILE, 0600);
  if (!spool) return wrap(spool.error(), "layer diff of " + dir + ": spool file in " + spool_dir);
  int fd = spool->get();
  auto r = diff_layer(
      dir, [fd](std::string_view data) { return sys::write_all(fd, data.data(), data.size()); },
      options);
  if (!r) return r;
  if (::lseek(fd, 0, SEEK_SET) < 0) return fail_errno(errno, "rewind spool file in " + spool_dir);
  SILO_TRY_CTX(store.write(r->digest, r->size,
                           [fd](char* buf, size_t len) -> Result<size_t> {
                             ssize_t n;
                             do n = ::read(fd, buf, len);
                             while (n < 0 && errno == EINTR);
                             if (n < 0) return fail_errno(errno, "read spool file");
                             return static_cast<size_t>(n);
                           }),
               "layer diff of " + dir);
  return r;
}

}  // namespace silo::image
