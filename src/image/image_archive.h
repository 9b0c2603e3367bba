#pragma once
// Image archives: what `docker save` writes and `docker load` reads.
//   docker-archive   manifest.json ([{Config, RepoTags, Layers}]), <config-hex>.json,
//                    <layer-id>/layer.tar (+ VERSION, json), repositories
//   OCI image layout oci-layout, index.json (ref names in annotations), blobs/sha256/<hex>
// Load detects which, checks every blob and puts it into the blob store; save writes either
// from the store. Both stream: a layer is never held in memory.

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "image/blob_store.h"
#include "image/digest.h"
#include "image/layer_diff.h"
#include "image/manifest.h"
#include "image/reference.h"

namespace silo::image {

enum class ArchiveFormat { DockerArchive, OciLayout };

// One image of an archive, as stored.
struct ArchiveImage {
  Digest config_digest;              // the image id
  std::string manifest;              // the manifest bytes, stored in the blob store too
  Digest manifest_digest;            // sha256 of `manifest`
  std::vector<Descriptor> layers;    // as stored: digest, media type, size; base first
  std::vector<Digest> diff_ids;      // from the config, one per layer
  std::vector<Reference> repo_tags;  // normalised ("docker.io/library/busybox:latest")
};

struct LoadResult {
  ArchiveFormat format = ArchiveFormat::DockerArchive;
  std::vector<ArchiveImage> images;
};

struct LoadOptions {
  // Where the archive's files wait (in a directory of their own, removed at the end) until
  // the archive has been read to its end: docker save puts manifest.json last.
  std::string spool_dir = "/tmp";
};

// Reads an image archive (a tar, plain or gzip) from `src` and puts its configs, layers and
// manifests into `store`, each verified. docker-archive layers are uncompressed tars whose
// digest must equal the config's rootfs.diff_ids entry; the manifest made for them is a
// Docker schema 2 manifest with layer type kDockerLayerTar. An OCI layout's nested indexes
// resolve to the host platform's manifest. Repo tags come from manifest.json's RepoTags, or
// from io.containerd.image.name / org.opencontainers.image.ref.name annotations (a ref name
// that is only a tag, with no image name, tags nothing).
// Invalid errors name the file in the archive and what is wrong with it
// ("load: manifest.json: [0].Layers[1]: file 3f…/layer.tar is not in the archive"). All
// checks run before the first blob is written; a failure leaves no partial blob.
[[nodiscard]] Result<LoadResult> load_archive(const ReadFn& src, BlobStore& store,
                                              const LoadOptions& options = {});

// Parses docker-archive's manifest.json (exposed for the fuzz target and tests).
struct DockerArchiveEntry {
  std::string config;                  // path of the config file in the archive
  std::vector<std::string> repo_tags;  // as written ("busybox:latest")
  std::vector<std::string> layers;     // paths of the layer tars
};
[[nodiscard]] Result<std::vector<DockerArchiveEntry>> parse_docker_archive_manifest(
    std::string_view body);
// Parses an OCI layout's index.json (or a nested index blob); Invalid names `what`.
[[nodiscard]] Result<Index> parse_oci_index(std::string_view body, std::string_view what);

// An image to save: its config and layers in the store, and its tags.
struct SaveImage {
  Digest config_digest;
  std::vector<Descriptor> layers;    // as stored (gzip ones are written uncompressed)
  std::vector<Reference> repo_tags;  // tags to write; none: the image is saved untagged
  // OCI layout only: the manifest bytes to write as they are (keeps the manifest digest);
  // empty: an OCI manifest is made from config and layers.
  std::string manifest;
};

// Writes a docker-archive as Docker 20.10's `docker save` does: <layer-id>/{VERSION,json,
// layer.tar} per layer (a layer repeated within or across images is a symlink to its first
// copy), <config-hex>.json, manifest.json and repositories. Errors name the blob.
[[nodiscard]] Status save_docker_archive(const BlobStore& store,
                                         const std::vector<SaveImage>& images, const WriteFn& out);
// Writes an OCI image layout: oci-layout, blobs/sha256/<hex> for every config, layer and
// manifest, and index.json with one entry per tag (io.containerd.image.name = the full
// reference, org.opencontainers.image.ref.name = the tag, as Docker 25 writes them).
[[nodiscard]] Status save_oci_layout(const BlobStore& store, const std::vector<SaveImage>& images,
                                     const WriteFn& out);

}  // namespace silo::image
