#include "image/blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/sha256.h"
#include "common/sys.h"

namespace silo::image {

namespace {

constexpr size_t kChunk = 64 * 1024;

Status require_sha256(const Digest& d) {
  if (d.algorithm != "sha256")
    return fail(Code::Invalid, "blob " + d.str() +
                                   ": the store keeps sha256 blobs only; ask the registry for "
                                   "the sha256 digest");
  return {};
}

std::string not_found(const Digest& d) {
  return "blob " + d.str() + " not found in the store; pull the image again";
}

// Hashes the first `len` bytes already in `fd` (a resumed ingest file): OpenSSL cannot save
// a hash's state, so resuming costs one read of the partial file, not a re-download.
Status rehash(int fd, uint64_t len, Sha256& hash, const std::string& path) {
  std::string buf(kChunk, '\0');
  uint64_t done = 0;
  while (done < len) {
    ssize_t n =
        ::pread(fd, buf.data(), std::min<uint64_t>(kChunk, len - done), static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno(errno, "read " + path);
    if (n == 0) break;
    hash.update(std::string_view(buf.data(), static_cast<size_t>(n)));
    done += static_cast<uint64_t>(n);
  }
  return {};
}

// Opens and locks the ingest file. The lock is taken on the inode, so after locking we check
// that the path still names that inode: a writer that committed (renamed) or aborted
// (unlinked) in between would otherwise leave us writing into a blob or a deleted file.
Result<UniqueFd> open_locked(const std::string& path, const Digest& d) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto fd = sys::open(path, O_RDWR | O_CREAT, 0644);
    if (!fd) return std::unexpected(fd.error());
    if (::flock(fd->get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK)
        return fail(Code::Conflict, "blob " + d.str() + " is being written by another pull (" +
                                        path + " is locked); wait for it to finish");
      return fail_errno(errno, "lock " + path);
    }
    struct stat by_fd {
    }, by_path{};
    if (::fstat(fd->get(), &by_fd) != 0) return fail_errno(errno, "stat " + path);
    if (::stat(path.c_str(), &by_path) == 0 && by_path.st_ino == by_fd.st_ino &&
        by_path.st_dev == by_fd.st_dev)
      return std::move(*fd);
  }
  return fail(Code::Conflict, "blob " + d.str() + ": " + path +
                                  " keeps being replaced by another writer; retry the pull");
}

}  // namespace

Ingest::Ingest(Ingest&&) noexcept = default;
Ingest& Ingest::operator=(Ingest&&) noexcept = default;
Ingest::~Ingest() = default;

Status Ingest::reject(std::string message) {
  abort();
  return fail(Code::Invalid, "blob " + expected_.short_str() + " " + message +
                                 "; the partial download was removed, pull again");
}

Status Ingest::write(std::string_view data) {
  if (!fd_) return fail(Code::Internal, "blob " + expected_.str() + ": write after commit/abort");
  if (size_ && offset_ + data.size() > *size_)
    return reject("is corrupt: expected " + std::to_string(*size_) + " bytes, got more");
  SILO_TRY_CTX(sys::write_all(fd_.get(), data.data(), data.size()), "write " + ingest_path_);
  hash_->update(data);
  offset_ += data.size();
  return {};
}

Status Ingest::commit() {
  if (!fd_) return fail(Code::Internal, "blob " + expected_.str() + ": commit after commit/abort");
  if (size_ && offset_ != *size_)
    return reject("is truncated: expected " + std::to_string(*size_) + " bytes, got " +
                  std::to_string(offset_));
  Digest got = Digest::sha256(hash_->hex_digest());
  if (got != expected_)
    return reject("is corrupt: expected digest " + expected_.str() + ", got " + got.str());
  // fsync before rename: after a crash a blob either is absent or has all of its bytes.
  if (::fsync(fd_.get()) != 0) return fail_errno(errno, "fsync " + ingest_path_);
  if (::rename(ingest_path_.c_str(), blob_path_.c_str()) != 0)
    return fail_errno(errno, "rename " + ingest_path_ + " to " + blob_path_);
  fd_.reset();
  return {};
}

void Ingest::abort() {
  if (!fd_) return;
  ::unlink(ingest_path_.c_str());  // still locked by us, so no other writer is using it
  fd_.reset();
}

BlobStore::BlobStore(std::string root) : root_(std::move(root)) {}

Status BlobStore::init() {
  SILO_TRY_CTX(sys::mkdir_p(root_ + "/blobs/sha256", 0700), "blob store");
  SILO_TRY_CTX(sys::mkdir_p(root_ + "/ingest", 0700), "blob store");
  return {};
}

std::string BlobStore::blob_path(const Digest& d) const {
  return root_ + "/blobs/" + d.algorithm + "/" + d.hex;
}

bool BlobStore::exists(const Digest& d) const {
  return sys::path_exists(blob_path(d));
}

