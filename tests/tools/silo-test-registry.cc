// silo-test-registry: drives the image library's layer diff and registry client against a
// real registry, for tests/integration/image.
//
//   silo-test-registry push DIR REF --store S [--mount-from REPO] [common options]
//       DIR becomes one gzip layer (a whole-rootfs tar), with an OCI config and manifest;
//       all three go to S, then to the registry. Prints
//       "pushed REF manifest sha256:… layer sha256:… diff_id sha256:…".
//   silo-test-registry pull REF --store S [--unpack DIR] [common options]
//       Fetches the manifest, config and layers into S (verified), checks the config's
//       diff_ids against the layers, optionally unpacks them into DIR. Prints
//       "pulled REF manifest sha256:… layers N" and one "layer sha256:… diff_id sha256:…" each.
//   common options: --insecure HOST[:PORT] (repeatable), --ca HOST[:PORT]=FILE,
//       --resolve HOST:PORT:ADDR (curl --resolve), --user NAME:PASSWORD@HOST
//
// Errors go to stderr as "silo-test-registry: <message>" with exit status 1.

#include <cstdio>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "common/sys.h"
#include "image/config.h"
#include "image/layer_apply.h"
#include "image/layer_diff.h"
#include "image/registry.h"

using namespace silo;
using namespace silo::image;
using nlohmann::json;

namespace {

struct Args {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> opts;
  std::string get(const std::string& k) const {
    auto it = opts.find(k);
    return it == opts.end() ? "" : it->second;
  }
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s.starts_with("--") && i + 1 < argc)
      a.opts.emplace(s.substr(2), argv[++i]);
    else
      a.positional.push_back(s);
  }
  return a;
}

RegistryOptions registry_options(const Args& a) {
  RegistryOptions o;
  for (auto [it, end] = a.opts.equal_range("insecure"); it != end; ++it)
    o.insecure_registries.push_back(it->second);
  for (auto [it, end] = a.opts.equal_range("ca"); it != end; ++it) {
    auto eq = it->second.find('=');
    o.ca_files[it->second.substr(0, eq)] = it->second.substr(eq + 1);
  }
  for (auto [it, end] = a.opts.equal_range("user"); it != end; ++it) {
    auto colon = it->second.find(':'), at = it->second.rfind('@');
    o.credentials[it->second.substr(at + 1)] = {it->second.substr(0, colon),
                                                it->second.substr(colon + 1, at - colon - 1)};
  }
  return o;
}

CurlOptions curl_options(const Args& a) {
  CurlOptions c;
  c.connect_timeout_s = 10;
  c.low_speed_time_s = 20;
  for (auto [it, end] = a.opts.equal_range("resolve"); it != end; ++it)
    c.resolve.push_back(it->second);
  return c;
}

std::string descriptor_json(std::string_view media_type, const Digest& d, uint64_t size) {
  return json{{"mediaType", media_type}, {"digest", d.str()}, {"size", size}}.dump();
}

Status push(const Args& a, RegistryClient& client, BlobStore& store) {
  const std::string& dir = a.positional.at(1);
  auto ref = parse_reference(a.positional.at(2));
  if (!ref) return std::unexpected(ref.error());
  auto layer = diff_layer_to_store(dir, store, a.get("store"),
                                   {.mode = DiffMode::Plain, .compression = Compression::Gzip});
  if (!layer) return std::unexpected(layer.error());
  Platform host = host_platform();
  json config = {{"architecture", host.architecture},
                 {"os", host.os},
                 {"config", {{"Cmd", {"/bin/sh"}}}},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", {layer->diff_id.str()}}}}};
  std::string config_body = config.dump();
  auto config_digest = store.put(config_body);
  if (!config_digest) return std::unexpected(config_digest.error());
  std::string manifest =
      R"({"schemaVersion":2,"mediaType":")" + std::string(media_type::kOciManifest) +
      R"(","config":)" +
      descriptor_json(media_type::kOciConfig, *config_digest, config_body.size()) +
      R"(,"layers":[)" + descriptor_json(layer->media_type, layer->digest, layer->size) + "]}";
  std::optional<std::string> mount_from;
  if (!a.get("mount-from").empty()) mount_from = a.get("mount-from");
  Descriptor ld{.media_type = layer->media_type,
                .digest = layer->digest,
                .size = static_cast<int64_t>(layer->size)};
  SILO_TRY(client.push_blob(*ref, ld, store, mount_from));
  Descriptor cd{.media_type = std::string(media_type::kOciConfig),
                .digest = *config_digest,
                .size = static_cast<int64_t>(config_body.size())};
  SILO_TRY(client.push_blob(*ref, cd, store));
  auto digest = client.put_manifest(*ref, media_type::kOciManifest, manifest);
  if (!digest) return std::unexpected(digest.error());
  std::cout << "pushed " << ref->familiar_str() << " manifest " << digest->str() << " layer "
            << layer->digest.str() << " diff_id " << layer->diff_id.str() << "\n";
  return {};
}

