#include "image/layer_apply.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "tar_builder.h"
#include "temp_dir.h"

namespace silo::image {
namespace {

using testing::Filter;
using testing::make_tar;
using testing::slurp;
using testing::TarEntry;
using testing::TempDir;
namespace fs = std::filesystem;

ReadFn from(const std::string& bytes) {
  auto pos = std::make_shared<size_t>(0);
  return [&bytes, pos](char* buf, size_t len) -> Result<size_t> {
    size_t n = std::min(len, bytes.size() - *pos);
    std::copy_n(bytes.data() + *pos, n, buf);
    *pos += n;
    return n;
  };
}

class LayerApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.file("root");
    outside_ = dir_.file("outside");
    fs::create_directories(root_);
    fs::create_directories(outside_);
    opts_.same_owner = geteuid() == 0;
  }
  Result<ApplyResult> apply(const std::string& tar) { return apply_layer(from(tar), root_, opts_); }
  bool outside_untouched() { return fs::is_empty(outside_); }

  TempDir dir_;
  std::string root_, outside_;
  ApplyOptions opts_;
};

std::vector<TarEntry> sample() {
  return {{.name = "etc", .type = AE_IFDIR, .perm = 0755, .mtime = 1600000000},
          {.name = "etc/hostname", .data = "box\n", .perm = 0640},
          {.name = "bin/sh", .data = "#!\n", .perm = 04755},  // parent "bin" has no entry
          {.name = "etc/link", .type = AE_IFLNK, .link = "hostname"},
          {.name = "etc/hard", .hardlink = "etc/hostname"},
          {.name = "./usr/./lib/", .type = AE_IFDIR, .perm = 0700}};
}

TEST_F(LayerApplyTest, UnpacksAndReturnsTheDiffIdForEveryCompression) {
  std::string plain = make_tar(sample());
  Digest want = Digest::of(plain);
  for (Filter f : {Filter::None, Filter::Gzip, Filter::Zstd}) {
    fs::remove_all(root_);
    fs::create_directories(root_);
    auto r = apply(make_tar(sample(), f));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->diff_id, want) << static_cast<int>(f);
    EXPECT_EQ(r->uncompressed_size, plain.size());
    EXPECT_EQ(slurp(root_ + "/etc/hostname"), "box\n");
    EXPECT_EQ(fs::status(root_ + "/etc/hostname").permissions(), static_cast<fs::perms>(0640));
    EXPECT_EQ(fs::status(root_ + "/bin/sh").permissions() & fs::perms::set_uid, fs::perms::set_uid);
    EXPECT_EQ(fs::read_symlink(root_ + "/etc/link"), "hostname");
    EXPECT_TRUE(fs::equivalent(root_ + "/etc/hard", root_ + "/etc/hostname"));
    EXPECT_EQ(fs::status(root_ + "/usr/lib").permissions(), static_cast<fs::perms>(0700));
    struct stat st {};
    ASSERT_EQ(::stat((root_ + "/etc").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtime, 1600000000);  // set after its children were created
  }
}

