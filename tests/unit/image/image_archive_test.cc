// Load and save of image archives: the committed `docker save` fixtures from a real Docker
// 20.10, a hand-made OCI layout with a nested index, round trips through both writers, and
// broken archives that must be refused without leaving anything in the store.

#include "image/image_archive.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "common/json.h"
#include "image/config.h"
#include "image/layer_apply.h"
#include "image/layer_diff.h"
#include "tar_builder.h"
#include "temp_dir.h"

namespace silo::image {
namespace {

using testing::make_tar;
using testing::slurp;
using testing::TarEntry;
using testing::TempDir;
namespace mt = media_type;

const std::string kFixtures = SILO_FIXTURES_DIR;
// The image ids (config digests) of the committed fixtures, as `docker images --no-trunc`
// showed them when make-docker-save.sh made them; a regeneration changes them.
const std::string kOneId =
    "sha256:4f2e28d920cda529c42461556f7f0678b55b6e54eba2c3a5842cedca430a85b7";
const std::string kTwoId =
    "sha256:0cb7a7afb580e2c80f2c0ddc085b4b4593b9fc79d926b17e3d4a34d1f0f41f06";

ReadFn string_reader(const std::string& data) {
  auto pos = std::make_shared<size_t>(0);
  return [&data, pos](char* buf, size_t len) -> Result<size_t> {
    size_t n = std::min(len, data.size() - *pos);
    std::copy_n(data.data() + *pos, n, buf);
    *pos += n;
    return n;
  };
}

std::string gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct ImageArchive : ::testing::Test {
  TempDir tmp;
  BlobStore store{tmp.file("store")};
  void SetUp() override { ASSERT_TRUE(store.init()); }

  Result<LoadResult> load(const std::string& bytes) {
    return load_archive(string_reader(bytes), store, {.spool_dir = tmp.path()});
  }
  // Applies an image's layers, base first, into a new directory.
  std::string unpack(const ArchiveImage& img, const std::string& name) {
    std::string dir = tmp.file(name);
    std::filesystem::create_directories(dir);
    for (size_t i = 0; i < img.layers.size(); ++i) {
      auto fd = store.open(img.layers[i].digest);
      EXPECT_TRUE(fd);
      auto r = apply_layer(fd->get(), dir, {.same_owner = false});
      EXPECT_TRUE(r) << r.error().message;
      if (r) {
        EXPECT_EQ(r->diff_id, img.diff_ids[i]);
      }
    }
    return dir;
  }
  void expect_store_clean() {
    auto blobs = store.list();
    ASSERT_TRUE(blobs);
    EXPECT_TRUE(blobs->empty());
    EXPECT_TRUE(std::filesystem::is_empty(tmp.file("store/ingest")));
    for (const auto& e : std::filesystem::directory_iterator(tmp.path()))
      EXPECT_EQ(e.path().filename().string().rfind("silo-load-", 0), std::string::npos)
          << "spool left behind: " << e.path();
  }
};

std::vector<std::string> tag_strings(const ArchiveImage& img) {
  std::vector<std::string> out;
  for (const auto& r : img.repo_tags) out.push_back(r.str());
  return out;
}

const ArchiveImage* by_id(const LoadResult& r, const std::string& id) {
  for (const auto& img : r.images)
    if (img.config_digest.str() == id) return &img;
  return nullptr;
}

TEST_F(ImageArchive, LoadsARealDockerSave) {
  auto r = load(slurp(kFixtures + "/docker-save-one.tar"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->format, ArchiveFormat::DockerArchive);
  ASSERT_EQ(r->images.size(), 1u);
  const auto& img = r->images[0];
  EXPECT_EQ(img.config_digest.str(), kOneId);
  EXPECT_EQ(tag_strings(img), (std::vector<std::string>{"docker.io/library/silo-fixture:one",
                                                        "example.com/silo/fixture:v1"}));
  ASSERT_EQ(img.layers.size(), 1u);
  EXPECT_EQ(img.layers[0].media_type, mt::kDockerLayerTar);
  EXPECT_EQ(img.layers[0].digest, img.diff_ids[0]);  // docker-archive layers are plain tars
  EXPECT_EQ(img.layers[0].size, 10240);
  // The made-up manifest is stored, parses, and matches its config.
  auto body = store.read(img.manifest_digest);
  ASSERT_TRUE(body);
  EXPECT_EQ(*body, img.manifest);
  auto m = parse_manifest(*body);
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_TRUE(std::holds_alternative<Manifest>(*m));
  EXPECT_EQ(std::get<Manifest>(*m).media_type, mt::kDockerManifest);
  EXPECT_EQ(std::get<Manifest>(*m).config.digest, img.config_digest);
  auto config = parse_image_config(*store.read(img.config_digest));
  ASSERT_TRUE(config);
  EXPECT_EQ(config->config.cmd, std::vector<std::string>{"/bin/hello"});
  EXPECT_TRUE(check_layers_match(std::get<Manifest>(*m), *config));
  EXPECT_TRUE(store.verify(img.layers[0].digest));

  std::string root = unpack(img, "rootfs");
  EXPECT_EQ(slurp(root + "/etc/greeting"), "hello from silo\n");
  EXPECT_EQ(slurp(root + "/bin/hello"), "#!/bin/sh\necho hi\n");
  struct stat st {};
  ASSERT_EQ(::stat((root + "/bin/hello").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  EXPECT_EQ(std::filesystem::read_symlink(root + "/etc/motd"), "greeting");
}

TEST_F(ImageArchive, LoadsATwoLayerBuildAndItsSharedBase) {
  auto r = load(slurp(kFixtures + "/docker-save-two.tar"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->images.size(), 2u);
  const ArchiveImage* two = by_id(*r, kTwoId);
  const ArchiveImage* one = by_id(*r, kOneId);
  ASSERT_TRUE(two && one);
  EXPECT_EQ(tag_strings(*two), std::vector<std::string>{"docker.io/library/silo-fixture:two"});
  ASSERT_EQ(two->layers.size(), 2u);
  // The base layer.tar is a symlink in the archive to the other image's copy.
  EXPECT_EQ(two->layers[0].digest, one->layers[0].digest);
  auto config = parse_image_config(*store.read(two->config_digest));
  ASSERT_TRUE(config);
  EXPECT_EQ(config->config.env.back(), "SILO_FIXTURE=two");
  std::string root = unpack(*two, "two");
  EXPECT_EQ(slurp(root + "/etc/added.txt"), "second layer\n");
  EXPECT_EQ(slurp(root + "/etc/greeting"), "hello from silo\n");
}

TEST_F(ImageArchive, LoadsAGzippedArchive) {
  auto r = load(gzip(slurp(kFixtures + "/docker-save-one.tar")));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->images.size(), 1u);
  EXPECT_EQ(r->images[0].config_digest.str(), kOneId);
}

TEST_F(ImageArchive, LoadsANestedOciIndexForTheHostPlatform) {
  Platform host = host_platform();
  if (host.architecture != "amd64" && host.architecture != "arm64")
    GTEST_SKIP() << "skipped, because the fixture has only linux/amd64 and linux/arm64 images";
  auto r = load(slurp(kFixtures + "/oci-nested-index.tar"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->format, ArchiveFormat::OciLayout);
  ASSERT_EQ(r->images.size(), 1u);
  const auto& img = r->images[0];
  EXPECT_EQ(tag_strings(img), std::vector<std::string>{"example.com/silo/nested:1.0"});
  auto config = parse_image_config(*store.read(img.config_digest));
  ASSERT_TRUE(config);
  EXPECT_EQ(config->platform.architecture, host.architecture);
  EXPECT_TRUE(store.exists(img.manifest_digest));
  EXPECT_EQ(Digest::of(img.manifest), img.manifest_digest);
  EXPECT_EQ(slurp(unpack(img, "nested") + "/etc/nested.txt"), "nested index\n");
}

TEST_F(ImageArchive, DockerArchiveRoundTrip) {
  auto first = load(slurp(kFixtures + "/docker-save-two.tar"));
  ASSERT_TRUE(first) << first.error().message;
  std::vector<SaveImage> images;
  for (const auto& img : first->images)
    images.push_back({img.config_digest, img.layers, img.repo_tags, {}});
  std::string saved;
  auto s = save_docker_archive(store, images, [&](std::string_view d) -> Status {
    saved.append(d);
    return {};
  });
  ASSERT_TRUE(s) << s.error().message;

  TempDir other;
  BlobStore fresh(other.file("store"));
  ASSERT_TRUE(fresh.init());
  auto again = load_archive(string_reader(saved), fresh, {.spool_dir = other.path()});
  ASSERT_TRUE(again) << again.error().message;
  ASSERT_EQ(again->images.size(), first->images.size());
  for (size_t i = 0; i < again->images.size(); ++i) {
    const auto& a = first->images[i];
    const auto& b = again->images[i];
    EXPECT_EQ(a.config_digest, b.config_digest);
    EXPECT_EQ(a.diff_ids, b.diff_ids);
    EXPECT_EQ(a.manifest_digest, b.manifest_digest);
    EXPECT_EQ(tag_strings(a), tag_strings(b));
    ASSERT_EQ(a.layers.size(), b.layers.size());
    for (size_t l = 0; l < a.layers.size(); ++l) EXPECT_EQ(a.layers[l].digest, b.layers[l].digest);
  }
}

TEST_F(ImageArchive, OciLayoutRoundTripKeepsTheManifestDigest) {
  auto first = load(slurp(kFixtures + "/docker-save-two.tar"));
  ASSERT_TRUE(first) << first.error().message;
  std::vector<SaveImage> images;
  for (const auto& img : first->images)
    images.push_back({img.config_digest, img.layers, img.repo_tags, img.manifest});
  std::string saved;
  ASSERT_TRUE(save_oci_layout(store, images, [&](std::string_view d) -> Status {
    saved.append(d);
    return {};
  }));
  TempDir other;
  BlobStore fresh(other.file("store"));
  ASSERT_TRUE(fresh.init());
  auto again = load_archive(string_reader(saved), fresh, {.spool_dir = other.path()});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->format, ArchiveFormat::OciLayout);
  ASSERT_EQ(again->images.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(again->images[i].config_digest, first->images[i].config_digest);
    EXPECT_EQ(again->images[i].manifest_digest, first->images[i].manifest_digest);
    EXPECT_EQ(again->images[i].diff_ids, first->images[i].diff_ids);
    EXPECT_EQ(tag_strings(again->images[i]), tag_strings(first->images[i]));
  }
}

// A layer stored gzip-compressed (as pulled) goes into a docker-archive as a plain tar.
TEST_F(ImageArchive, SaveDecompressesGzipLayers) {
  std::string rootfs = tmp.file("src");
  std::filesystem::create_directories(rootfs + "/etc");
  { std::ofstream(rootfs + "/etc/hostname") << "gz\n"; }
  auto layer = diff_layer_to_store(rootfs, store, tmp.path(),
                                   {.mode = DiffMode::Plain, .compression = Compression::Gzip});
  ASSERT_TRUE(layer) << layer.error().message;
  ASSERT_NE(layer->digest, layer->diff_id);
  Json config{{"architecture", "amd64"},
              {"os", "linux"},
              {"rootfs", {{"type", "layers"}, {"diff_ids", {layer->diff_id.str()}}}}};
  auto config_digest = store.put(config.dump());
  ASSERT_TRUE(config_digest);
  auto ref = parse_reference("gz:1");
  ASSERT_TRUE(ref);
  SaveImage img{*config_digest,
                {Descriptor{.media_type = std::string(mt::kOciLayerGzip),
                            .digest = layer->digest,
                            .size = static_cast<int64_t>(layer->size)}},
                {*ref},
                {}};
  std::string saved;
  ASSERT_TRUE(save_docker_archive(store, {img}, [&](std::string_view d) -> Status {
    saved.append(d);
    return {};
  }));
  TempDir other;
  BlobStore fresh(other.file("store"));
  ASSERT_TRUE(fresh.init());
  auto again = load_archive(string_reader(saved), fresh, {.spool_dir = other.path()});
  ASSERT_TRUE(again) << again.error().message;
  ASSERT_EQ(again->images.size(), 1u);
  EXPECT_EQ(again->images[0].config_digest, *config_digest);
  EXPECT_EQ(again->images[0].layers[0].digest, layer->diff_id);
  EXPECT_EQ(again->images[0].layers[0].media_type, mt::kDockerLayerTar);
  EXPECT_EQ(tag_strings(again->images[0]), std::vector<std::string>{"docker.io/library/gz:1"});
}

// A docker-archive built by hand around one layer, for the broken-archive tests.
std::string docker_archive(const std::string& manifest_json, const std::string& layer,
                           const std::string& diff_id) {
  Json config{{"architecture", "amd64"},
              {"os", "linux"},
              {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id}}}}};
  std::string body = config.dump();
  std::string hex = Digest::of(body).hex;
  std::string manifest = manifest_json;
  for (size_t p; (p = manifest.find("CONFIG")) != std::string::npos;)
    manifest.replace(p, 6, hex + ".json");
  return make_tar({{.name = "l1/layer.tar", .data = layer},
                   {.name = hex + ".json", .data = body},
                   {.name = "manifest.json", .data = manifest}});
}

TEST_F(ImageArchive, RefusesALayerWhoseDiffIdDoesNotMatch) {
  std::string layer = make_tar({{.name = "a", .data = "x"}});
  std::string wrong = Digest::of("something else").str();
  auto r = load(docker_archive(
      R"([{"Config":"CONFIG","RepoTags":["a:1"],"Layers":["l1/layer.tar"]}])", layer, wrong));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("l1/layer.tar"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("diff_id"), std::string::npos) << r.error().message;
  expect_store_clean();
}

TEST_F(ImageArchive, RefusesMalformedArchivesNamingTheFile) {
  std::string layer = make_tar({{.name = "a", .data = "x"}});
  std::string id = Digest::of(layer).str();
  struct Case {
    std::string archive, expect;
  } cases[] = {
      {docker_archive(R"([{"Config":"CONFIG","Layers":["l2/layer.tar"]}])", layer, id),
       "l2/layer.tar: not in the archive"},
      {docker_archive(R"({"Config":"CONFIG"})", layer, id), "manifest.json: expected an array"},
      {docker_archive(R"([{"Config":"CONFIG","Layers":["l1/layer.tar"]},)", layer, id),
       "manifest.json"},
      {docker_archive(R"([{"Layers":["l1/layer.tar"]}])", layer, id), "manifest.json[0].Config"},
      {docker_archive(R"([{"Config":"CONFIG","RepoTags":["Bad:Tag"],"Layers":["l1/layer.tar"]}])",
                      layer, id),
       "RepoTags: repo tag \"Bad:Tag\""},
      {docker_archive(R"([{"Config":"CONFIG","Layers":[]}])", layer, id),
       "lists 0 layers but its config"},
      {docker_archive(R"([{"Config":"CONFIG","Layers":["../../etc/passwd"]}])", layer, id),
       "../../etc/passwd: path leaves the archive"},
      {make_tar({{.name = "repositories", .data = "{}"}}), "pre-1.10"},
      {make_tar({{.name = "hello", .data = "x"}}), "neither manifest.json"},
      {make_tar({{.name = "index.json", .data = R"({"schemaVersion":2,"manifests":[]})"}}),
       "oci-layout"},
      {"this is not a tar at all, just some bytes that go on for a while ............",
       "expected a tar"},
  };
  for (const auto& c : cases) {
    auto r = load(c.archive);
    ASSERT_FALSE(r) << c.expect;
    EXPECT_EQ(r.error().code, Code::Invalid) << r.error().message;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos)
        << "got: " << r.error().message << "\nexpected to contain: " << c.expect;
    expect_store_clean();
  }
}

TEST_F(ImageArchive, RefusesAnOciBlobThatIsNotWhatItsDescriptorSays) {
  std::string archive = slurp(kFixtures + "/oci-nested-index.tar");
  // Flip one byte of the shared layer blob's content ("nested index" -> "nestedXindex").
  auto pos = archive.find("nested index\n");
  ASSERT_NE(pos, std::string::npos);
  archive[pos + 6] = 'X';
  auto r = load(archive);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("is corrupt"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("blobs/sha256/"), std::string::npos) << r.error().message;
  expect_store_clean();
}

}  // namespace
}  // namespace silo::image