Status pull(const Args& a, RegistryClient& client, BlobStore& store) {
  auto ref = parse_reference(a.positional.at(1));
  if (!ref) return std::unexpected(ref.error());
  auto fetched = client.get_manifest(*ref);
  if (!fetched) return std::unexpected(fetched.error());
  auto any = parse_manifest(fetched->body, fetched->media_type);
  if (!any) return std::unexpected(any.error());
  if (!std::holds_alternative<Manifest>(*any))
    return fail(Code::Invalid, "pull: " + ref->familiar_str() +
                                   " is an index; the tool pulls "
                                   "single-platform images");
  const Manifest& m = std::get<Manifest>(*any);
  SILO_TRY(store.write(fetched->digest, fetched->body));
  std::vector<Descriptor> blobs = m.layers;
  blobs.insert(blobs.begin(), m.config);
  SILO_TRY(client.fetch_blobs(*ref, blobs, store));
  auto config_body = store.read(m.config.digest);
  if (!config_body) return std::unexpected(config_body.error());
  auto config = parse_image_config(*config_body);
  if (!config) return std::unexpected(config.error());
  SILO_TRY(check_layers_match(m, *config));
  std::cout << "pulled " << ref->familiar_str() << " manifest " << fetched->digest.str()
            << " layers " << m.layers.size() << "\n";
  for (size_t i = 0; i < m.layers.size(); ++i) {
    SILO_TRY(store.verify(m.layers[i].digest));
    std::string unpack = a.get("unpack");
    if (!unpack.empty()) {
      SILO_TRY(sys::mkdir_p(unpack, 0755));
      auto fd = store.open(m.layers[i].digest);
      if (!fd) return std::unexpected(fd.error());
      auto applied = apply_layer(fd->get(), unpack);
      if (!applied) return std::unexpected(applied.error());
      if (applied->diff_id != config->diff_ids[i])
        return fail(Code::Invalid, "layer " + m.layers[i].digest.str() + " unpacks to diff_id " +
                                       applied->diff_id.str() + ", the config says " +
                                       config->diff_ids[i].str());
    }
    std::cout << "layer " << m.layers[i].digest.str() << " diff_id " << config->diff_ids[i].str()
              << "\n";
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse_args(argc, argv);
  if (a.positional.empty() || a.get("store").empty() ||
      (a.positional[0] == "push" && a.positional.size() != 3) ||
      (a.positional[0] == "pull" && a.positional.size() != 2)) {
    std::cerr << "usage: silo-test-registry push DIR REF --store S [--mount-from REPO] | pull REF "
                 "--store S [--unpack DIR]  [--insecure H] [--ca H=FILE] [--resolve H:P:A] "
                 "[--user U:P@H]\n";
    return 2;
  }
  BlobStore store(a.get("store"));
  if (auto s = store.init(); !s) {
    std::cerr << "silo-test-registry: " << s.error().message << "\n";
    return 1;
  }
  auto transport = make_curl_transport(curl_options(a));
  RegistryClient client(*transport, registry_options(a));
  Status s = a.positional[0] == "push" ? push(a, client, store)
             : a.positional[0] == "pull"
                 ? pull(a, client, store)
                 : fail(Code::Invalid, "unknown command " + a.positional[0]);
  if (!s) {
    std::cerr << "silo-test-registry: " << s.error().message << "\n";
    return 1;
  }
  return 0;
}
