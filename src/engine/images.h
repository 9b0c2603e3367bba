#pragma once
// The engine's image service: the image index (store.h) over the blob store and the
// unpacked layers (silo_image), and what containers need of an image: its overlay lower
// directories and its run defaults. Layers unpack once per chain id, under
// <root>/layers/<chain-id hex>/, and are shared by every image built on them; blobs live
// under <root>/blobs/sha256/. Thread-safe.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/json.h"
#include "engine/engine.h"
#include "engine/store.h"
#include "image/blob_store.h"
#include "image/config.h"
#include "image/image_import.h"
#include "image/layer_diff.h"
#include "image/registry.h"

namespace silo::engine {

// The ids of the containers that use an image, as the caller knows them.
struct ImageUsers {
  std::vector<std::string> running, stopped;
  std::set<std::string> in_use;  // every image id some container uses
};

class ImageService {
 public:
  // `root` is <data-root>/image.
  ImageService(Store* store, std::string root);

  // Creates the blob store and the layers directory.
  [[nodiscard]] Status init();
  image::BlobStore& blobs() { return *blobs_; }

  // Registers an image whose config and layer blobs are in blobs(): checks the layers
  // against the config's rootfs.diff_ids, unpacks the ones not unpacked yet (verifying
  // each diff_id), records the image and points every ref in `refs` (normalised, e.g.
  // "docker.io/library/busybox:latest") at it. `layers` is
  // [{"digest","diff_id","media_type","size"}], base first. Returns the image id.
  // Errors: Invalid for a config or layer that does not match ("layer sha256:… is corrupt:
  // …"), NotFound for a blob that is missing.
  // `parent` is the image a build step ran on ("" for others).
  [[nodiscard]] Result<std::string> add(const std::string& config, const Json& layers,
                                        const std::vector<std::string>& refs,
                                        std::string_view parent = {});
  // Resolves a reference as dockerd does: "busybox", "busybox:1", "docker.io/library/x:y",
  // "name@sha256:…", a full or short id with or without "sha256:". NotFound is Docker's
  // "No such image: busybox:latest"; an ambiguous short id is Invalid.
  [[nodiscard]] Result<ImageRef> resolve(std::string_view ref);
  [[nodiscard]] Result<std::vector<ImageRef>> list();
  // docker tag SOURCE TARGET. Errors: NotFound for the source, Invalid for the target.
  [[nodiscard]] Status tag(std::string_view source, std::string_view target);
  // DELETE /images/{name} as dockerd: a name untags (and deletes the image when it was its
  // last name); an id deletes the image with every name. Conflict errors carry dockerd's
  // messages ("unable to remove repository reference \"busybox\" (must force) - container
  // 3f2a… is using its referenced image 1a2b…"). Layers and blobs no other image uses
  // are removed, unless a container still uses the image. Returns Docker's
  // [{"Untagged": …}, {"Deleted": …}] list.
  [[nodiscard]] Result<Json> remove(std::string_view ref, bool force, const ImageUsers& users);
  // POST /images/prune: images no container uses (`used`: their ids) — only untagged ones
  // unless filter dangling=false; filters until (timestamp or duration) and label. Returns
  // {"ImagesDeleted": [{"Untagged"}|{"Deleted"}...], "SpaceReclaimed": bytes}.
  [[nodiscard]] Result<Json> prune(const std::map<std::string, std::vector<std::string>>& filters,
                                   const std::set<std::string>& used);
  // GET /images/{name}/history: newest step first, as dockerd.
  [[nodiscard]] Result<Json> history(std::string_view ref);
  // The lower directories of image `id` for overlayfs, top layer first.
  [[nodiscard]] Result<std::vector<std::string>> lowers(std::string_view id);

  // --- archives (images_archive.cc) ---

  // docker import: a rootfs tarball read from `src` becomes a one-layer image, tagged
  // `ref` when not empty. Returns the id. Errors: Invalid for a bad --change, a bad tar or
  // a bad ref (checked before the tarball is read).
  [[nodiscard]] Result<std::string> import(const image::ReadFn& src, std::string_view ref,
                                           image::ImportOptions options);
  // docker load: every image of a docker-archive or OCI layout read from `src`; returns
  // docker's lines ("Loaded image: busybox:latest", "Loaded image ID: sha256:…").
  [[nodiscard]] Result<std::vector<std::string>> load(const image::ReadFn& src);
  // docker save: the images `refs` name written to `out` as a docker-archive or, for
  // `podman save --format oci-archive`, an OCI image layout (a pulled or pushed image keeps
  // its manifest, so its digest). A ref that is a name saves that tag; an id saves the image
  // untagged, as dockerd. NotFound names the first ref that is not an image (checked before
  // anything is written).
  [[nodiscard]] Status save(const std::vector<std::string>& refs, image::ArchiveFormat format,
                            const image::WriteFn& out);
  // docker commit: a child of image `base_id` with the container's changes (`upper_dir`)
  // as a new layer, tagged `ref` when not empty. Returns the new id.
  [[nodiscard]] Result<std::string> commit(std::string_view base_id, const std::string& upper_dir,
                                           std::string_view ref, image::CommitOptions options);

  // --- docker build (images_archive.cc) ---