TEST_F(LayerApplyTest, RefusesDotDotEscape) {
  auto r = apply(
      make_tar({{.name = "a", .type = AE_IFDIR}, {.name = "a/../../outside/x", .data = "pwned"}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Invalid);
  EXPECT_EQ(r.error().message,
            "unpack layer: layer entry a/../../outside/x: path leaves the layer root; refusing the "
            "layer");
  EXPECT_TRUE(outside_untouched());
}

TEST_F(LayerApplyTest, InnerDotDotIsCleanedLikeDocker) {
  auto r = apply(make_tar({{.name = "a/../b", .data = "x"}}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(slurp(root_ + "/b"), "x");
}

TEST_F(LayerApplyTest, AbsoluteNamesStayInside) {
  auto r = apply(make_tar({{.name = outside_ + "/abs", .data = "x"}}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(outside_untouched());
  EXPECT_EQ(slurp(root_ + outside_ + "/abs"), "x");
}

TEST_F(LayerApplyTest, SymlinksCannotLeadOut) {
  auto dangling = apply(make_tar(
      {{.name = "abs", .type = AE_IFLNK, .link = outside_}, {.name = "abs/x", .data = "pwned"}}));
  ASSERT_FALSE(dangling);
  EXPECT_EQ(dangling.error().message,
            "unpack layer: layer entry abs/x: abs is a symlink to a directory the layer does not "
            "have; refusing the layer");
  EXPECT_TRUE(outside_untouched());
  auto r =
      apply(make_tar({{.name = outside_, .type = AE_IFDIR},
                      {.name = "abs", .type = AE_IFLNK, .link = outside_},
                      {.name = "rel", .type = AE_IFLNK, .link = "../../../../../../" + outside_},
                      {.name = "abs/x", .data = "pwned"},
                      {.name = "rel/y", .data = "pwned"}}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(outside_untouched());
  // Both links resolve as they would inside the container: to <root><outside>.
  EXPECT_EQ(slurp(root_ + outside_ + "/x"), "pwned");
  EXPECT_EQ(slurp(root_ + outside_ + "/y"), "pwned");
}

TEST_F(LayerApplyTest, HardLinkTargetsStayInside) {
  std::ofstream(outside_ + "/secret") << "s";
  auto r = apply(make_tar({{.name = "h", .hardlink = "../outside/secret"}}));
  ASSERT_FALSE(r);
  EXPECT_NE(
      r.error().message.find("hard link target ../outside/secret: path leaves the layer root"),
      std::string::npos)
      << r.error().message;
  auto via_link = apply(make_tar(
      {{.name = "l", .type = AE_IFLNK, .link = outside_}, {.name = "h", .hardlink = "l/secret"}}));
  ASSERT_FALSE(via_link);  // l/secret is <root><outside>/secret, which does not exist
  EXPECT_FALSE(fs::exists(root_ + "/h"));
}

TEST_F(LayerApplyTest, LaterEntriesReplaceEarlierOnes) {
  auto r = apply(make_tar({{.name = "x", .type = AE_IFDIR},
                           {.name = "x/child", .data = "1"},
                           {.name = "x", .data = "now a file"},
                           {.name = "y", .data = "file"},
                           {.name = "y", .type = AE_IFDIR},
                           {.name = "z", .type = AE_IFDIR},
                           {.name = "z/keep", .data = "k"},
                           {.name = "z", .type = AE_IFDIR, .perm = 0711}}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(slurp(root_ + "/x"), "now a file");
  EXPECT_TRUE(fs::is_directory(root_ + "/y"));
  EXPECT_EQ(slurp(root_ + "/z/keep"), "k");
  EXPECT_EQ(fs::status(root_ + "/z").permissions(), static_cast<fs::perms>(0711));
}

TEST_F(LayerApplyTest, WhiteoutsBecomeOverlayWhiteouts) {
  if (geteuid() != 0)
    GTEST_SKIP() << "skipped, because whiteouts need CAP_MKNOD and trusted.* xattrs (root)";
  auto r = apply(make_tar({{.name = "etc", .type = AE_IFDIR},
                           {.name = "etc/.wh.passwd"},
                           {.name = "var/cache/.wh..wh..opq"},
                           {.name = ".wh.top"}}));
  ASSERT_TRUE(r) << r.error().message;
  struct stat st {};
  ASSERT_EQ(::lstat((root_ + "/etc/passwd").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  ASSERT_EQ(::lstat((root_ + "/top").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_FALSE(fs::exists(root_ + "/etc/.wh.passwd"));
  char v[8] = {};
  ssize_t n = ::getxattr((root_ + "/var/cache").c_str(), "trusted.overlay.opaque", v, sizeof v);
  if (n < 0 && errno == ENOTSUP)
    GTEST_SKIP() << "skipped, because " << dir_.path() << " has no xattrs";
  ASSERT_EQ(n, 1);
  EXPECT_EQ(v[0], 'y');
  EXPECT_FALSE(fs::exists(root_ + "/var/cache/.wh..wh..opq"));
}

TEST_F(LayerApplyTest, MalformedWhiteoutRefused) {
  auto r = apply(make_tar({{.name = "a/.wh..."}}));  // would white out "a/.."
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("malformed whiteout"), std::string::npos) << r.error().message;
}

TEST_F(LayerApplyTest, ForgedOverlayXattrsAreDropped) {
  if (geteuid() != 0) GTEST_SKIP() << "skipped, because trusted.* xattrs need root";
  archive_entry* e = archive_entry_new();
  std::string tar;
  {
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_open(
        a, &tar, nullptr,
        [](archive*, void* s, const void* buf, size_t n) -> la_ssize_t {
          static_cast<std::string*>(s)->append(static_cast<const char*>(buf), n);
          return static_cast<la_ssize_t>(n);
        },
        nullptr);
    archive_entry_set_pathname(e, "d");
    archive_entry_set_filetype(e, AE_IFDIR);
    archive_entry_set_perm(e, 0755);
    archive_entry_xattr_add_entry(e, "trusted.overlay.redirect", "/etc", 4);
    archive_entry_xattr_add_entry(e, "user.note", "hi", 2);
    archive_write_header(a, e);
    archive_write_close(a);
    archive_write_free(a);
  }
  archive_entry_free(e);
  auto r = apply(tar);
  ASSERT_TRUE(r) << r.error().message;
  char v[8];
  EXPECT_LT(::getxattr((root_ + "/d").c_str(), "trusted.overlay.redirect", v, sizeof v), 0);
  ssize_t n = ::getxattr((root_ + "/d").c_str(), "user.note", v, sizeof v);
  if (n >= 0) {
    EXPECT_EQ(std::string(v, n), "hi");
  }
}

TEST_F(LayerApplyTest, CorruptAndFailingInputs) {
  std::string gz = make_tar(sample(), Filter::Gzip);
  gz.resize(gz.size() / 2);
  auto r = apply(gz);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Invalid);
  EXPECT_NE(r.error().message.find("not a valid (gzip/zstd) tar"), std::string::npos)
      << r.error().message;

  auto broken = apply_layer(
      [](char*, size_t) -> Result<size_t> { return fail(Code::Unavailable, "registry hung up"); },
      root_, opts_);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("registry hung up"), std::string::npos)
      << broken.error().message;

  auto missing = apply_layer(from(make_tar(sample())), dir_.file("nope"), opts_);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::NotFound);
}

TEST_F(LayerApplyTest, EmptyInputsAreEmptyLayers) {
  auto r = apply(make_tar({}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->diff_id, Digest::of(make_tar({})));
  auto nothing = apply("");
  ASSERT_TRUE(nothing) << nothing.error().message;
  EXPECT_EQ(nothing->diff_id, Digest::of(""));
}

}  // namespace
}  // namespace silo::image
