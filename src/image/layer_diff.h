#pragma once
// Layer diff, the reverse of layer_apply: a directory becomes a layer tar in OCI form.
//   overlayfs upper dir          -> layer tar
//   <dir>/<name> char device 0/0 -> <dir>/.wh.<name>     (an empty regular file, mode 0600)
//   xattr trusted.overlay.opaque=y on <dir> -> <dir>/.wh..wh..opq after <dir>'s own entry
// The tar is deterministic, as Docker's: entries sorted by name within each directory,
// only mtime kept (no atime/ctime), no user/group names, hard links within the tree as link
// entries, sockets skipped, xattrs limited to security.capability, two zero blocks at the end
// with no padding to a 10 KiB record. The same tree always gives the same diff_id.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "image/blob_store.h"
#include "image/digest.h"
#include "image/manifest.h"

namespace silo::image {

// A sink for the layer's bytes, called in order; an error stops the diff.
using WriteFn = std::function<Status(std::string_view data)>;

enum class DiffMode {
  OverlayUpper,  // convert overlayfs whiteouts and opaque dirs; refuse redirect_dir renames
  Plain,         // a whole rootfs (export, import, commit of a base): every entry as it is
};

struct DiffOptions {
  DiffMode mode = DiffMode::OverlayUpper;
  Compression compression = Compression::None;  // None or Gzip
};

struct DiffResult {
  Digest diff_id;  // sha256 of the uncompressed tar, for rootfs.diff_ids
  uint64_t uncompressed_size = 0;
  Digest digest;  // sha256 of the bytes written (== diff_id when uncompressed)
  uint64_t size = 0;
  // The layer media type for an OCI manifest: kOciLayer or kOciLayerGzip.
  std::string media_type;
};

// Writes `dir` as a layer tar to `out`. Errors name the entry ("layer diff: usr/lib/x: ...")
// and are NotFound when `dir` does not exist, Invalid for a zstd request or an overlay
// redirect (a directory renamed with redirect_dir=on, which a tar cannot express).
[[nodiscard]] Result<DiffResult> diff_layer(const std::string& dir, const WriteFn& out,
                                            const DiffOptions& options = {});

// diff_layer into the blob store: the tar is spooled to an unlinked temporary file in
// `spool_dir` (the digest is only known at the end), then stored under its digest.
[[nodiscard]] Result<DiffResult> diff_layer_to_store(const std::string& dir, BlobStore& store,
                                                     const std::string& spool_dir,
                                                     const DiffOptions& options = {});

}  // namespace silo::image
