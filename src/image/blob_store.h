#pragma once
// The content-addressed blob store: <root>/blobs/sha256/<hex>, one file per blob, written
// only by renaming a verified file into place, so a blob that exists is always whole.
// Writes in progress live in <root>/ingest/sha256-<hex> and can be resumed.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "image/digest.h"

namespace silo {
class Sha256;
}

namespace silo::image {

// A source of bytes: fills up to `len` bytes of `buf`, returns how many; 0 at the end.
using ReadFn = std::function<Result<size_t>(char* buf, size_t len)>;

// One blob being written. Holds an exclusive lock on its ingest file, so a second writer
// of the same blob gets Conflict. Dropping it without commit() keeps the partial file for a
// later BlobStore::begin() to resume; abort() removes it.
class Ingest {
 public:
  Ingest(Ingest&&) noexcept;
  Ingest& operator=(Ingest&&) noexcept;
  ~Ingest();

  // Bytes written so far, including those of an earlier attempt that this one resumes.
  uint64_t offset() const { return offset_; }
  // Appends `data`. Writing past the expected size removes the ingest file and fails Invalid.
  [[nodiscard]] Status write(std::string_view data);
  // Checks size and digest, then moves the file into the store. On a mismatch the ingest
  // file is removed and the error says "blob sha256:… is corrupt: expected digest …, got …"
  // (or "is truncated: expected N bytes, got M").
  [[nodiscard]] Status commit();
  // Removes the ingest file.
  void abort();

 private:
  friend class BlobStore;
  Ingest() = default;
  [[nodiscard]] Status reject(std::string message);

  Digest expected_;
  std::optional<uint64_t> size_;
  std::string ingest_path_, blob_path_;
  UniqueFd fd_;
  std::unique_ptr<Sha256> hash_;
  uint64_t offset_ = 0;
};

class BlobStore {
 public:
  // A store rooted at `root` (e.g. /var/lib/silo). Call init() before use.
  explicit BlobStore(std::string root);

  // Creates <root>/blobs/sha256 and <root>/ingest.
  [[nodiscard]] Status init();
  // <root>/blobs/sha256/<hex>.
  std::string blob_path(const Digest& d) const;
  bool exists(const Digest& d) const;
  // The blob's size; NotFound names the digest.
  [[nodiscard]] Result<uint64_t> size(const Digest& d) const;
  // Opens the blob read-only.
  [[nodiscard]] Result<UniqueFd> open(const Digest& d) const;
  // The whole blob (manifests, configs); Invalid when larger than `max_size`.
  [[nodiscard]] Result<std::string> read(const Digest& d, uint64_t max_size = 8u << 20) const;
  // Re-hashes the blob; Invalid ("is corrupt") when its content no longer matches.
  [[nodiscard]] Status verify(const Digest& d) const;

  // Starts (or resumes, when a partial ingest file exists) writing blob `d`. `size` is the
  // expected length when known. Conflict when another writer holds it; Invalid for a digest
  // algorithm other than sha256.
  [[nodiscard]] Result<Ingest> begin(const Digest& d, std::optional<uint64_t> size);
  // Writes blob `d` from `src` to the end, verified; returns at once when `d` is already
  // stored. On any failure nothing is left behind.
  [[nodiscard]] Status write(const Digest& d, std::optional<uint64_t> size, const ReadFn& src);
  [[nodiscard]] Status write(const Digest& d, std::string_view data);
  // Stores `data` under its own sha256 digest and returns it.
  [[nodiscard]] Result<Digest> put(std::string_view data);

  // Deletes a blob; NotFound when absent.
  [[nodiscard]] Status remove(const Digest& d);
  // Every stored blob, sorted.
  [[nodiscard]] Result<std::vector<Digest>> list() const;

 private:
  std::string root_;
};

}  // namespace silo::image
