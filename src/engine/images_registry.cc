// The image service's registry side: docker pull, push and login over image::RegistryClient.

#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "engine/images.h"
#include "image/config.h"
#include "image/manifest.h"

namespace silo::engine {
namespace {

std::string short_id(const image::Digest& d) {
  return d.hex.substr(0, 12);
}

// Serialises progress calls from the client's worker threads and throttles "Downloading"
// and "Pushing" to one message per 512 KiB per layer (and the last), as dockerd's
// progress reader sends a few updates per second rather than one per chunk.
class Reporter {
 public:
  explicit Reporter(const RegistryProgressFn& fn) : fn_(fn) {}
  void message(std::string id, std::string status, bool layer = false) {
    emit({.id = std::move(id), .status = std::move(status), .layer = layer});
  }
  void layer(const image::Digest& d, std::string status) { message(short_id(d), status, true); }
  // True the first time `d` is reported complete.
  bool first_done(const image::Digest& d) {
    std::lock_guard lock(mu_);
    return done_.insert(d.str()).second;
  }
  // Bytes moved; false when this call was throttled.
  bool bytes(const image::Digest& d, const char* status, uint64_t done, uint64_t total) {
    {
      std::lock_guard lock(mu_);
      uint64_t& last = sent_[d.str()];
      if (done < total && done - last < (512u << 10) && last != 0) return false;
      last = done == 0 ? 1 : done;
    }
    emit({.id = short_id(d),
          .status = status,
          .current = static_cast<int64_t>(done),
          .total = static_cast<int64_t>(total),
          .layer = true});
    return true;
  }

