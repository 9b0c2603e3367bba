#pragma once
// Unpacking a layer tar (plain, gzip or zstd) into a directory that becomes an overlayfs
// lower layer, converting OCI/Docker whiteouts to overlayfs form:
//   <dir>/.wh.<name>    -> <dir>/<name> as a character device 0/0
//   <dir>/.wh..wh..opq  -> xattr trusted.overlay.opaque=y on <dir>
// Every path is resolved inside the target (openat2 RESOLVE_IN_ROOT), so neither "..", an
// absolute name, nor a symlink in the layer can reach outside it.

#include <cstdint>
#include <string>

#include "common/error.h"
#include "image/blob_store.h"
#include "image/digest.h"

namespace silo::image {

struct ApplyOptions {
  // Give entries the uid/gid the tar records (needs root); off: they belong to the caller.
  bool same_owner = true;
};

struct ApplyResult {
  Digest diff_id;  // sha256 of the uncompressed tar, as rootfs.diff_ids has it
  uint64_t uncompressed_size = 0;
};

// Unpacks the layer read from `src` into the existing directory `dir`. Errors name the entry
// ("layer entry ../etc/passwd: path leaves the layer root; refusing the layer"). On an error
// `dir` holds a partial layer that the caller removes.
[[nodiscard]] Result<ApplyResult> apply_layer(const ReadFn& src, const std::string& dir,
                                              const ApplyOptions& options = {});
// The same, reading the layer from a file descriptor (a blob from the store).
[[nodiscard]] Result<ApplyResult> apply_layer(int fd, const std::string& dir,
                                              const ApplyOptions& options = {});

}  // namespace silo::image
