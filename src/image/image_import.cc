// docker import and docker commit. The config is built as Docker's image.NewChildImage and
// daemon/import.go build theirs: a fresh V1 config (architecture, os, created, author,
// config, rootfs, history), not a copy of the parent's, so the parent's comment, container
// and container_config do not leak into the child.

#include "image/image_import.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>


#include "common/guards.h"
#include "common/sys.h"
#include "image/archive_io.h"
#include "image/config.h"
#include "image/image_changes.h"
#include "image/layer_apply.h"
#include "image/layer_diff.h"

namespace silo::image {

namespace mt = media_type;

namespace {

Status rewind(int fd, const std::string& what) {
  if (::lseek(fd, 0, SEEK_SET) < 0) return fail_errno(errno, "rewind " + what);
  return {};
}

// The rootfs tar, decompressed into an unnamed spool file: nothing remains after a crash.
Result<std::pair<UniqueFd, detail::PlainStream>> spool_plain(const ReadFn& src,
                                                             const std::string& spool_dir) {
  auto fd = sys::open(spool_dir, O_RDWR | O_TMPFILE, 0600);
  if (!fd) return wrap(fd.error(), "import: spool file in " + spool_dir);
  int raw = fd->get();
  WriteFn to_spool = [raw](std::string_view d) { return sys::write_all(raw, d.data(), d.size()); };
  auto plain = detail::decompress(src, &to_spool, "import: the rootfs tarball");
  if (!plain) return std::unexpected(plain.error());
  return std::pair{std::move(*fd), *plain};
}

// Stores the config, the manifest over `layers`, and fills the rest of `img`.
Status finish_image(BlobStore& store, const Json& config, const std::vector<Descriptor>& layers,
                    NewImage& img) {
  img.config = config.dump();
  auto digest = store.put(img.config);
  if (!digest) return wrap(digest.error(), "store the image config");
  img.config_digest = *digest;
  img.manifest = detail::docker_manifest(img.config_digest, img.config.size(), layers);
  auto m = store.put(img.manifest);
  if (!m) return wrap(m.error(), "store the image manifest");
  img.manifest_digest = *m;
  return {};
}

Json platform_fields(const Platform& p) {
  Json j{{"architecture", p.architecture}, {"os", p.os}};
  if (!p.variant.empty()) j["variant"] = p.variant;
  if (!p.os_version.empty()) j["os.version"] = p.os_version;
  if (!p.os_features.empty()) j["os.features"] = p.os_features;
  return j;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

}  // namespace

Result<NewImage> import_rootfs(const ReadFn& src, BlobStore& store, const ImportOptions& options) {
  // Changes first: a typo must not cost a read of a large tarball.
  Json run_config = Json::object();
  SILO_TRY_CTX(apply_changes(run_config, options.changes), "import");
  auto spooled = spool_plain(src, options.spool_dir);
  if (!spooled) return std::unexpected(spooled.error());
  auto& [fd, plain] = *spooled;

  auto scratch = ScratchDir::make(options.spool_dir, "silo-import");
  if (!scratch) return wrap(scratch.error(), "import");
  SILO_TRY(rewind(fd.get(), "the import spool file"));
  auto applied = apply_layer(fd.get(), scratch->path(), {.same_owner = ::geteuid() == 0});
  if (!applied) return wrap(applied.error(), "import: the rootfs tarball");
  if (applied->diff_id != plain.digest)
    return fail(Code::Internal, "import: the spooled tar changed while it was unpacked");

  SILO_TRY(rewind(fd.get(), "the import spool file"));
  SILO_TRY_CTX(
      store.write(plain.digest, plain.size, detail::fd_reader(fd.get(), "the import spool file")),
      "import: store the layer");
  NewImage img{.layer = Descriptor{.media_type = std::string(mt::kDockerLayerTar),
                                   .digest = plain.digest,
                                   .size = static_cast<int64_t>(plain.size)},
               .diff_id = plain.digest};

  std::string created = options.created.empty() ? detail::rfc3339_now() : options.created;
  std::string comment =
      options.message.empty() ? "Imported from " + options.source : options.message;
  Json config = platform_fields(options.platform.value_or(host_platform()));
  config["created"] = created;
  if (!options.message.empty()) config["comment"] = options.message;
  config["config"] = std::move(run_config);
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", {plain.digest.str()}}};
  config["history"] = Json::array({{{"created", created}, {"comment", comment}}});
  SILO_TRY_CTX(finish_image(store, config, {img.layer}, img), "import");
  return img;
}

Result<NewImage> commit_container(std::string_view base_config,
                                  const std::vector<Descriptor>& base_layers,
                                  const std::string& upper_dir, BlobStore& store,
                                  const CommitOptions& options) {
  auto base = parse_image_config(base_config);
  if (!base) return wrap(base.error(), "commit: the base image config");
  auto base_json = parse_json(base_config, "commit: the base image config");
  if (!base_json) return std::unexpected(base_json.error());
  if (base->diff_ids.size() != base_layers.size())
    return fail(Code::Invalid, "commit: the base image has " + std::to_string(base_layers.size()) +
                                   " layers but its config " +
                                   std::to_string(base->diff_ids.size()) + " diff_ids");
  Json run_config = options.run_config.value_or(base_json->value("config", Json::object()));
  SILO_TRY_CTX(apply_changes(run_config, options.changes), "commit");

  auto diff =
      diff_layer_to_store(upper_dir, store, options.spool_dir,
                          {.mode = DiffMode::OverlayUpper, .compression = Compression::Gzip});
  if (!diff) return wrap(diff.error(), "commit");
  const bool empty = diff->diff_id.str() == kEmptyLayerDiffId;

  std::string created = options.created.empty() ? detail::rfc3339_now() : options.created;
  Json history{{"created", created}};
  if (!options.container_cmd.empty()) history["created_by"] = join(options.container_cmd);
  if (!options.author.empty()) history["author"] = options.author;
  if (!options.comment.empty()) history["comment"] = options.comment;
  if (empty) history["empty_layer"] = true;

  Json config = platform_fields(base->platform);
  config["created"] = created;
  if (!options.author.empty()) config["author"] = options.author;
  if (!options.container_id.empty()) config["container"] = options.container_id;
  config["config"] = std::move(run_config);
  Json diff_ids = Json::array();
  for (const auto& d : base->diff_ids) diff_ids.push_back(d.str());
  if (!empty) diff_ids.push_back(diff->diff_id.str());
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", std::move(diff_ids)}};
  config["history"] = base_json->value("history", Json::array());
  config["history"].push_back(std::move(history));

  NewImage img;
  std::vector<Descriptor> layers = base_layers;
  if (!empty) {
    img.layer = Descriptor{.media_type = std::string(mt::kDockerLayer),
                           .digest = diff->digest,
                           .size = static_cast<int64_t>(diff->size)};
    img.diff_id = diff->diff_id;
    img.uncompressed_size = diff->uncompressed_size;
    layers.push_back(img.layer);
  }
  SILO_TRY_CTX(finish_image(store, config, layers, img), "commit");
  return img;
}

}  // namespace silo::image
