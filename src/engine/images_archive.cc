// The image service: import, load, save and commit (the formats are silo_image's).

#include "common/guards.h"
#include "common/sys.h"
#include "engine/images.h"
#include "engine/seed_image.h"
#include "image/image_archive.h"
#include "image/reference.h"

namespace silo::engine {
namespace {

// The layers column for descriptors as stored, with the config's diff_ids.
Json layers_json(const std::vector<image::Descriptor>& layers,
                 const std::vector<image::Digest>& diff_ids) {
  Json out = Json::array();
  for (size_t i = 0; i < layers.size() && i < diff_ids.size(); ++i)
    out.push_back({{"digest", layers[i].digest.str()},
                   {"diff_id", diff_ids[i].str()},
                   {"media_type", layers[i].media_type},
                   {"size", layers[i].size}});
  return out;
}

std::vector<image::Descriptor> descriptors(const Json& layers) {
  std::vector<image::Descriptor> out;
  for (const auto& l : layers) {
    auto d = image::Digest::parse(l.value("digest", ""));
    if (!d) continue;
    out.push_back({.media_type = l.value("media_type", ""),
                   .digest = *d,
                   .size = l.value("size", int64_t{0})});
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> ImageService::tag_refs(std::string_view ref) {
  if (ref.empty()) return std::vector<std::string>{};
  auto r = tag_ref(ref);
  if (!r) return std::unexpected(r.error());
  return std::vector<std::string>{*r};
}

Result<std::string> ImageService::import(const image::ReadFn& src, std::string_view ref,
                                         image::ImportOptions options) {
  auto refs = tag_refs(ref);
  if (!refs) return std::unexpected(refs.error());
  SILO_TRY(sys::mkdir_p(spool_dir(), 0700));
  options.spool_dir = spool_dir();
  auto made = image::import_rootfs(src, *blobs_, options);
  if (!made) return wrap(made.error(), "import");
  Json layers = layers_json({made->layer}, {made->diff_id});
  layers[0]["uncompressed_size"] = made->layer.size;
  return add(made->config, layers, *refs);
}

Result<std::vector<std::string>> ImageService::load(const image::ReadFn& src) {
  SILO_TRY(sys::mkdir_p(spool_dir(), 0700));
  auto loaded = image::load_archive(src, *blobs_, {.spool_dir = spool_dir()});
  if (!loaded) return std::unexpected(loaded.error());
  std::vector<std::string> lines;
  for (const auto& img : loaded->images) {
    auto config = blobs_->read(img.config_digest);
    if (!config) return wrap(config.error(), "load: config " + img.config_digest.short_str());
    std::vector<std::string> refs;
    for (const auto& t : img.repo_tags) refs.push_back(t.str());
    auto id = add(*config, layers_json(img.layers, img.diff_ids), refs);
    if (!id) return wrap(id.error(), "load");
    if (refs.empty()) lines.push_back("Loaded image ID: " + *id);
    for (const auto& t : img.repo_tags) lines.push_back("Loaded image: " + t.familiar_str());
  }
  return lines;
}

Status ImageService::save(const std::vector<std::string>& refs, image::ArchiveFormat format,
                          const image::WriteFn& out) {
  std::vector<image::SaveImage> images;
  for (const auto& ref : refs) {
    auto id = resolve_id(ref);
    if (!id) return std::unexpected(id.error());
    auto rec = store_->get_image(*id);
    if (!rec) return std::unexpected(rec.error());
    auto config_digest = image::Digest::parse(rec->id);
    if (!config_digest) return std::unexpected(config_digest.error());
    image::SaveImage s{.config_digest = *config_digest, .layers = descriptors(rec->layers)};
    // A name saves that tag; an id (or a prefix of one) saves the image untagged.
    if (auto named = image::parse_reference(ref);
        named && !named->digest && !rec->id.substr(7).starts_with(ref))
      s.repo_tags.push_back(*named);
    if (format == image::ArchiveFormat::OciLayout)
      if (auto m = stored_manifest(*rec, *blobs_)) s.manifest = m->first;
    images.push_back(std::move(s));
  }
  if (format == image::ArchiveFormat::OciLayout)
    return image::save_oci_layout(*blobs_, images, out);
  return image::save_docker_archive(*blobs_, images, out);
}

Result<std::string> ImageService::commit(std::string_view base_id, const std::string& upper_dir,
                                         std::string_view ref, image::CommitOptions options) {
  auto refs = tag_refs(ref);
  if (!refs) return std::unexpected(refs.error());
  auto base = store_->get_image(base_id);
  if (!base) return wrap(base.error(), "commit: the container's image");
  SILO_TRY(sys::mkdir_p(spool_dir(), 0700));
  options.spool_dir = spool_dir();
  auto made =
      image::commit_container(base->config, descriptors(base->layers), upper_dir, *blobs_, options);
  if (!made) return wrap(made.error(), "commit");
  Json layers = base->layers;
  if (!made->layer.digest.empty()) {
    Json l = layers_json({made->layer}, {made->diff_id});
    l[0]["uncompressed_size"] = made->uncompressed_size;
    layers.push_back(l[0]);
  }
  return add(made->config, layers, *refs);
}

image::ImageConfig ImageService::scratch_config() {
  return image::ImageConfig{.platform = image::host_platform()};
}

Result<std::string> ImageService::build_step(std::string_view parent_id,
                                             const std::string& upper_dir,
                                             const image::ImageConfig& after,
                                             const std::vector<std::string>& cmd) {
  std::string base_config;
  Json base_layers = Json::array();
  if (parent_id.empty()) {
    const image::Platform& p = after.platform;
    Json c{{"architecture", p.architecture}, {"os", p.os}};
    if (!p.variant.empty()) c["variant"] = p.variant;
    c["config"] = Json::object();
    c["rootfs"] = {{"type", "layers"}, {"diff_ids", Json::array()}};
    base_config = c.dump();
  } else {
    auto base = store_->get_image(parent_id);
    if (!base) return wrap(base.error(), "build step: the parent image");
    base_config = base->config;
    base_layers = base->layers;
  }
  SILO_TRY(sys::mkdir_p(spool_dir(), 0700));
  // A metadata step diffs an empty directory: no layer, an empty_layer history entry.
  std::string dir = upper_dir;
  ScratchDir empty;
  if (dir.empty()) {
    auto made_dir = ScratchDir::make(spool_dir(), "step");
    if (!made_dir) return wrap(made_dir.error(), "build step");
    empty = std::move(*made_dir);
    dir = empty.path();
  }
  image::CommitOptions o{.author = after.author,
                         .container_cmd = cmd,
                         .run_config = image::run_config_json(after.config),
                         .spool_dir = spool_dir()};
  auto made = image::commit_container(base_config, descriptors(base_layers), dir, *blobs_, o);
  if (!made) return wrap(made.error(), "build step");
  Json layers = base_layers;
  if (!made->layer.digest.empty()) {
    Json l = layers_json({made->layer}, {made->diff_id});
    l[0]["uncompressed_size"] = made->uncompressed_size;
    layers.push_back(l[0]);
  }
  return add(made->config, layers, {}, parent_id);
}

Result<std::optional<std::string>> ImageService::cached_step(std::string_view key) {
  auto id = store_->build_cache(key);
  if (!id || !*id) return id;
  if (auto rec = store_->get_image(**id); !rec) return std::optional<std::string>();
  return id;
}

Status ImageService::remember_step(std::string_view key, std::string_view id) {
  return store_->set_build_cache(key, id);
}

}  // namespace silo::engine
