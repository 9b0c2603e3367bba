#include "image/manifest.h"

#include "common/json.h"
#include "image/json_fields.h"

namespace silo::image {

namespace mt = media_type;
using detail::digest_at;
using detail::field;
using detail::object_at;

namespace {

// Media types compare without parameters ("...+json; charset=utf-8").
std::string_view bare(std::string_view content_type) {
  auto semi = content_type.find(';');
  std::string_view s = content_type.substr(0, semi);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

Result<Platform> parse_platform_object(const Json& j, std::string_view where) {
  Platform p;
  SILO_TRY(get_opt(j, "os", p.os, where));
  SILO_TRY(get_opt(j, "architecture", p.architecture, where));
  SILO_TRY(get_opt(j, "variant", p.variant, where));
  SILO_TRY(get_opt(j, "os.version", p.os_version, where));
  SILO_TRY(get_opt(j, "os.features", p.os_features, where));
  return p;
}

Result<Descriptor> parse_descriptor(const Json& j, std::string_view where) {
  if (!j.is_object())
    return fail(Code::Invalid, std::string(where) + ": expected an object, got " + j.type_name());
  Descriptor d;
  SILO_TRY(get_opt(j, "mediaType", d.media_type, where));
  auto digest = digest_at(j, "digest", where);
  if (!digest) return std::unexpected(digest.error());
  d.digest = std::move(*digest);
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_integer() || size->get<int64_t>() < 0)
    return fail(Code::Invalid, field(where, "size") + ": expected a byte count (an integer >= 0)");
  d.size = size->get<int64_t>();
  SILO_TRY(get_opt(j, "urls", d.urls, where));
  SILO_TRY(get_opt(j, "annotations", d.annotations, where));
  if (auto it = j.find("platform"); it != j.end() && !it->is_null()) {
    auto platform_json = object_at(j, "platform", where);
    if (!platform_json) return std::unexpected(platform_json.error());
    auto p = parse_platform_object(**platform_json, field(where, "platform"));
    if (!p) return std::unexpected(p.error());
    d.platform = std::move(*p);
  }
  return d;
}

Result<std::vector<Descriptor>> parse_descriptors(const Json& j, const char* key,
                                                  std::string_view where, bool required) {
  std::vector<Descriptor> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return fail(Code::Invalid, field(where, key) + ": missing");
    return out;
  }
  if (!it->is_array())
    return fail(Code::Invalid, field(where, key) + ": expected an array, got " + it->type_name());
  for (size_t i = 0; i < it->size(); ++i) {
    auto d = parse_descriptor((*it)[i], field(where, key) + "[" + std::to_string(i) + "]");
    if (!d) return std::unexpected(d.error());
    out.push_back(std::move(*d));
  }
  return out;
}

Result<Manifest> parse_image_manifest(const Json& j, std::string media_type) {
  Manifest m;
  m.media_type = std::move(media_type);
  if (!j.contains("config"))
    return fail(Code::Invalid, "manifest.config: missing (an image manifest names its config)");
  auto config = parse_descriptor(j["config"], "manifest.config");
  if (!config) return std::unexpected(config.error());
  m.config = std::move(*config);
  auto layers = parse_descriptors(j, "layers", "manifest", /*required=*/true);
  if (!layers) return std::unexpected(layers.error());
  m.layers = std::move(*layers);
  for (size_t i = 0; i < m.layers.size(); ++i) {
    if (auto c = layer_compression(m.layers[i].media_type); !c)
      return wrap(c.error(), "manifest.layers[" + std::to_string(i) + "]");
  }
  SILO_TRY(get_opt(j, "annotations", m.annotations, "manifest"));
  return m;
}

Result<Index> parse_index(const Json& j, std::string media_type) {
  Index idx;
  idx.media_type = std::move(media_type);
  auto manifests = parse_descriptors(j, "manifests", "index", /*required=*/true);
  if (!manifests) return std::unexpected(manifests.error());
  idx.manifests = std::move(*manifests);
  SILO_TRY(get_opt(j, "annotations", idx.annotations, "index"));
  return idx;
}

}  // namespace

std::string manifest_accept_header() {
  return std::string(mt::kDockerManifestList) + ", " + std::string(mt::kDockerManifest) + ", " +
         std::string(mt::kOciIndex) + ", " + std::string(mt::kOciManifest);
}

