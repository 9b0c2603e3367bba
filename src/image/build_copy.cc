#include "image/build_copy.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <memory>

#include "common/fd.h"
#include "common/sys.h"
#include "image/archive_io.h"
#include "image/build_context.h"

namespace silo::image {
namespace fs = std::filesystem;

namespace {

using WriteArchive = std::unique_ptr<archive, decltype(&archive_write_free)>;
using ReadArchive = std::unique_ptr<archive, decltype(&archive_read_free)>;
using Entry = std::unique_ptr<archive_entry, decltype(&archive_entry_free)>;

struct Sink {
  const WriteFn* out;
  std::optional<Error> error;
  static la_ssize_t write(archive*, void* self, const void* buf, size_t n) {
    auto* s = static_cast<Sink*>(self);
    if (auto st = (*s->out)(std::string_view(static_cast<const char*>(buf), n)); !st) {
      s->error = st.error();
      return -1;
    }
    return static_cast<la_ssize_t>(n);
  }
};


std::string join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "/" + b;
}

class CopyWriter {
 public:
  CopyWriter(const CopySpec& spec, const WriteFn& out)
      : spec_(spec), sink_{&out, std::nullopt}, a_(archive_write_new(), archive_write_free) {}

  Status open() {
    archive_write_set_format_pax_restricted(a_.get());
    archive_write_set_bytes_in_last_block(a_.get(), 1);
    if (archive_write_open(a_.get(), &sink_, nullptr, Sink::write, nullptr) != ARCHIVE_OK)
      return error("open the copy stream");
    return {};
  }

  Status close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) return error("finish the copy stream");
    return {};
  }

  // `path` on the host, lstat'ed as `st`, becomes entry `name`.
  Status entry(const std::string& path, const struct stat& st, const std::string& name) {
    Entry e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), name.c_str());
    mode_t perm = st.st_mode & 07777;
    if (spec_.chmod) perm = *spec_.chmod;
    archive_entry_set_mode(e.get(), (st.st_mode & S_IFMT) | perm);
    owner(e.get(), st.st_uid, st.st_gid);
    archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    std::string target;
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      target = fs::read_symlink(path, ec).string();
      if (ec) return fail(Code::Internal, "read the symlink " + path + ": " + ec.message());
      archive_entry_set_symlink(e.get(), target.c_str());
    } else if (S_ISREG(st.st_mode)) {
      archive_entry_set_size(e.get(), st.st_size);
    } else if (!S_ISDIR(st.st_mode)) {
      return {};  // devices, fifos and sockets are not copied
    }
    if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK) return error("write " + name);
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
      auto fd = sys::open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (!fd) return wrap(fd.error(), "COPY " + name);
      std::vector<char> buf(128 * 1024);
      for (;;) {
        ssize_t n = ::read(fd->get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_errno(errno, "read " + path);
        if (n == 0) break;
        if (archive_write_data(a_.get(), buf.data(), static_cast<size_t>(n)) < 0)
          return error("write " + name);
      }
    }
    return {};
  }

  // Every entry below directory `dir`, named under `prefix`.
  Status tree(const std::string& dir, const std::string& prefix) {
    std::vector<std::string> names;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec))
      names.push_back(it->path().filename().string());
    if (ec) return fail(Code::Internal, "read the directory " + dir + ": " + ec.message());
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      std::string path = dir + "/" + n;
      struct stat st {};
      if (::lstat(path.c_str(), &st) != 0) return fail_errno(errno, "stat " + path);
      SILO_TRY(entry(path, st, join(prefix, n)));
      if (S_ISDIR(st.st_mode)) SILO_TRY(tree(path, join(prefix, n)));
    }
    return {};
  }

  // ADD of an archive: its entries under `prefix`.
  Status unpack(const std::string& path, const std::string& prefix) {
    ReadArchive in(archive_read_new(), archive_read_free);
    archive_read_support_filter_all(in.get());
    archive_read_support_format_tar(in.get());
    archive_read_support_format_gnutar(in.get());
    if (archive_read_open_filename(in.get(), path.c_str(), 128 * 1024) != ARCHIVE_OK)
      return fail(Code::Invalid, "ADD " + path + ": " + archive_error_string(in.get()));
    archive_entry* e = nullptr;
    for (;;) {
      int r = archive_read_next_header(in.get(), &e);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN)
        return fail(Code::Invalid, "ADD " + path + ": " + archive_error_string(in.get()));
      auto rel = detail::clean_relative(archive_entry_pathname(e));
      if (!rel)
        return fail(Code::Invalid, "ADD " + path + ": entry " + archive_entry_pathname(e) +
                                       " leaves the destination");
      archive_entry_set_pathname(e, join(prefix, *rel).c_str());
      if (const char* hl = archive_entry_hardlink(e)) {
        auto t = detail::clean_relative(hl);
        if (!t) return fail(Code::Invalid, "ADD " + path + ": hard link to " + hl + " leaves it");
        archive_entry_set_hardlink(e, join(prefix, *t).c_str());
      }
      if (spec_.owner) archive_entry_set_uid(e, spec_.owner->first);
      if (spec_.owner) archive_entry_set_gid(e, spec_.owner->second);
      archive_entry_set_uname(e, nullptr);
      archive_entry_set_gname(e, nullptr);
      if (spec_.chmod) archive_entry_set_perm(e, *spec_.chmod);
      if (archive_write_header(a_.get(), e) != ARCHIVE_OK)
        return error(std::string("write ") + archive_entry_pathname(e));
      const void* buf;
      size_t n;
      la_int64_t off;
      while ((r = archive_read_data_block(in.get(), &buf, &n, &off)) == ARCHIVE_OK)
        if (archive_write_data(a_.get(), buf, n) < 0) return error("write " + path);
      if (r != ARCHIVE_EOF)
        return fail(Code::Invalid, "ADD " + path + ": " + archive_error_string(in.get()));
    }
    return {};
  }

 private:
  void owner(archive_entry* e, uid_t uid, gid_t gid) {
    if (spec_.owner) {
      uid = spec_.owner->first;
      gid = spec_.owner->second;
    } else if (!spec_.keep_owner) {
      uid = 0;
      gid = 0;
    }
    archive_entry_set_uid(e, uid);
    archive_entry_set_gid(e, gid);
  }

  Status error(const std::string& what) {
    if (sink_.error) return std::unexpected(*sink_.error);
    return fail(Code::Internal, what + ": " + archive_error_string(a_.get()));
  }

  const CopySpec& spec_;
  Sink sink_;
  WriteArchive a_;
};

}  // namespace

