#pragma once
// Image manifests and indexes: Docker schema 2 manifest and manifest list, OCI image
// manifest and index; and choosing the host's manifest from a list or index.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/error.h"
#include "image/digest.h"
#include "image/platform.h"

namespace silo::image {

namespace media_type {
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kDockerLayer =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
// An uncompressed layer (docker load keeps a docker-archive's layer.tar as it is).
inline constexpr std::string_view kDockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerForeignLayer =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
}  // namespace media_type

// The Accept header value for GET /v2/<name>/manifests/<ref>: all four manifest types.
std::string manifest_accept_header();

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;  // set in index / manifest list entries
};

// A single-platform image: its config blob and its layers, base first.
struct Manifest {
  std::string media_type;  // kDockerManifest or kOciManifest
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
};

// A multi-platform image: one manifest per platform.
struct Index {
  std::string media_type;  // kDockerManifestList or kOciIndex
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
};

using AnyManifest = std::variant<Manifest, Index>;

// Parses a manifest body. `content_type` is the registry's Content-Type (may be empty); the
// kind comes from it, else from the body's mediaType, else from its shape (OCI allows
// mediaType to be absent). Invalid errors name the field ("manifest: layers[2].digest: ...");
// schema 1 is refused with what to do.
[[nodiscard]] Result<AnyManifest> parse_manifest(std::string_view body,
                                                 std::string_view content_type = {});

// The entry of `index` for `host` (the best match_rank; the first on ties). NotFound:
// "no matching manifest for linux/amd64 in the manifest list entries (available: ...)".
[[nodiscard]] Result<Descriptor> select_manifest(const Index& index,
                                                 const Platform& host = host_platform());

enum class Compression { None, Gzip, Zstd };
// The compression a layer media type implies; Invalid for a type that is not a layer.
[[nodiscard]] Result<Compression> layer_compression(std::string_view media_type);

}  // namespace silo::image