 private:
  void emit(const RegistryProgress& p) {
    if (!fn_) return;
    std::lock_guard lock(emit_mu_);
    fn_(p);
  }
  const RegistryProgressFn& fn_;
  std::mutex mu_, emit_mu_;
  std::map<std::string, uint64_t> sent_;
  std::set<std::string> done_;
};

// The reference a tag or digest names, with no tag (name@digest).
image::Reference digest_ref(const image::Reference& ref, const image::Digest& d) {
  image::Reference out = ref;
  out.tag.clear();
  out.digest = d;
  return out;
}

// The single-platform manifest of `fetched`: itself, or the `platform` entry of a list.
Result<std::pair<image::Manifest, image::FetchedManifest>> platform_manifest(
    image::RegistryClient& client, const image::Reference& ref,
    const image::FetchedManifest& fetched, const image::Platform& platform,
    image::BlobStore& blobs) {
  auto any = image::parse_manifest(fetched.body, fetched.media_type);
  if (!any) return wrap(any.error(), "manifest for " + ref.familiar_str());
  if (auto* m = std::get_if<image::Manifest>(&*any)) return std::pair{*m, fetched};
  auto entry = image::select_manifest(std::get<image::Index>(*any), platform);
  if (!entry) return std::unexpected(entry.error());
  auto sub = client.get_manifest(digest_ref(ref, entry->digest));
  if (!sub) return std::unexpected(sub.error());
  SILO_TRY(blobs.write(sub->digest, sub->body));
  auto parsed = image::parse_manifest(sub->body, sub->media_type);
  if (!parsed) return wrap(parsed.error(), "manifest " + entry->digest.str());
  auto* m = std::get_if<image::Manifest>(&*parsed);
  if (!m)
    return fail(Code::Invalid, "manifest " + entry->digest.str() + " of " + ref.familiar_str() +
                                   " is a list inside a list; the registry's image is malformed");
  return std::pair{*m, *sub};
}

// A Docker schema-2 manifest for `rec` from its config and layer blobs.
Result<std::pair<std::string, std::string>> make_manifest(const ImageRecord& rec) {
  Json layers = Json::array();
  for (const auto& l : rec.layers)
    layers.push_back(
        {{"mediaType", l.value("media_type", std::string(image::media_type::kDockerLayerTar))},
         {"size", l.value("size", int64_t{0})},
         {"digest", l.value("digest", "")}});
  Json m = {{"schemaVersion", 2},
            {"mediaType", image::media_type::kDockerManifest},
            {"config",
             {{"mediaType", image::media_type::kDockerConfig},
              {"size", rec.config.size()},
              {"digest", rec.id}}},
            {"layers", layers}};
  return std::pair{m.dump(3), std::string(image::media_type::kDockerManifest)};
}

}  // namespace

std::optional<std::pair<std::string, std::string>> stored_manifest(const ImageRecord& rec,
                                                                   image::BlobStore& blobs) {
  auto load = [&](const image::Digest& d) -> std::optional<image::AnyManifest> {
    if (!blobs.exists(d)) return std::nullopt;
    auto body = blobs.read(d);
    if (!body) return std::nullopt;
    auto any = image::parse_manifest(*body);
    if (!any) return std::nullopt;
    return *any;
  };
  auto of_image =
      [&](const image::Digest& d) -> std::optional<std::pair<std::string, std::string>> {
    auto any = load(d);
    auto* m = any ? std::get_if<image::Manifest>(&*any) : nullptr;
    if (!m || m->config.digest.str() != rec.id) return std::nullopt;
    auto body = blobs.read(d);
    if (!body) return std::nullopt;
    return std::pair{*body, m->media_type};
  };
  for (const auto& r : rec.refs) {
    auto at = r.find('@');
    if (at == std::string::npos) continue;
    auto d = image::Digest::parse(r.substr(at + 1));
    if (!d) continue;
    if (auto m = of_image(*d)) return m;
    auto any = load(*d);
    if (!any || !std::holds_alternative<image::Index>(*any)) continue;
    for (const auto& e : std::get<image::Index>(*any).manifests)
      if (auto m = of_image(e.digest)) return m;
  }
  return std::nullopt;
}

Status ImageService::login(const std::string& host, const image::RegistryOptions& options) {
  auto transport = image::make_curl_transport();
  image::RegistryClient client(*transport, options);
  return client.check_login(host);
}

Result<PullResult> ImageService::pull(const image::Reference& ref, const image::Platform& platform,
                                      const image::RegistryOptions& options,
                                      const RegistryProgressFn& progress) {
  auto transport = image::make_curl_transport();
  image::RegistryClient client(*transport, options);
  Reporter out(progress);
  auto top = client.get_manifest(ref);
  if (!top) return std::unexpected(top.error());
  auto picked = platform_manifest(client, ref, *top, platform, *blobs_);
  if (!picked) return std::unexpected(picked.error());
  const image::Manifest& m = picked->first;
  out.message(ref.digest && ref.tag.empty() ? ref.digest->str() : ref.tag,
              "Pulling from " + ref.path);
  auto before = store_->image_by_ref(ref.str());
  if (!before) return std::unexpected(before.error());

  SILO_TRY(client.fetch_blob(ref, m.config, *blobs_));
  auto config = blobs_->read(m.config.digest);
  if (!config) return wrap(config.error(), "image config " + m.config.digest.str());
  auto parsed = image::parse_image_config(*config);
  if (!parsed) return wrap(parsed.error(), "image config " + m.config.digest.str());
  if (image::match_rank(platform, parsed->platform) < 0)
    return fail(Code::Invalid, "image with reference " + ref.familiar_str() +
                                   " was found but does not match the specified platform: wanted " +
                                   platform.str() + ", actual: " + parsed->platform.str() +
                                   "; the registry has no " + platform.str() +
                                   " image under this name");
  if (parsed->diff_ids.size() != m.layers.size())
    return fail(Code::Invalid, "manifest for " + ref.familiar_str() + " lists " +
                                   std::to_string(m.layers.size()) + " layers, its config " +
                                   std::to_string(parsed->diff_ids.size()));

  // Up to date: dockerd says so without a line per layer.
  const bool current = *before && **before == m.config.digest.str();
  std::vector<image::Descriptor> missing;
  std::set<std::string> seen;
  for (const auto& l : m.layers) {
    if (!seen.insert(l.digest.str()).second) continue;
    if (blobs_->exists(l.digest)) {
      if (!current) out.layer(l.digest, "Already exists");
    } else {
      out.layer(l.digest, "Pulling fs layer");
      missing.push_back(l);
    }
  }
  Json layers = Json::array();
  std::vector<std::string> diff_ids;
  for (size_t i = 0; i < m.layers.size(); ++i) {
    layers.push_back({{"digest", m.layers[i].digest.str()},
                      {"diff_id", parsed->diff_ids[i].str()},
                      {"media_type", m.layers[i].media_type},
                      {"size", m.layers[i].size}});
    diff_ids.push_back(parsed->diff_ids[i].str());
  }
  const auto chains = chain_ids(diff_ids);
  // Each layer is unpacked as soon as its blob is stored, while the others still download
  // (a layer's directory needs only its own blob; add() then finds them unpacked).
  auto unpack_stored = [&](const image::Descriptor& blob) -> Status {
    for (size_t i = 0; i < m.layers.size(); ++i) {
      if (m.layers[i].digest != blob.digest) continue;
      out.layer(blob.digest, "Extracting");
      return unpack(layers[i], chains[i]);
    }
    return {};
  };
  auto status = client.fetch_blobs(
      ref, missing, *blobs_,
      [&](const image::Digest& d, uint64_t done, uint64_t total) {
        out.bytes(d, "Downloading", done, total);
        if (done == total && out.first_done(d)) {
          out.layer(d, "Verifying Checksum");
          out.layer(d, "Download complete");
        }
      },
      unpack_stored);
  if (!status) return std::unexpected(status.error());
  SILO_TRY(blobs_->write(top->digest, top->body));
  std::vector<std::string> refs = {digest_ref(ref, top->digest).str()};
  if (!ref.tag.empty()) refs.push_back(ref.str());
  auto id = add(*config, layers, refs);
  if (!id) return wrap(id.error(), "pull " + ref.familiar_str());
  for (const auto& l : missing) out.layer(l.digest, "Pull complete");
  bool updated = !*before || **before != *id;
  return PullResult{
      .id = *id, .digest = top->digest.str(), .familiar = ref.familiar_str(), .updated = updated};
}

namespace {

// One tag of a push: the layers the registry lacks (each reported), the config, then the
// manifest stored for image `rec` (or one made from it); the pushed digest becomes a
// RepoDigest.
Result<PushResult> push_tag(image::RegistryClient& client, Reporter& out, Store& store,
                            image::BlobStore& blobs, const image::Reference& target,
                            const ImageRecord& rec) {
  auto manifest = stored_manifest(rec, blobs);
  if (!manifest) {
    auto made = make_manifest(rec);
    if (!made) return std::unexpected(made.error());
    manifest = *made;
  }
  auto any = image::parse_manifest(manifest->first, manifest->second);
  if (!any) return wrap(any.error(), "manifest of " + target.familiar_str());
  const auto& m = std::get<image::Manifest>(*any);

  // Another repository of the same registry that names this image may hold its blobs.
  std::optional<std::string> mount_from;
  for (const auto& r : rec.refs) {
    auto other = image::parse_reference(r, false);
    if (other && other->domain == target.domain && other->path != target.path)
      mount_from = other->path;
  }
  std::vector<image::Descriptor> layers(m.layers.rbegin(), m.layers.rend());  // top first
  for (const auto& l : layers) out.layer(l.digest, "Preparing");
  for (const auto& l : layers) {
    auto exists = client.blob_exists(target, l.digest);
    if (!exists) return std::unexpected(exists.error());
    if (*exists) {
      out.layer(l.digest, "Layer already exists");
      continue;
    }
    std::atomic<int> calls = 0;
    bool partial = false;
    auto st = client.push_blob(target, l, blobs, mount_from,
                               [&](const image::Digest& d, uint64_t done, uint64_t total) {
                                 ++calls;
                                 if (done < total) partial = true;
                                 out.bytes(d, "Pushing", done, total);
                               });
    if (!st) return std::unexpected(st.error());
    // A mount moves no bytes: the client reports the whole size once.
    if (mount_from && calls == 1 && !partial)
      out.layer(l.digest, "Mounted from " + *mount_from);
    else
      out.layer(l.digest, "Pushed");
  }
  SILO_TRY(client.push_blob(target, m.config, blobs, mount_from));
  auto digest = client.put_manifest(target, manifest->second, manifest->first);
  if (!digest) return std::unexpected(digest.error());
  SILO_TRY(blobs.write(*digest, manifest->first));
  SILO_TRY(store.set_image_ref(digest_ref(target, *digest).str(), rec.id));
  return PushResult{.tag = target.tag, .digest = digest->str(), .size = manifest->first.size()};
}

}  // namespace

Result<std::vector<std::pair<image::Reference, std::string>>> ImageService::push_tags(
    const image::Reference& ref) {
  if (ref.digest)
    return fail(Code::Invalid, "cannot push a digest reference (" + ref.familiar_str() +
                                   "); push a tag of it: docker tag IMAGE NAME:TAG");
  auto images = store_->list_images();
  if (!images) return std::unexpected(images.error());
  // The repository's refs, sorted (dockerd's ReferencesByName order); digest refs count as
  // the repository being there but are not pushed.
  std::map<std::string, std::pair<image::Reference, std::string>> tags;
  bool any = false;
  for (const auto& rec : *images)
    for (const auto& r : rec.refs) {
      auto named = image::parse_reference(r, false);
      if (!named || named->domain != ref.domain || named->path != ref.path) continue;
      any = true;
      if (!named->tag.empty() && (ref.tag.empty() || named->tag == ref.tag))
        tags.emplace(named->str(), std::pair{*named, rec.id});
    }
  if (!any)
    return fail(Code::NotFound,
                "An image does not exist locally with the tag: " + ref.familiar_name());
  if (tags.empty() && !ref.tag.empty())
    return fail(Code::NotFound, "tag does not exist: " + ref.familiar_str());
  if (tags.empty())
    return fail(Code::NotFound, "no tags to push for " + ref.familiar_name() +
                                    "; tag an image into it first: docker tag IMAGE " +
                                    ref.familiar_name() + ":TAG");
  std::vector<std::pair<image::Reference, std::string>> out;
  for (auto& [key, tag] : tags) out.push_back(std::move(tag));
  return out;
}

Status ImageService::push(const image::Reference& ref, const image::RegistryOptions& options,
                          const RegistryProgressFn& progress, const PushedFn& pushed) {
  auto tags = push_tags(ref);
  if (!tags) return std::unexpected(tags.error());
  // One client for every tag: a token or a scheme found for the first serves the rest.
  auto transport = image::make_curl_transport();
  image::RegistryClient client(*transport, options);
  Reporter out(progress);
  out.message("", "The push refers to repository [" + ref.name() + "]");
  for (const auto& [target, id] : *tags) {
    auto rec = store_->get_image(id);
    if (!rec) return std::unexpected(rec.error());
    auto r = push_tag(client, out, *store_, *blobs_, target, *rec);
    if (!r) return std::unexpected(r.error());
    if (pushed) pushed(*r);
  }
  return {};
}

}  // namespace silo::engine
