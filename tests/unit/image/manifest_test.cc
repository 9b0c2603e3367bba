#include "image/manifest.h"

#include <gtest/gtest.h>

namespace silo::image {
namespace {

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');

std::string docker_manifest() {
  return R"({
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1457,
              "digest": ")" +
         kA + R"("},
   "layers": [
      {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 2591575,
       "digest": ")" +
         kB + R"("}
   ]})";
}

std::string docker_list() {
  return R"({"schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
  "manifests": [
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 528,
     "digest": ")" +
         kA + R"(", "platform": {"architecture": "amd64", "os": "linux"}},
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 528,
     "digest": ")" +
         kB + R"(", "platform": {"architecture": "arm", "os": "linux", "variant": "v6"}},
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 528,
     "digest": ")" +
         kC + R"(", "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}}
  ]})";
}

TEST(Manifest, DockerSchema2) {
  auto m =
      parse_manifest(docker_manifest(), "application/vnd.docker.distribution.manifest.v2+json");
  ASSERT_TRUE(m) << m.error().message;
  auto& man = std::get<Manifest>(*m);
  EXPECT_EQ(man.media_type, media_type::kDockerManifest);
  EXPECT_EQ(man.config.digest.str(), kA);
  EXPECT_EQ(man.config.size, 1457);
  ASSERT_EQ(man.layers.size(), 1u);
  EXPECT_EQ(man.layers[0].size, 2591575);
  EXPECT_EQ(*layer_compression(man.layers[0].media_type), Compression::Gzip);
}

TEST(Manifest, OciManifestWithoutMediaTypeInferredFromShape) {
  std::string body = R"({"schemaVersion": 2,
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 7, "digest": ")" +
                     kA + R"("},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd", "size": 1, "digest": ")" +
                     kB + R"(", "annotations": {"x": "y"}}],
    "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"}})";
  auto m = parse_manifest(body, "application/octet-stream");
  ASSERT_TRUE(m) << m.error().message;
  auto& man = std::get<Manifest>(*m);
  EXPECT_EQ(man.media_type, media_type::kOciManifest);
  EXPECT_EQ(man.layers[0].annotations.at("x"), "y");
  EXPECT_EQ(*layer_compression(man.layers[0].media_type), Compression::Zstd);
  EXPECT_EQ(man.annotations.size(), 1u);
}

TEST(Manifest, DockerListAndOciIndex) {
  auto l = parse_manifest(docker_list());
  ASSERT_TRUE(l) << l.error().message;
  auto& idx = std::get<Index>(*l);
  EXPECT_EQ(idx.media_type, media_type::kDockerManifestList);
  ASSERT_EQ(idx.manifests.size(), 3u);
  EXPECT_EQ(idx.manifests[1].platform->str(), "linux/arm/v6");

  std::string oci = R"({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 10,
      "digest": ")" +
                    kA + R"(", "platform": {"os": "linux", "architecture": "amd64",
      "os.features": ["f"]}}]})";
  auto o = parse_manifest(oci, "application/vnd.oci.image.index.v1+json; charset=utf-8");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(std::get<Index>(*o).media_type, media_type::kOciIndex);
  EXPECT_EQ(std::get<Index>(*o).manifests[0].platform->os_features.at(0), "f");
}

TEST(Manifest, SelectsTheHostsEntry) {
  auto idx = std::get<Index>(*parse_manifest(docker_list()));
  EXPECT_EQ(select_manifest(idx, {"linux", "amd64", ""})->digest.str(), kA);
  EXPECT_EQ(select_manifest(idx, {"linux", "arm64", "v8"})->digest.str(), kC);
  // arm/v7 has no exact entry: the v6 one runs on it.
  EXPECT_EQ(select_manifest(idx, {"linux", "arm", "v7"})->digest.str(), kB);
  auto none = select_manifest(idx, {"linux", "s390x", ""});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Code::NotFound);
  EXPECT_EQ(none.error().message,
            "no matching manifest for linux/s390x in the manifest list entries (available: "
            "linux/amd64, linux/arm/v6, linux/arm64/v8); pull with --platform to choose one");
}

