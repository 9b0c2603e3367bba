// The build context: unpacking with .dockerignore, COPY source resolution, the source
// checksum, and ADD's auto-extraction predicate.

#include "image/build_context.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include <filesystem>
#include <fstream>

#include "tar_builder.h"
#include "temp_dir.h"

namespace silo::image {
namespace {

using testing::Filter;
using testing::make_tar;
using testing::TarEntry;
using testing::TempDir;

ReadFn reader(const std::string& data) {
  auto pos = std::make_shared<size_t>(0);
  return [data, pos](char* buf, size_t len) -> Result<size_t> {
    size_t n = std::min(len, data.size() - *pos);
    std::copy_n(data.data() + *pos, n, buf);
    *pos += n;
    return n;
  };
}

std::vector<TarEntry> sample() {
  return {{"Dockerfile", AE_IFREG, "FROM scratch\nCOPY . /\n"},
          {".dockerignore", AE_IFREG, "*.log\nsecret\ndocs\n!docs/README.md\nDockerfile\n"},
          {"app/", AE_IFDIR},
          {"app/main.c", AE_IFREG, "int main(){}"},
          {"app/debug.log", AE_IFREG, "x"},
          {"secret/", AE_IFDIR},
          {"secret/key", AE_IFREG, "k"},
          {"docs/", AE_IFDIR},
          {"docs/README.md", AE_IFREG, "readme"},
          {"docs/other.md", AE_IFREG, "o"},
          {"out.log", AE_IFREG, "x"},
          {"link", AE_IFLNK, "", "app/main.c"},
          {"escape", AE_IFLNK, "", "../../etc/passwd"}};
}

TEST(BuildContext, UnpacksGzipAndAppliesDockerignore) {
  TempDir t;
  auto ctx = unpack_context(reader(make_tar(sample(), Filter::Gzip)), t.path());
  ASSERT_TRUE(ctx.has_value()) << ctx.error().message;
  EXPECT_EQ(ctx->dockerfile, "FROM scratch\nCOPY . /\n");  // read, although excluded
  namespace fs = std::filesystem;
  EXPECT_TRUE(fs::exists(t.file("app/main.c")));
  EXPECT_TRUE(fs::exists(t.file("app/debug.log")));  // "*.log" is anchored at the root
  EXPECT_FALSE(fs::exists(t.file("out.log")));
  EXPECT_FALSE(fs::exists(t.file("secret")));
  EXPECT_TRUE(fs::exists(t.file("docs/README.md")));
  EXPECT_FALSE(fs::exists(t.file("docs/other.md")));
  EXPECT_FALSE(fs::exists(t.file("Dockerfile")));  // excluded: not for COPY
}

TEST(BuildContext, MissingDockerfileAndHostileEntries) {
  TempDir t;
  auto none = unpack_context(reader(make_tar({{"a", AE_IFREG, "x"}})), t.path());
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, Code::NotFound);
  EXPECT_EQ(none.error().message, "Cannot locate specified Dockerfile: Dockerfile");
  TempDir t2;
  auto up = unpack_context(reader(make_tar({{"../evil", AE_IFREG, "x"}})), t2.path());
  ASSERT_FALSE(up.has_value());
  EXPECT_NE(up.error().message.find("../evil"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(t2.path()).parent_path() / "evil"));
  TempDir t3;
  auto custom = unpack_context(reader(make_tar({{"ci/Dockerfile.ci", AE_IFREG, "FROM a\n"}})),
                               t3.path(), "ci/Dockerfile.ci");
  ASSERT_TRUE(custom.has_value());
  EXPECT_EQ(custom->dockerfile, "FROM a\n");
}

TEST(BuildContext, ResolveSources) {
  TempDir t;
  auto ctx = *unpack_context(reader(make_tar(sample())), t.path());
  EXPECT_EQ(*resolve_sources(ctx, {"/app/main.c", "./docs"}),
            (std::vector<std::string>{"app/main.c", "docs"}));
  EXPECT_EQ(*resolve_sources(ctx, {"app/*.c"}), std::vector<std::string>{"app/main.c"});
  EXPECT_EQ(*resolve_sources(ctx, {"."}), std::vector<std::string>{"."});
  EXPECT_EQ(*resolve_sources(ctx, {"link"}), std::vector<std::string>{"link"});
  auto up = resolve_sources(ctx, {"../x"});
  EXPECT_EQ(up.error().message, "forbidden path outside the build context: ../x");
  auto esc = resolve_sources(ctx, {"escape"});
  ASSERT_FALSE(esc.has_value());
  EXPECT_NE(esc.error().message.find("forbidden path outside the build context: escape"),
            std::string::npos);
  auto missing = resolve_sources(ctx, {"secret/key"});  // excluded by .dockerignore
  EXPECT_EQ(missing.error().code, Code::NotFound);
  EXPECT_NE(missing.error().message.find("excluded by .dockerignore"), std::string::npos);
  EXPECT_EQ(resolve_sources(ctx, {"*.none"}).error().code, Code::NotFound);
}

TEST(BuildContext, ChecksumFollowsContentNotMtime) {
  TempDir t;
  auto ctx = *unpack_context(reader(make_tar(sample())), t.path());
  auto file1 = *source_checksum(ctx, {"app/main.c"});
  auto dir1 = *source_checksum(ctx, {"app"});
  auto multi = *source_checksum(ctx, {"app/main.c", "docs"});
  EXPECT_TRUE(file1.starts_with("file:"));
  EXPECT_TRUE(dir1.starts_with("dir:"));
  EXPECT_TRUE(multi.starts_with("multi:"));
  struct utimbuf times {
    1, 1
  };
  ASSERT_EQ(::utime(t.file("app/main.c").c_str(), &times), 0);
  EXPECT_EQ(*source_checksum(ctx, {"app/main.c"}), file1);  // mtime: same key
  std::ofstream(t.file("app/main.c")) << "int main(){return 1;}";
  auto file2 = *source_checksum(ctx, {"app/main.c"});
  EXPECT_NE(file2, file1);
  EXPECT_NE(*source_checksum(ctx, {"app"}), dir1);
  ASSERT_EQ(::chmod(t.file("app/main.c").c_str(), 0755), 0);
  EXPECT_NE(*source_checksum(ctx, {"app/main.c"}), file2);  // mode is in the key
  std::ofstream(t.file("app/new.c")) << "";
  auto dir3 = *source_checksum(ctx, {"app"});
  std::filesystem::rename(t.file("app/new.c"), t.file("app/renamed.c"));
  EXPECT_NE(*source_checksum(ctx, {"app"}), dir3);  // names are in the key
}

TEST(BuildContext, AddAutoExtractsLocalTarsOnly) {
  TempDir t;
  std::vector<TarEntry> files{{"f", AE_IFREG, "x"}};
  std::ofstream(t.file("a.tar.gz"), std::ios::binary) << make_tar(files, Filter::Gzip);
  std::ofstream(t.file("plain.tar"), std::ios::binary) << make_tar(files);
  std::ofstream(t.file("notes.tar"), std::ios::binary) << "just text, named like a tar";
  EXPECT_TRUE(add_auto_extracts("a.tar.gz", t.file("a.tar.gz")));
  EXPECT_TRUE(add_auto_extracts("plain.tar", t.file("plain.tar")));
  EXPECT_FALSE(add_auto_extracts("notes.tar", t.file("notes.tar")));
  EXPECT_FALSE(add_auto_extracts("https://example.com/a.tar.gz", t.file("a.tar.gz")));
}

}  // namespace
}  // namespace silo::image
