#pragma once
// Private to src/image: the streaming pieces that image save, load and import share —
// reading a file descriptor, decompressing a (gzip/bz2/xz/zstd) stream with libarchive while
// hashing it, and writing a tar entry by entry to a WriteFn.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "image/blob_store.h"
#include "image/digest.h"
#include "image/layer_diff.h"
#include "image/manifest.h"

struct archive;

namespace silo::image::detail {

// Feeds libarchive from a ReadFn: `read` is archive_read_open's read callback. A read
// error is kept in `error`, so the caller reports it rather than libarchive's EIO text.
struct ArchiveSource {
  const ReadFn* src;
  std::vector<char> buf = std::vector<char>(64 * 1024);
  std::optional<Error> error;
  static ssize_t read(archive* a, void* self, const void** out);
};

// A ReadFn over `fd` (not owned); read errors name `what`.
ReadFn fd_reader(int fd, std::string what);

// What went through a decompressor: the sha256 and length of the uncompressed bytes.
struct PlainStream {
  Digest digest;
  uint64_t size = 0;
};

// Decompresses `src` (plain, gzip, bzip2, xz or zstd: whatever libarchive recognises) and
// hands the uncompressed bytes to `out` when given. Invalid names `what` when the data is
// not a stream libarchive can read.
[[nodiscard]] Result<PlainStream> decompress(const ReadFn& src, const WriteFn* out,
                                             std::string_view what);

// "./a//b/" -> "a/b": a relative path with "." and empty parts dropped and ".." applied;
// nullopt when a ".." climbs above the top.
std::optional<std::string> clean_relative(std::string_view path);

// A Docker schema 2 manifest for a config and its layers; OCI layer types become their
// Docker names (tar+gzip -> rootfs.diff.tar.gzip, tar -> rootfs.diff.tar).
std::string docker_manifest(const Digest& config, uint64_t config_size,
                            const std::vector<Descriptor>& layers);

// RFC 3339 with nanoseconds in UTC, as Go's time.Time marshals: "2024-01-01T00:00:00.5Z".
std::string rfc3339_now();

// Writes a tar (pax where needed, no padding to a 10 KiB record, as Go's archive/tar)
// entry by entry to `out`. Owner 0:0, no user/group names.
class TarWriter {
 public:
  explicit TarWriter(const WriteFn& out);
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  [[nodiscard]] Status dir(const std::string& name, int64_t mtime);
  [[nodiscard]] Status file(const std::string& name, std::string_view data, int64_t mtime);
  // A file of `size` bytes read from `src` to the end; Invalid when it gives another length.
  [[nodiscard]] Status file(const std::string& name, uint64_t size, const ReadFn& src,
                            int64_t mtime);
  // A file of `size` bytes that `produce` writes through the WriteFn it is given; Invalid
  // when it writes another length.
  [[nodiscard]] Status file(const std::string& name, uint64_t size,
                            const std::function<Status(const WriteFn&)>& produce, int64_t mtime);
  [[nodiscard]] Status symlink(const std::string& name, const std::string& target, int64_t mtime);
  // Writes the two end-of-archive blocks.
  [[nodiscard]] Status finish();

 private:
  [[nodiscard]] Status header(const std::string& name, unsigned type, unsigned perm, uint64_t size,
                              const std::string& link, int64_t mtime);
  [[nodiscard]] Status data(const char* p, size_t n, const std::string& name);
  [[nodiscard]] Error error(std::string_view what);

  const WriteFn* out_;
  archive* a_ = nullptr;
  std::optional<Error> sink_error_;
};

}  // namespace silo::image::detail