  // The image of one build step: a child of `parent_id` ("" for FROM scratch) with
  // `upper_dir`'s changes as its layer ("" or an unchanged dir: no layer, an empty_layer
  // history entry), `after` as its config and `cmd` (image/build_cache.h's StepRecord) as
  // its history's created_by. It records its parent and is untagged. Returns the id.
  [[nodiscard]] Result<std::string> build_step(std::string_view parent_id,
                                               const std::string& upper_dir,
                                               const image::ImageConfig& after,
                                               const std::vector<std::string>& cmd);
  // The image an earlier step with cache key `key` made, when it is still here.
  [[nodiscard]] Result<std::optional<std::string>> cached_step(std::string_view key);
  [[nodiscard]] Status remember_step(std::string_view key, std::string_view id);
  // The config of a stage that starts FROM scratch: the host's platform, nothing else.
  static image::ImageConfig scratch_config();

 private:
  Result<std::string> resolve_id(std::string_view ref);
  // The normalised tag `ref` names ("busybox" -> "docker.io/library/busybox:latest");
  // Invalid for a bad or a digest reference.
  Result<std::string> tag_ref(std::string_view ref);
  // tag_ref as a list of refs for add(): none for an empty `ref` (an untagged image).
  Result<std::vector<std::string>> tag_refs(std::string_view ref);
  std::string spool_dir() const { return root_ + "/tmp"; }
  Result<ImageRef> to_ref(const ImageRecord& rec);
  Status unpack(const Json& layer, const std::string& chain_hex);
  Status remove_unused(const ImageRecord& gone);
  std::string layer_dir(const std::string& chain_hex) const;
  // The tags push(ref) pushes, sorted, with their image ids (push's errors).
  Result<std::vector<std::pair<image::Reference, std::string>>> push_tags(
      const image::Reference& ref);

  Store* store_;
  std::string root_;
  std::unique_ptr<image::BlobStore> blobs_;
  std::mutex unpack_mu_;  // one unpack of a layer at a time

 public:
  // --- registry (images_registry.cc) ---

  // docker pull: the manifest of `ref` (the `platform` entry of a list or index), its
  // config and missing layers fetched into blobs() in parallel, then add() with the tag
  // and the digest ref (RepoDigests). The manifest blobs are kept for push.
  [[nodiscard]] Result<PullResult> pull(const image::Reference& ref,
                                        const image::Platform& platform,
                                        const image::RegistryOptions& options,
                                        const RegistryProgressFn& progress);
  // docker push: the tag `ref` names or, when `ref` has no tag, every tag of its repository
  // in lexical order (dockerd's push of an empty `tag`, docker push --all-tags). dockerd's
  // "The push refers to repository [...]" once, then per tag: blobs the registry lacks
  // (mounted from another repository of the same registry when the image came from one),
  // then the stored manifest (or a schema-2 one made from config and layers); the pushed
  // digest becomes a RepoDigest and `pushed` gets the tag's result. NotFound (before any
  // progress) "An image does not exist locally with the tag: …" for a repository with no
  // image, "tag does not exist: …" for a missing tag; Invalid for a digest reference.
  [[nodiscard]] Status push(const image::Reference& ref, const image::RegistryOptions& options,
                            const RegistryProgressFn& progress, const PushedFn& pushed);
  // docker login: RegistryClient::check_login on registry `host` with the credentials
  // `options` hold for it. Permission "Get \"https://host/v2/\": unauthorized: incorrect
  // username or password"; Unavailable when `host` is not a registry that answers.
  [[nodiscard]] static Status login(const std::string& host, const image::RegistryOptions& options);
};

// The `reference` filter of GET /images/json, as dockerd: `pattern` (path.Match globs)
// against the tag's familiar form ("busybox:latest") or its familiar name ("busybox").
bool tag_matches(const std::string& familiar_tag, std::string_view pattern);

// dockerd's "No such image: busybox:1" (the ref with ":latest" added when it has no tag).
Error no_such_image(std::string_view ref);

// Docker's ImageSummary (GET /images/json).
Json image_summary(const ImageRef& img);

// Whether image `img`'s config labels `want` ("key" or "key=value"), for the label filters.
bool image_has_label(const ImageRef& img, const std::string& want);
// True for a non-empty string of lowercase hex digits (an image id or a prefix of one).
bool is_hex(std::string_view s);
// A normalised ref's familiar form: "docker.io/library/busybox:latest" -> "busybox:latest"
// (a digest ref keeps its digest); `ref` itself when it does not parse.
std::string familiar_ref(const std::string& ref);
// The 12 hex of an id ("sha256:3f2a…" -> "3f2a…"), as dockerd's messages show it.
std::string short_image_id(const std::string& id);

// The single-platform manifest stored for image `rec` (pulled or pushed before) and its
// media type: one of its digest refs names it, or names a list with a stored entry, whose
// config is the image. nullopt when none is stored (images_registry.cc).
std::optional<std::pair<std::string, std::string>> stored_manifest(const ImageRecord& rec,
                                                                   image::BlobStore& blobs);

// Chain ids of `diff_ids` (OCI image spec): the first is its diff_id, each next one the
// sha256 of "<previous chain id> <diff_id>". Hex only, base first.
std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids);

}  // namespace silo::engine
