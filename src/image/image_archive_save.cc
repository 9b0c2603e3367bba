// docker save and the OCI layout writer. Both read every blob from the store as a stream;
// a compressed layer that a docker-archive needs as a plain tar is decompressed twice (once
// to learn the size the tar header must state first, once to write it), so it is never
// held in memory or spooled.

#include <map>
#include <set>
#include <variant>

#include "common/json.h"
#include "image/archive_io.h"
#include "image/config.h"
#include "image/image_archive.h"

namespace silo::image {

namespace mt = media_type;
using detail::fd_reader;
using detail::TarWriter;

namespace {

Result<std::pair<Json, ImageConfig>> read_config(const BlobStore& store, const Digest& d) {
  auto body = store.read(d);
  if (!body) return wrap(body.error(), "save: config " + d.str());
  auto parsed = parse_image_config(*body);
  if (!parsed) return wrap(parsed.error(), "save: config " + d.str());
  auto j = parse_json(*body, "config " + d.str());
  if (!j) return std::unexpected(j.error());
  return std::pair{std::move(*j), std::move(*parsed)};
}

Status check_layers(const SaveImage& img, const ImageConfig& c) {
  if (img.layers.size() == c.diff_ids.size()) return {};
  return fail(Code::Invalid, "save: image " + img.config_digest.short_str() + " has " +
                                 std::to_string(img.layers.size()) + " layers but its config " +
                                 std::to_string(c.diff_ids.size()) + " diff_ids");
}

// containerd's chain id: chain[0] = diff_id[0], chain[i] = sha256(chain[i-1] + " " + diff_id[i]).
Digest chain_id(const Digest& parent, const Digest& diff_id) {
  if (parent.empty()) return diff_id;
  return Digest::of(parent.str() + " " + diff_id.str());
}

// The legacy v1 "json" of a layer directory and its id, as Docker's v1.CreateID makes them:
// lower layers carry only "created" (the epoch), the top one the image's own config fields;
// the id hashes that JSON with layer_id (the chain id) and parent added.
std::pair<std::string, std::string> v1_layer(const Json& config, bool top, const Digest& chain,
                                             const std::string& parent) {
  Json v1 = Json::object();
  if (top) {
    v1 = config;
    v1.erase("rootfs");
    v1.erase("history");
  } else {
    v1["created"] = "1970-01-01T00:00:00Z";
    v1["container_config"] = Json::object();
    if (config.contains("os")) v1["os"] = config["os"];
  }
  Json for_id = v1;
  for_id["layer_id"] = chain.str();
  if (!parent.empty()) for_id["parent"] = "sha256:" + parent;
  std::string id = Digest::of(for_id.dump()).hex;
  v1["id"] = id;
  if (!parent.empty()) v1["parent"] = parent;
  return {id, v1.dump()};
}

// Writes one layer as a plain tar: as it is when stored plain, decompressed when not.
Status write_plain_layer(const BlobStore& store, TarWriter& tar, const Descriptor& layer,
                         const Digest& diff_id, const std::string& name) {
  auto compression = layer_compression(layer.media_type);
  if (!compression) return wrap(compression.error(), "save: layer " + layer.digest.str());
  std::string what = "layer " + layer.digest.str();
  auto fd = store.open(layer.digest);
  if (!fd) return wrap(fd.error(), "save");
  if (*compression == Compression::None) {
    auto size = store.size(layer.digest);
    if (!size) return wrap(size.error(), "save");
    return tar.file(name, *size, fd_reader(fd->get(), what), 0);
  }
  auto plain = detail::decompress(fd_reader(fd->get(), what), nullptr, "save: " + what);
  if (!plain) return std::unexpected(plain.error());
  if (plain->digest != diff_id)
    return fail(Code::Invalid, "save: " + what + " decompresses to " + plain->digest.str() +
                                   " but the image config says diff_id " + diff_id.str() +
                                   "; the stored layer is corrupt, pull the image again");
  auto again = store.open(layer.digest);
  if (!again) return wrap(again.error(), "save");
  return tar.file(
      name, plain->size,
      [&](const WriteFn& sink) -> Status {
        auto r = detail::decompress(fd_reader(again->get(), what), &sink, "save: " + what);
        if (!r) return std::unexpected(r.error());
        return {};
      },
      0);
}

class DockerArchiveWriter {
 public:
  DockerArchiveWriter(const BlobStore& store, const WriteFn& out) : store_(store), tar_(out) {}

  Status image(const SaveImage& img) {
    auto config = read_config(store_, img.config_digest);
    if (!config) return std::unexpected(config.error());
    const auto& [json, parsed] = *config;
    SILO_TRY(check_layers(img, parsed));
    Json entry{{"Config", img.config_digest.hex + ".json"}, {"Layers", Json::array()}};
    Digest chain;
    std::string parent;
    for (size_t i = 0; i < img.layers.size(); ++i) {
      chain = chain_id(chain, parsed.diff_ids[i]);
      auto [id, v1] = v1_layer(json, i + 1 == img.layers.size(), chain, parent);
      SILO_TRY(layer_dir(id, v1, img.layers[i], parsed.diff_ids[i]));
      entry["Layers"].push_back(id + "/layer.tar");
      parent = id;
    }
    if (!configs_.count(img.config_digest)) {
      auto body = store_.read(img.config_digest);
      if (!body) return wrap(body.error(), "save");
      SILO_TRY(tar_.file(img.config_digest.hex + ".json", *body, 0));
      configs_.insert(img.config_digest);
    }
    entry["RepoTags"] = Json(nullptr);
    for (const auto& ref : img.repo_tags) {
      if (ref.tag.empty()) continue;
      entry["RepoTags"].push_back(ref.familiar_str());
      repositories_[ref.familiar_name()][ref.tag] = parent;
    }
    manifest_.push_back(std::move(entry));
    return {};
  }