Status write_copy_tar(const CopySpec& spec, const WriteFn& out) {
  auto dest = detail::clean_relative(spec.dest);
  if (!dest) return fail(Code::Invalid, "COPY: the destination " + spec.dest + " is not a path");
  const bool to_dir = spec.dest_is_dir || spec.sources.size() > 1 || spec.dest.ends_with("/");
  CopyWriter w(spec, out);
  SILO_TRY(w.open());
  for (const auto& src : spec.sources) {
    std::string path = src == "." ? spec.root : spec.root + "/" + src;
    struct stat st {};
    // A top-level symlink is followed, as COPY does (resolve_sources kept it inside).
    if (::stat(path.c_str(), &st) != 0) return fail_errno(errno, "COPY " + src);
    std::string name = fs::path(src == "." ? spec.root : path).filename().string();
    if (S_ISDIR(st.st_mode)) {
      if (!dest->empty()) SILO_TRY(w.entry(path, st, *dest));
      SILO_TRY(w.tree(path, *dest));
    } else if (spec.add && add_auto_extracts(src, path)) {
      SILO_TRY(w.unpack(path, *dest));
    } else {
      if (to_dir && dest->empty() && name.empty()) return fail(Code::Invalid, "COPY " + src);
      SILO_TRY(w.entry(path, st, to_dir ? join(*dest, name) : *dest));
    }
  }
  return w.close();
}

Result<mode_t> parse_chmod(std::string_view value) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v, 8);
  if (value.empty() || ec != std::errc() || p != value.data() + value.size() || v > 07777)
    return fail(Code::Invalid, "invalid --chmod value " + std::string(value) +
                                   ": give octal permission bits, like 755 or 0644");
  return static_cast<mode_t>(v);
}

}  // namespace silo::image