Result<AnyManifest> parse_manifest(std::string_view body, std::string_view content_type) {
  auto parsed = parse_json(body, "manifest");
  if (!parsed) return std::unexpected(parsed.error());
  const Json& j = *parsed;
  if (!j.is_object())
    return fail(Code::Invalid,
                "manifest: expected a JSON object, got " + std::string(j.type_name()));
  int64_t schema = 0;
  if (auto it = j.find("schemaVersion"); it != j.end() && it->is_number_integer())
    schema = it->get<int64_t>();
  std::string body_type;
  SILO_TRY(get_opt(j, "mediaType", body_type, "manifest"));
  std::string type(bare(content_type));
  // Registries answer application/json or octet-stream for OCI content without a mediaType.
  if (type != mt::kDockerManifest && type != mt::kDockerManifestList && type != mt::kOciManifest &&
      type != mt::kOciIndex && type != mt::kDockerSchema1 && type != mt::kDockerSchema1Signed)
    type.clear();
  if (type.empty()) type = body_type;
  if (type.empty()) {
    if (schema == 1)
      type = mt::kDockerSchema1;
    else if (j.contains("manifests"))
      type = mt::kOciIndex;
    else if (j.contains("config"))
      type = mt::kOciManifest;
  }
  if (!body_type.empty() && body_type != type)
    return fail(Code::Invalid, "manifest: mediaType " + body_type +
                                   " in the body does not match the content type " + type);
  if (type == mt::kDockerSchema1 || type == mt::kDockerSchema1Signed || schema == 1)
    return fail(Code::Invalid,
                "manifest: Docker Image manifest version 2, schema 1 is no longer supported; "
                "push the image again with a current client to convert it to schema 2 or OCI");
  if (schema != 2)
    return fail(Code::Invalid,
                "manifest: schemaVersion must be 2, got " +
                    (j.contains("schemaVersion") ? j["schemaVersion"].dump() : "none"));
  if (type == mt::kDockerManifest || type == mt::kOciManifest) {
    auto m = parse_image_manifest(j, type);
    if (!m) return std::unexpected(m.error());
    return AnyManifest(std::move(*m));
  }
  if (type == mt::kDockerManifestList || type == mt::kOciIndex) {
    auto idx = parse_index(j, type);
    if (!idx) return std::unexpected(idx.error());
    return AnyManifest(std::move(*idx));
  }
  return fail(Code::Invalid, "manifest: unsupported media type \"" + type + "\"; expected one of " +
                                 manifest_accept_header());
}

Result<Descriptor> select_manifest(const Index& index, const Platform& host) {
  const Descriptor* best = nullptr;
  int best_rank = -1;
  std::string available;
  for (const auto& d : index.manifests) {
    if (!d.platform) continue;  // attestations and other non-image entries
    int rank = match_rank(host, *d.platform);
    if (rank >= 0 && (best == nullptr || rank < best_rank)) best = &d, best_rank = rank;
    if (d.platform->os != "unknown")
      available += (available.empty() ? "" : ", ") + d.platform->str();
  }
  if (best != nullptr) return *best;
  return fail(Code::NotFound, "no matching manifest for " + host.str() +
                                  " in the manifest list entries (available: " +
                                  (available.empty() ? "none" : available) +
                                  "); pull with --platform to choose one");
}

Result<Compression> layer_compression(std::string_view media_type) {
  std::string_view t = bare(media_type);
  // Non-distributable ("foreign") layers differ only in where they may be pushed.
  if (t == mt::kDockerLayer || t == mt::kDockerForeignLayer || t == mt::kOciLayerGzip ||
      t == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")
    return Compression::Gzip;
  if (t == mt::kOciLayerZstd || t == "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd")
    return Compression::Zstd;
  if (t == mt::kOciLayer || t == mt::kDockerLayerTar ||
      t == "application/vnd.oci.image.layer.nondistributable.v1.tar")
    return Compression::None;
  return fail(Code::Invalid, "layer media type \"" + std::string(media_type) +
                                 "\" is not a layer Silo can unpack (tar, tar+gzip, tar+zstd)");
}

}  // namespace silo::image
