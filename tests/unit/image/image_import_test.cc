// docker import (a rootfs tarball in any compression becomes a one-layer image) and the
// commit helper (base config + overlay upper dir -> child image).

#include "image/image_import.h"

#include <archive.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "image/config.h"
#include "image/layer_apply.h"
#include "tar_builder.h"
#include "temp_dir.h"

namespace silo::image {
namespace {

using testing::make_tar;
using testing::slurp;
using testing::TempDir;
namespace mt = media_type;

ReadFn string_reader(const std::string& data) {
  auto pos = std::make_shared<size_t>(0);
  return [&data, pos](char* buf, size_t len) -> Result<size_t> {
    size_t n = std::min(len, data.size() - *pos);
    std::copy_n(data.data() + *pos, n, buf);
    *pos += n;
    return n;
  };
}

// `data` through one of libarchive's compressors (format raw).
std::string compress(const std::string& data, int (*add_filter)(archive*)) {
  std::string out;
  archive* a = archive_write_new();
  add_filter(a);
  archive_write_set_format_raw(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(
      a, &out, nullptr,
      [](archive*, void* s, const void* buf, size_t n) -> la_ssize_t {
        static_cast<std::string*>(s)->append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  archive_entry* e = archive_entry_new();
  archive_entry_set_filetype(e, AE_IFREG);
  archive_write_header(a, e);
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

const std::string& rootfs_tar() {
  static const std::string tar = make_tar({{.name = "etc", .type = AE_IFDIR, .perm = 0755},
                                           {.name = "etc/hello", .data = "hello\n"},
                                           {.name = "bin", .type = AE_IFDIR, .perm = 0755},
                                           {.name = "bin/app", .data = "#!/bin/sh\n", .perm = 0755},
                                           {.name = "bin/sh", .type = AE_IFLNK, .link = "app"}});
  return tar;
}

struct ImageImport : ::testing::Test {
  TempDir tmp;
  BlobStore store{tmp.file("store")};
  void SetUp() override { ASSERT_TRUE(store.init()); }
  ImportOptions options(std::vector<std::string> changes = {}) {
    return {.changes = std::move(changes), .spool_dir = tmp.path()};
  }
  ImageConfig config_of(const NewImage& img) {
    auto c = parse_image_config(img.config);
    EXPECT_TRUE(c) << c.error().message;
    return c ? *c : ImageConfig{};
  }
  std::string unpack(const std::vector<Descriptor>& layers, const std::string& name) {
    std::string dir = tmp.file(name);
    std::filesystem::create_directories(dir);
    for (const auto& l : layers) {
      auto fd = store.open(l.digest);
      EXPECT_TRUE(fd) << l.digest.str();
      if (fd) {
        EXPECT_TRUE(apply_layer(fd->get(), dir, {.same_owner = false}));
      }
    }
    return dir;
  }
  void expect_nothing_left() {
    auto blobs = store.list();
    ASSERT_TRUE(blobs);
    EXPECT_TRUE(blobs->empty());
    EXPECT_TRUE(std::filesystem::is_empty(tmp.file("store/ingest")));
    for (const auto& e : std::filesystem::directory_iterator(tmp.path()))
      EXPECT_EQ(e.path().filename(), "store") << "left behind: " << e.path();
  }
};

TEST_F(ImageImport, ImportsAGzipRootfsWithChanges) {
  std::string gz = compress(rootfs_tar(), archive_write_add_filter_gzip);
  auto img = import_rootfs(string_reader(gz), store,
                           options({R"(CMD ["/bin/app"])", "ENV A=1", "EXPOSE 8080"}));
  ASSERT_TRUE(img) << img.error().message;
  // The layer is the uncompressed tar, as Docker keeps it.
  EXPECT_EQ(img->diff_id, Digest::of(rootfs_tar()));
  EXPECT_EQ(img->layer.digest, img->diff_id);
  EXPECT_EQ(img->layer.media_type, mt::kDockerLayerTar);
  EXPECT_EQ(img->layer.size, static_cast<int64_t>(rootfs_tar().size()));
  EXPECT_EQ(img->config_digest, Digest::of(img->config));
  ASSERT_TRUE(store.exists(img->config_digest));
  ASSERT_TRUE(store.exists(img->manifest_digest));
  EXPECT_TRUE(store.verify(img->layer.digest));

  ImageConfig c = config_of(*img);
  EXPECT_EQ(c.platform.os, "linux");
  EXPECT_EQ(c.platform.architecture, host_platform().architecture);
  EXPECT_FALSE(c.created.empty());
  EXPECT_EQ(c.config.cmd, std::vector<std::string>{"/bin/app"});
  EXPECT_EQ(c.config.env, std::vector<std::string>{"A=1"});
  EXPECT_EQ(c.config.exposed_ports, std::set<std::string>{"8080/tcp"});
  EXPECT_EQ(c.diff_ids, std::vector<Digest>{img->diff_id});
  ASSERT_EQ(c.history.size(), 1u);
  EXPECT_EQ(c.history[0].comment, "Imported from -");
  EXPECT_EQ(c.history[0].created, c.created);

  auto m = parse_manifest(*store.read(img->manifest_digest));
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(std::get<Manifest>(*m).media_type, mt::kDockerManifest);
  EXPECT_TRUE(check_layers_match(std::get<Manifest>(*m), c));

  std::string root = unpack({img->layer}, "root");
  EXPECT_EQ(slurp(root + "/etc/hello"), "hello\n");
  EXPECT_EQ(std::filesystem::read_symlink(root + "/bin/sh"), "app");
}

TEST_F(ImageImport, EveryCompressionGivesTheSameLayer) {
  const Digest want = Digest::of(rootfs_tar());
  std::pair<const char*, std::string> inputs[] = {
      {"plain", rootfs_tar()},
      {"bzip2", compress(rootfs_tar(), archive_write_add_filter_bzip2)},
      {"xz", compress(rootfs_tar(), archive_write_add_filter_xz)},
      {"zstd", compress(rootfs_tar(), archive_write_add_filter_zstd)},
  };
  for (const auto& [name, bytes] : inputs) {
    auto img = import_rootfs(string_reader(bytes), store, options());
    ASSERT_TRUE(img) << name << ": " << img.error().message;
    EXPECT_EQ(img->diff_id, want) << name;
  }
}

TEST_F(ImageImport, MessageSourceCreatedAndPlatform) {
  ImportOptions o = options();
  o.message = "base system";
  o.created = "2024-01-01T00:00:00Z";
  o.platform = Platform{.os = "linux", .architecture = "arm64", .variant = "v8"};
  auto img = import_rootfs(string_reader(rootfs_tar()), store, o);
  ASSERT_TRUE(img) << img.error().message;
  ImageConfig c = config_of(*img);
  EXPECT_EQ(c.history[0].comment, "base system");
  EXPECT_EQ(c.created, "2024-01-01T00:00:00Z");
  EXPECT_EQ(c.platform.str(), "linux/arm64/v8");
  EXPECT_EQ(Json::parse(img->config)["comment"], "base system");
  // Same input, options and time: the same image id.
  auto again = import_rootfs(string_reader(rootfs_tar()), store, o);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->config_digest, img->config_digest);

  o = options();
  o.source = "https://example.com/rootfs.tar.xz";
  auto from_url = import_rootfs(string_reader(rootfs_tar()), store, o);
  ASSERT_TRUE(from_url);
  EXPECT_EQ(config_of(*from_url).history[0].comment,
            "Imported from https://example.com/rootfs.tar.xz");
}

TEST_F(ImageImport, RefusesABadChangeBeforeReadingTheTarball) {
  bool read = false;
  ReadFn src = [&](char*, size_t) -> Result<size_t> {
    read = true;
    return size_t{0};
  };
  auto img = import_rootfs(src, store, options({"ENV A=1", "RUN rm -rf /"}));
  ASSERT_FALSE(img);
  EXPECT_NE(img.error().message.find("run is not a valid change command"), std::string::npos)
      << img.error().message;
  EXPECT_FALSE(read);
  expect_nothing_left();
}

TEST_F(ImageImport, RefusesWhatIsNotASafeTar) {
  std::pair<std::string, std::string> cases[] = {
      {"definitely not a tarball, only text that is long enough to not be a header ....",
       "import: the rootfs tarball"},
      {make_tar({{.name = "../escape", .data = "x"}}), "leaves the layer root"},
  };
  for (const auto& [bytes, expect] : cases) {
    auto img = import_rootfs(string_reader(bytes), store, options());
    ASSERT_FALSE(img) << expect;
    EXPECT_NE(img.error().message.find(expect), std::string::npos) << img.error().message;
    expect_nothing_left();
  }
}

struct ImageCommit : ImageImport {
  NewImage base;
  void SetUp() override {
    ImageImport::SetUp();
    auto img = import_rootfs(string_reader(rootfs_tar()), store,
                             options({R"(CMD ["/bin/app"])", "ENV A=1"}));
    ASSERT_TRUE(img) << img.error().message;
    base = *img;
  }
  std::string upper() {
    std::string dir = tmp.file("upper");
    std::filesystem::create_directories(dir + "/etc");
    return dir;
  }
  CommitOptions commit_options() {
    CommitOptions o;
    o.spool_dir = tmp.path();
    return o;
  }
};

TEST_F(ImageCommit, AddsTheUpperDirAsALayerWithHistory) {
  std::string dir = upper();
  { std::ofstream(dir + "/etc/new") << "committed\n"; }
  CommitOptions o = commit_options();
  o.author = "Ada <ada@example.com>";
  o.comment = "add etc/new";
  o.container_cmd = {"/bin/sh", "-c", "echo committed > /etc/new"};
  o.container_id = "3f2a91c0ffee";
  o.changes = {"USER app", "LABEL stage=two"};
  auto img = commit_container(base.config, {base.layer}, dir, store, o);
  ASSERT_TRUE(img) << img.error().message;

  EXPECT_EQ(img->layer.media_type, mt::kDockerLayer);
  EXPECT_NE(img->layer.digest, img->diff_id);  // gzip
  EXPECT_TRUE(store.verify(img->layer.digest));
  ImageConfig c = config_of(*img);
  ASSERT_EQ(c.diff_ids.size(), 2u);
  EXPECT_EQ(c.diff_ids[0], base.diff_id);
  EXPECT_EQ(c.diff_ids[1], img->diff_id);
  EXPECT_EQ(c.platform, config_of(base).platform);
  EXPECT_EQ(c.author, "Ada <ada@example.com>");
  EXPECT_EQ(c.config.user, "app");
  EXPECT_EQ(c.config.labels.at("stage"), "two");
  EXPECT_EQ(c.config.cmd, std::vector<std::string>{"/bin/app"});  // inherited
  EXPECT_EQ(c.config.env, std::vector<std::string>{"A=1"});
  ASSERT_EQ(c.history.size(), 2u);
  EXPECT_EQ(c.history[0].comment, "Imported from -");
  EXPECT_EQ(c.history[1].created_by, "/bin/sh -c echo committed > /etc/new");
  EXPECT_EQ(c.history[1].author, "Ada <ada@example.com>");
  EXPECT_EQ(c.history[1].comment, "add etc/new");
  EXPECT_FALSE(c.history[1].empty_layer);
  EXPECT_EQ(Json::parse(img->config)["container"], "3f2a91c0ffee");
  EXPECT_FALSE(Json::parse(img->config).contains("comment")) << "the parent's comment leaked";

  auto m = parse_manifest(*store.read(img->manifest_digest));
  ASSERT_TRUE(m) << m.error().message;
  const auto& manifest = std::get<Manifest>(*m);
  ASSERT_EQ(manifest.layers.size(), 2u);
  EXPECT_EQ(manifest.layers[1].digest, img->layer.digest);
  EXPECT_TRUE(check_layers_match(manifest, c));
  std::string root = unpack(manifest.layers, "child");
  EXPECT_EQ(slurp(root + "/etc/new"), "committed\n");
  EXPECT_EQ(slurp(root + "/etc/hello"), "hello\n");
}

TEST_F(ImageCommit, NoChangeAddsNoLayerOnlyHistory) {
  std::string dir = tmp.file("empty-upper");
  std::filesystem::create_directories(dir);
  auto img = commit_container(base.config, {base.layer}, dir, store, commit_options());
  ASSERT_TRUE(img) << img.error().message;
  EXPECT_TRUE(img->layer.digest.empty());
  ImageConfig c = config_of(*img);
  EXPECT_EQ(c.diff_ids, std::vector<Digest>{base.diff_id});
  ASSERT_EQ(c.history.size(), 2u);
  EXPECT_TRUE(c.history[1].empty_layer);
  auto m = parse_manifest(*store.read(img->manifest_digest));
  ASSERT_TRUE(m);
  EXPECT_EQ(std::get<Manifest>(*m).layers.size(), 1u);
}

TEST_F(ImageCommit, TheContainersRunConfigAndChangesOnTop) {
  CommitOptions o = commit_options();
  o.run_config = Json{{"Cmd", {"/bin/sh"}}, {"Env", {"B=2"}}};
  o.changes = {"ENV C=3"};
  auto img = commit_container(base.config, {base.layer}, upper(), store, o);
  ASSERT_TRUE(img) << img.error().message;
  ImageConfig c = config_of(*img);
  EXPECT_EQ(c.config.cmd, std::vector<std::string>{"/bin/sh"});
  EXPECT_EQ(c.config.env, (std::vector<std::string>{"B=2", "C=3"}));
}

TEST_F(ImageCommit, RefusesABrokenBaseOrChange) {
  auto bad = commit_container("{not json", {}, upper(), store, commit_options());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("commit: the base image config"), std::string::npos)
      << bad.error().message;
  auto mismatch = commit_container(base.config, {}, upper(), store, commit_options());
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().message.find("0 layers but its config 1 diff_ids"), std::string::npos)
      << mismatch.error().message;
  CommitOptions o = commit_options();
  o.changes = {"ADD x /x"};
  auto change = commit_container(base.config, {base.layer}, upper(), store, o);
  ASSERT_FALSE(change);
  EXPECT_EQ(change.error().message, "commit: add is not a valid change command");
  auto missing =
      commit_container(base.config, {base.layer}, tmp.file("nope"), store, commit_options());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::NotFound) << missing.error().message;
}

}  // namespace
}  // namespace silo::image