TEST(Manifest, ExactEntryBeatsFallbackWhateverTheOrder) {
  Index idx;
  Descriptor d386{.digest = *Digest::parse(kA), .platform = Platform{"linux", "386", ""}};
  Descriptor d64{.digest = *Digest::parse(kB), .platform = Platform{"linux", "amd64", ""}};
  Descriptor attestation{.digest = *Digest::parse(kC),
                         .platform = Platform{"unknown", "unknown", ""}};
  idx.manifests = {attestation, d386, d64};
  EXPECT_EQ(select_manifest(idx, {"linux", "amd64", ""})->digest.str(), kB);
  idx.manifests = {d386};
  EXPECT_EQ(select_manifest(idx, {"linux", "amd64", ""})->digest.str(), kA);
}

TEST(Manifest, RejectsSchema1) {
  auto r = parse_manifest(R"({"schemaVersion": 1, "name": "x", "fsLayers": []})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("schema 1 is no longer supported"), std::string::npos);
  auto signed_type = parse_manifest(R"({"schemaVersion": 2})",
                                    "application/vnd.docker.distribution.manifest.v1+prettyjws");
  EXPECT_FALSE(signed_type);
}

TEST(Manifest, ErrorsNameTheField) {
  auto msg = [](const std::string& body, std::string_view ct = {}) {
    auto r = parse_manifest(body, ct);
    return r ? std::string("parsed") : r.error().message;
  };
  EXPECT_EQ(msg("not json").substr(0, 9), "manifest:");
  EXPECT_EQ(msg("[]"), "manifest: expected a JSON object, got array");
  EXPECT_EQ(msg(R"({"schemaVersion": 3, "manifests": []})"),
            "manifest: schemaVersion must be 2, got 3");
  EXPECT_EQ(msg(R"({"schemaVersion": 2, "layers": []})", media_type::kOciManifest),
            "manifest.config: missing (an image manifest names its config)");
  std::string bad_digest = R"({"schemaVersion": 2, "config": {"digest": "sha256:zz", "size": 1},
      "layers": []})";
  EXPECT_EQ(msg(bad_digest),
            "manifest.config.digest: invalid digest \"sha256:zz\": invalid checksum digest format");
  std::string neg =
      R"({"schemaVersion": 2, "config": {"digest": ")" + kA + R"(", "size": -1}, "layers": []})";
  EXPECT_EQ(msg(neg), "manifest.config.size: expected a byte count (an integer >= 0)");
  std::string bad_layer = R"({"schemaVersion": 2, "config": {"digest": ")" + kA +
                          R"(", "size": 1}, "layers": [{"mediaType": "text/plain", "digest": ")" +
                          kB + R"(", "size": 1}]})";
  EXPECT_EQ(msg(bad_layer),
            "manifest.layers[0]: layer media type \"text/plain\" is not a layer Silo can unpack "
            "(tar, tar+gzip, tar+zstd)");
  EXPECT_EQ(
      msg(R"({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": 5})"),
      "index.manifests: expected an array, got number");
  EXPECT_EQ(
      msg(R"({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []})",
          media_type::kDockerManifest),
      "manifest: mediaType application/vnd.oci.image.index.v1+json in the body does not match "
      "the content type application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(msg(R"({"schemaVersion": 2, "mediaType": "text/html"})"),
            "manifest: unsupported media type \"text/html\"; expected one of " +
                manifest_accept_header());
  EXPECT_EQ(msg(R"({"schemaVersion": 2, "manifests": [{"digest": ")" + kA +
                R"(", "size": 1, "platform": 7}]})"),
            "index.manifests[0].platform: expected an object, got number");
}

TEST(Manifest, AcceptHeaderNamesAllFourTypes) {
  std::string h = manifest_accept_header();
  for (auto t : {media_type::kDockerManifest, media_type::kDockerManifestList,
                 media_type::kOciManifest, media_type::kOciIndex})
    EXPECT_NE(h.find(t), std::string::npos) << t;
}

TEST(Manifest, LayerCompressions) {
  EXPECT_EQ(*layer_compression(media_type::kOciLayer), Compression::None);
  EXPECT_EQ(*layer_compression(media_type::kOciLayerGzip), Compression::Gzip);
  EXPECT_EQ(*layer_compression(media_type::kDockerForeignLayer), Compression::Gzip);
  EXPECT_FALSE(layer_compression(media_type::kOciConfig));
}

}  // namespace
}  // namespace silo::image