  Status finish() {
    SILO_TRY(tar_.file("manifest.json", manifest_.dump(), 0));
    if (!repositories_.empty()) SILO_TRY(tar_.file("repositories", repositories_.dump(), 0));
    return tar_.finish();
  }

 private:
  Status layer_dir(const std::string& id, const std::string& v1, const Descriptor& layer,
                   const Digest& diff_id) {
    if (!dirs_.insert(id).second) return {};
    SILO_TRY(tar_.dir(id, 0));
    SILO_TRY(tar_.file(id + "/VERSION", "1.0", 0));
    SILO_TRY(tar_.file(id + "/json", v1, 0));
    // The same content under another layer id: Docker 20.10 links to the first copy.
    if (auto it = written_.find(diff_id); it != written_.end())
      return tar_.symlink(id + "/layer.tar", "../" + it->second + "/layer.tar", 0);
    written_.emplace(diff_id, id);
    return write_plain_layer(store_, tar_, layer, diff_id, id + "/layer.tar");
  }

  const BlobStore& store_;
  TarWriter tar_;
  Json manifest_ = Json::array();
  Json repositories_ = Json::object();
  std::set<std::string> dirs_;
  std::set<Digest> configs_;
  std::map<Digest, std::string> written_;  // diff_id -> the layer id holding it
};

std::string oci_layer_type(std::string_view media_type) {
  if (media_type == mt::kDockerLayer) return std::string(mt::kOciLayerGzip);
  if (media_type == mt::kDockerLayerTar) return std::string(mt::kOciLayer);
  return std::string(media_type);
}

class OciLayoutWriter {
 public:
  OciLayoutWriter(const BlobStore& store, const WriteFn& out) : store_(store), tar_(out) {}

  Status start() {
    SILO_TRY(tar_.file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})", 0));
    SILO_TRY(tar_.dir("blobs", 0));
    return tar_.dir("blobs/sha256", 0);
  }

  Status image(const SaveImage& img) {
    auto config = read_config(store_, img.config_digest);
    if (!config) return std::unexpected(config.error());
    SILO_TRY(check_layers(img, config->second));
    SILO_TRY(stored_blob(img.config_digest));
    for (const auto& l : img.layers) SILO_TRY(stored_blob(l.digest));
    std::string manifest = img.manifest.empty() ? make_manifest(img) : img.manifest;
    auto parsed = parse_manifest(manifest);
    if (!parsed || !std::holds_alternative<Manifest>(*parsed))
      return fail(Code::Invalid, "save: the manifest given for image " +
                                     img.config_digest.short_str() + " is not an image manifest" +
                                     (parsed ? "" : ": " + parsed.error().message));
    Digest digest = Digest::of(manifest);
    if (blobs_.insert(digest).second)
      SILO_TRY(tar_.file("blobs/sha256/" + digest.hex, manifest, 0));
    Json desc{{"mediaType", std::get<Manifest>(*parsed).media_type},
              {"digest", digest.str()},
              {"size", manifest.size()}};
    bool tagged = false;
    for (const auto& ref : img.repo_tags) {
      if (ref.tag.empty()) continue;
      Json d = desc;
      d["annotations"] = {{"io.containerd.image.name", ref.name() + ":" + ref.tag},
                          {"org.opencontainers.image.ref.name", ref.tag}};
      index_["manifests"].push_back(std::move(d));
      tagged = true;
    }
    if (!tagged) index_["manifests"].push_back(std::move(desc));
    return {};
  }

  Status finish() {
    SILO_TRY(tar_.file("index.json", index_.dump(), 0));
    return tar_.finish();
  }

 private:
  std::string make_manifest(const SaveImage& img) {
    auto size = store_.size(img.config_digest);
    Json layers = Json::array();
    for (const auto& l : img.layers)
      layers.push_back({{"mediaType", oci_layer_type(l.media_type)},
                        {"digest", l.digest.str()},
                        {"size", l.size}});
    Json m{{"schemaVersion", 2},
           {"mediaType", mt::kOciManifest},
           {"config",
            {{"mediaType", mt::kOciConfig},
             {"digest", img.config_digest.str()},
             {"size", size ? *size : 0}}},
           {"layers", std::move(layers)}};
    return m.dump();
  }

  Status stored_blob(const Digest& d) {
    if (!blobs_.insert(d).second) return {};
    auto size = store_.size(d);
    if (!size) return wrap(size.error(), "save");
    auto fd = store_.open(d);
    if (!fd) return wrap(fd.error(), "save");
    return tar_.file("blobs/sha256/" + d.hex, *size, fd_reader(fd->get(), "blob " + d.str()), 0);
  }

  const BlobStore& store_;
  TarWriter tar_;
  std::set<Digest> blobs_;
  Json index_{{"schemaVersion", 2}, {"mediaType", mt::kOciIndex}, {"manifests", Json::array()}};
};

}  // namespace

Status save_docker_archive(const BlobStore& store, const std::vector<SaveImage>& images,
                           const WriteFn& out) {
  DockerArchiveWriter w(store, out);
  for (const auto& img : images) SILO_TRY(w.image(img));
  return w.finish();
}

Status save_oci_layout(const BlobStore& store, const std::vector<SaveImage>& images,
                       const WriteFn& out) {
  OciLayoutWriter w(store, out);
  SILO_TRY(w.start());
  for (const auto& img : images) SILO_TRY(w.image(img));
  return w.finish();
}

}  // namespace silo::image
