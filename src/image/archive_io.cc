#include "image/archive_io.h"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <vector>

#include "common/json.h"
#include "common/sha256.h"

namespace silo::image::detail {

namespace {

constexpr size_t kChunk = 64 * 1024;

}  // namespace

ssize_t ArchiveSource::read(archive* a, void* self, const void** out) {
  auto* s = static_cast<ArchiveSource*>(self);
  auto n = (*s->src)(s->buf.data(), s->buf.size());
  if (!n) {
    s->error = n.error();
    archive_set_error(a, EIO, "%s", n.error().message.c_str());
    return -1;
  }
  *out = s->buf.data();
  return static_cast<ssize_t>(*n);
}

ReadFn fd_reader(int fd, std::string what) {
  return [fd, what = std::move(what)](char* buf, size_t len) -> Result<size_t> {
    while (true) {
      ssize_t n = ::read(fd, buf, len);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail_errno(errno, "read " + what);
      return static_cast<size_t>(n);
    }
  };
}

Result<PlainStream> decompress(const ReadFn& src, const WriteFn* out, std::string_view what) {
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  archive_read_support_format_empty(a.get());
  ArchiveSource s{.src = &src};
  auto bad = [&](std::string_view step) -> std::unexpected<Error> {
    if (s.error) return wrap(*s.error, what);
    const char* msg = archive_error_string(a.get());
    return fail(Code::Invalid, std::string(what) + ": " + std::string(step) + ": " +
                                   (msg ? msg : "unreadable") +
                                   "; expected a plain, gzip, bzip2, xz or zstd stream");
  };
  if (archive_read_open(a.get(), &s, nullptr, ArchiveSource::read, nullptr) != ARCHIVE_OK)
    return bad("open");
  Sha256 hash;
  PlainStream result;
  archive_entry* e;
  int r = archive_read_next_header(a.get(), &e);
  if (r < ARCHIVE_WARN && r != ARCHIVE_EOF) return bad("read");
  std::vector<char> buf(kChunk);
  while (r != ARCHIVE_EOF) {
    la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
    if (n < 0) return bad("decompress");
    if (n == 0) break;
    std::string_view chunk(buf.data(), static_cast<size_t>(n));
    hash.update(chunk);
    result.size += chunk.size();
    if (out) SILO_TRY_CTX((*out)(chunk), what);
  }
  result.digest = Digest::sha256(hash.hex_digest());
  return result;
}

std::optional<std::string> clean_relative(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.emplace_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

std::string docker_manifest(const Digest& config, uint64_t config_size,
                            const std::vector<Descriptor>& layers) {
  namespace mt = media_type;
  Json l = Json::array();
  for (const auto& d : layers) {
    std::string type = d.media_type;
    if (type == mt::kOciLayerGzip) type = mt::kDockerLayer;
    if (type == mt::kOciLayer) type = mt::kDockerLayerTar;
    l.push_back({{"mediaType", type}, {"size", d.size}, {"digest", d.digest.str()}});
  }
  Json m{{"schemaVersion", 2},
         {"mediaType", mt::kDockerManifest},
         {"config",
          {{"mediaType", mt::kDockerConfig}, {"size", config_size}, {"digest", config.str()}}},
         {"layers", std::move(l)}};
  return m.dump();
}

std::string rfc3339_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  ::gmtime_r(&ts.tv_sec, &utc);
  char head[32], frac[16];
  std::strftime(head, sizeof head, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(frac, sizeof frac, "%09ld", ts.tv_nsec);
  std::string f = frac;
  while (!f.empty() && f.back() == '0') f.pop_back();  // Go trims trailing zeros
  return std::string(head) + (f.empty() ? "" : "." + f) + "Z";
}

TarWriter::TarWriter(const WriteFn& out) : out_(&out), a_(archive_write_new()) {
  archive_write_set_format_pax_restricted(a_);
  archive_write_set_bytes_in_last_block(a_, 1);
  archive_write_open(
      a_, this, nullptr,
      [](archive*, void* self, const void* buf, size_t n) -> la_ssize_t {
        auto* w = static_cast<TarWriter*>(self);
        if (auto s = (*w->out_)(std::string_view(static_cast<const char*>(buf), n)); !s) {
          w->sink_error_ = s.error();
          return -1;
        }
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
}

TarWriter::~TarWriter() {
  // A writer dropped after an error must not flush the end blocks into a broken stream.
  if (a_) archive_write_free(a_);
}

Error TarWriter::error(std::string_view what) {
  if (sink_error_) return *sink_error_;
  const char* msg = archive_error_string(a_);
  return Error{0, Code::Internal,
               "write tar: " + std::string(what) + ": " + (msg ? msg : "failed")};
}

Status TarWriter::header(const std::string& name, unsigned type, unsigned perm, uint64_t size,
                         const std::string& link, int64_t mtime) {
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(),
                                                             archive_entry_free);
  archive_entry_set_pathname(e.get(), name.c_str());
  archive_entry_set_filetype(e.get(), type);
  archive_entry_set_perm(e.get(), perm);
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
  archive_entry_set_mtime(e.get(), mtime, 0);
  archive_entry_set_uid(e.get(), 0);
  archive_entry_set_gid(e.get(), 0);
  if (!link.empty()) archive_entry_set_symlink(e.get(), link.c_str());
  if (archive_write_header(a_, e.get()) != ARCHIVE_OK) return std::unexpected(error(name));
  return {};
}

Status TarWriter::data(const char* p, size_t n, const std::string& name) {
  while (n > 0) {
    la_ssize_t w = archive_write_data(a_, p, n);
    if (w <= 0) return std::unexpected(error(name));
    p += w, n -= static_cast<size_t>(w);
  }
  return {};
}

Status TarWriter::dir(const std::string& name, int64_t mtime) {
  return header(name, AE_IFDIR, 0755, 0, {}, mtime);
}

Status TarWriter::file(const std::string& name, std::string_view content, int64_t mtime) {
  SILO_TRY(header(name, AE_IFREG, 0644, content.size(), {}, mtime));
  return data(content.data(), content.size(), name);
}

Status TarWriter::file(const std::string& name, uint64_t size, const ReadFn& src, int64_t mtime) {
  SILO_TRY(header(name, AE_IFREG, 0644, size, {}, mtime));
  std::vector<char> buf(kChunk);
  uint64_t done = 0;
  while (true) {
    auto n = src(buf.data(), buf.size());
    if (!n) return wrap(n.error(), "write tar: " + name);
    if (*n == 0) break;
    if (done + *n > size) break;
    SILO_TRY(data(buf.data(), *n, name));
    done += *n;
  }
  if (done != size)
    return fail(Code::Invalid, "write tar: " + name + ": expected " + std::to_string(size) +
                                   " bytes from its source, got a different length");
  return {};
}

Status TarWriter::file(const std::string& name, uint64_t size,
                       const std::function<Status(const WriteFn&)>& produce, int64_t mtime) {
  SILO_TRY(header(name, AE_IFREG, 0644, size, {}, mtime));
  uint64_t done = 0;
  WriteFn sink = [&](std::string_view chunk) -> Status {
    if (done + chunk.size() > size)
      return fail(Code::Invalid, "write tar: " + name + ": its source gives more than the " +
                                     std::to_string(size) + " bytes it had before");
    done += chunk.size();
    return data(chunk.data(), chunk.size(), name);
  };
  SILO_TRY(produce(sink));
  if (done != size)
    return fail(Code::Invalid, "write tar: " + name + ": expected " + std::to_string(size) +
                                   " bytes from its source, got " + std::to_string(done));
  return {};
}

Status TarWriter::symlink(const std::string& name, const std::string& target, int64_t mtime) {
  return header(name, AE_IFLNK, 0777, 0, target, mtime);
}

Status TarWriter::finish() {
  if (archive_write_close(a_) != ARCHIVE_OK) return std::unexpected(error("end of archive"));
  return {};
}

}  // namespace silo::image::detail