Result<uint64_t> BlobStore::size(const Digest& d) const {
  struct stat st {};
  if (::stat(blob_path(d).c_str(), &st) != 0) {
    if (errno == ENOENT) return fail(Code::NotFound, not_found(d));
    return fail_errno(errno, "stat " + blob_path(d));
  }
  return static_cast<uint64_t>(st.st_size);
}

Result<UniqueFd> BlobStore::open(const Digest& d) const {
  auto fd = sys::open(blob_path(d), O_RDONLY);
  if (!fd && fd.error().sys_errno == ENOENT) return fail(Code::NotFound, not_found(d));
  return fd;
}

Result<std::string> BlobStore::read(const Digest& d, uint64_t max_size) const {
  auto n = size(d);
  if (!n) return std::unexpected(n.error());
  if (*n > max_size)
    return fail(Code::Invalid, "blob " + d.str() + " is " + std::to_string(*n) +
                                   " bytes, more than the " + std::to_string(max_size) +
                                   " allowed for a manifest or config");
  return sys::read_file(blob_path(d));
}

Status BlobStore::verify(const Digest& d) const {
  auto got = sha256_file(blob_path(d));
  if (!got) {
    if (got.error().sys_errno == ENOENT) return fail(Code::NotFound, not_found(d));
    return std::unexpected(got.error());
  }
  if (*got != d.hex)
    return fail(Code::Invalid, "blob " + d.short_str() + " is corrupt: expected digest " + d.str() +
                                   ", got sha256:" + *got + "; remove it and pull again");
  return {};
}

Result<Ingest> BlobStore::begin(const Digest& d, std::optional<uint64_t> size) {
  SILO_TRY(require_sha256(d));
  Ingest in;
  in.expected_ = d;
  in.size_ = size;
  in.ingest_path_ = root_ + "/ingest/" + d.algorithm + "-" + d.hex;
  in.blob_path_ = blob_path(d);
  auto fd = open_locked(in.ingest_path_, d);
  if (!fd) return std::unexpected(fd.error());
  in.fd_ = std::move(*fd);
  in.hash_ = std::make_unique<Sha256>();
  struct stat st {};
  if (::fstat(in.fd_.get(), &st) != 0) return fail_errno(errno, "stat " + in.ingest_path_);
  uint64_t have = static_cast<uint64_t>(st.st_size);
  if (size && have > *size) {  // a leftover longer than the blob can only be garbage
    if (::ftruncate(in.fd_.get(), 0) != 0) return fail_errno(errno, "truncate " + in.ingest_path_);
    have = 0;
  }
  SILO_TRY(rehash(in.fd_.get(), have, *in.hash_, in.ingest_path_));
  if (::lseek(in.fd_.get(), static_cast<off_t>(have), SEEK_SET) < 0)
    return fail_errno(errno, "seek " + in.ingest_path_);
  in.offset_ = have;
  return in;
}

Status BlobStore::write(const Digest& d, std::optional<uint64_t> size, const ReadFn& src) {
  if (exists(d)) return {};
  auto in = begin(d, size);
  if (!in) return std::unexpected(in.error());
  // A one-shot write starts from zero: the source cannot skip what an earlier attempt wrote.
  if (in->offset() != 0) {
    in->abort();
    in = begin(d, size);
    if (!in) return std::unexpected(in.error());
  }
  std::string buf(kChunk, '\0');
  while (true) {
    auto n = src(buf.data(), buf.size());
    if (!n) {
      in->abort();
      return wrap(n.error(), "blob " + d.short_str());
    }
    if (*n == 0) break;
    if (auto w = in->write(std::string_view(buf.data(), *n)); !w) {
      in->abort();
      return w;
    }
  }
  return in->commit();
}

Status BlobStore::write(const Digest& d, std::string_view data) {
  return write(d, data.size(), [&data](char* buf, size_t len) -> Result<size_t> {
    size_t n = std::min(len, data.size());
    std::copy_n(data.data(), n, buf);
    data.remove_prefix(n);
    return n;
  });
}

Result<Digest> BlobStore::put(std::string_view data) {
  Digest d = Digest::of(data);
  SILO_TRY(write(d, data));
  return d;
}

Status BlobStore::remove(const Digest& d) {
  if (::unlink(blob_path(d).c_str()) != 0) {
    if (errno == ENOENT) return fail(Code::NotFound, not_found(d));
    return fail_errno(errno, "remove " + blob_path(d));
  }
  return {};
}

Result<std::vector<Digest>> BlobStore::list() const {
  std::string dir = root_ + "/blobs/sha256";
  DIR* dp = ::opendir(dir.c_str());
  if (!dp) return fail_errno(errno, "list " + dir);
  std::vector<Digest> out;
  while (auto* e = ::readdir(dp)) {
    // Anything that is not a digest (a stray file) is skipped, not an error.
    if (auto d = Digest::parse(std::string("sha256:") + e->d_name)) out.push_back(std::move(*d));
  }
  ::closedir(dp);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace silo::image
