#pragma once
// docker import and docker commit: a new image from a rootfs tarball, or from a base image
// plus a container's overlay upper dir. Both apply --change instructions (image_changes.h)
// and store the layer, the config and a Docker schema 2 manifest in the blob store.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/json.h"
#include "image/blob_store.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/platform.h"

namespace silo::image {

// An image made here; every blob named is in the store.
struct NewImage {
  std::string config;    // the image config JSON
  Digest config_digest;  // the image id
  // The new layer as stored; digest empty when a commit found no change (Docker then adds
  // no layer, only a history entry with empty_layer).
  Descriptor layer;
  Digest diff_id;
  uint64_t uncompressed_size = 0;  // of the new layer's tar
  std::string manifest;  // Docker schema 2: the base layers, then the new one
  Digest manifest_digest;
};

struct ImportOptions {
  std::vector<std::string> changes;  // --change
  std::string message;               // --message: the history comment (and config comment)
  std::string source = "-";          // history says "Imported from <source>" without a message
  std::string created;               // RFC 3339; empty: now
  std::optional<Platform> platform;  // --platform; empty: the host's
  std::string spool_dir = "/tmp";    // the decompressed tar and a trial unpack go here
};

// `docker import`: `src` is a rootfs tar, plain, gzip, bzip2, xz or zstd. It is decompressed
// to a spool file and unpacked into a scratch directory (which refuses what apply_layer
// refuses: paths leaving the root, ...) for its diff_id; the uncompressed tar is stored as
// the layer (kDockerLayerTar), as Docker does. Invalid for a bad change ("run is not a valid
// change command") before anything is read, or for input that is not a tar.
[[nodiscard]] Result<NewImage> import_rootfs(const ReadFn& src, BlobStore& store,
                                             const ImportOptions& options = {});

struct CommitOptions {
  std::string author;                      // --author
  std::string comment;                     // --message
  std::vector<std::string> changes;        // --change
  std::vector<std::string> container_cmd;  // the container's command: history created_by
  std::string container_id;
  // The container's run config (Cmd, Env, ... as the container was created); empty: the
  // base image's. Changes apply on top of it.
  std::optional<Json> run_config;
  std::string created;             // RFC 3339; empty: now
  std::string spool_dir = "/tmp";  // for diff_layer_to_store
};

// `docker commit`: diffs `upper_dir` (an overlayfs upper dir) into a gzip layer, and makes
// the child config of `base_config` (the base image's config JSON, whose layers are
// `base_layers`): platform kept, diff_id and a history entry (created_by = the command,
// author, comment) appended, changes applied. Errors name the base image or the change.
[[nodiscard]] Result<NewImage> commit_container(std::string_view base_config,
                                                const std::vector<Descriptor>& base_layers,
                                                const std::string& upper_dir, BlobStore& store,
                                                const CommitOptions& options = {});

// The diff_id of a layer with no entries (1024 zero bytes), which Docker never adds to rootfs.
inline constexpr std::string_view kEmptyLayerDiffId =
    "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

}  // namespace silo::image
