// COPY/ADD as a tar: where Docker places each source, owners, modes, archive unpacking.

#include "image/build_copy.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "tar_builder.h"
#include "temp_dir.h"

namespace silo::image {
namespace {

using testing::TempDir;

struct Seen {
  mode_t type = 0, perm = 0;
  int64_t uid = -1, gid = -1;
  std::string data, link;
};

// The tar's entries by name.
std::map<std::string, Seen> entries(const std::string& tar) {
  std::map<std::string, Seen> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_open_memory(a, tar.data(), tar.size());
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    Seen s{.type = archive_entry_filetype(e),
           .perm = archive_entry_perm(e),
           .uid = archive_entry_uid(e),
           .gid = archive_entry_gid(e)};
    if (archive_entry_symlink(e)) s.link = archive_entry_symlink(e);
    char buf[4096];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) s.data.append(buf, n);
    std::string name = archive_entry_pathname(e);
    if (name.size() > 1 && name.back() == '/') name.pop_back();  // pax writes "dir/"
    out[name] = s;
  }
  archive_read_free(a);
  return out;
}

void write(const std::string& path, const std::string& data, mode_t mode = 0644) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << data;
  ::chmod(path.c_str(), mode);
}

Result<std::string> copy_tar(const CopySpec& spec) {
  std::string tar;
  SILO_TRY(write_copy_tar(spec, [&tar](std::string_view d) -> Status {
    tar.append(d);
    return {};
  }));
  return tar;
}

TEST(BuildCopy, FileToFileAndIntoDirectories) {
  TempDir ctx;
  write(ctx.file("a.txt"), "A", 0755);
  write(ctx.file("b.txt"), "B");
  // One file, a destination that is not a directory: the file is DEST.
  auto t = copy_tar({.root = ctx.path(), .sources = {"a.txt"}, .dest = "/opt/run"});
  ASSERT_TRUE(t) << t.error().message;
  auto e = entries(*t);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e["opt/run"].data, "A");
  EXPECT_EQ(e["opt/run"].perm, 0755u);
  EXPECT_EQ(e["opt/run"].uid, 0);
  // A trailing slash, an existing directory, or several sources: DEST/<name>.
  t = copy_tar({.root = ctx.path(), .sources = {"a.txt"}, .dest = "/opt/"});
  ASSERT_TRUE(t);
  EXPECT_TRUE(entries(*t).contains("opt/a.txt"));
  t = copy_tar({.root = ctx.path(), .sources = {"a.txt"}, .dest = "/etc", .dest_is_dir = true});
  ASSERT_TRUE(t);
  EXPECT_TRUE(entries(*t).contains("etc/a.txt"));
  t = copy_tar({.root = ctx.path(), .sources = {"a.txt", "b.txt"}, .dest = "/x"});
  ASSERT_TRUE(t);
  e = entries(*t);
  EXPECT_EQ(e["x/a.txt"].data, "A");
  EXPECT_EQ(e["x/b.txt"].data, "B");
}

TEST(BuildCopy, DirectoryContentsGoIntoDestination) {
  TempDir ctx;
  write(ctx.file("src/top.txt"), "T");
  write(ctx.file("src/sub/deep.txt"), "D");
  std::filesystem::create_symlink("top.txt", ctx.file("src/link"));
  auto t = copy_tar({.root = ctx.path(), .sources = {"src"}, .dest = "/app"});
  ASSERT_TRUE(t) << t.error().message;
  auto e = entries(*t);
  EXPECT_EQ(e["app"].type, static_cast<mode_t>(AE_IFDIR));
  EXPECT_EQ(e["app/top.txt"].data, "T");
  EXPECT_EQ(e["app/sub"].type, static_cast<mode_t>(AE_IFDIR));
  EXPECT_EQ(e["app/sub/deep.txt"].data, "D");
  EXPECT_EQ(e["app/link"].link, "top.txt");
  EXPECT_FALSE(e.contains("app/src"));
  // "." into "/": the context's entries at the top, no entry for the root itself.
  t = copy_tar({.root = ctx.path() + "/src", .sources = {"."}, .dest = "/"});
  ASSERT_TRUE(t);
  e = entries(*t);
  EXPECT_TRUE(e.contains("top.txt"));
  EXPECT_FALSE(e.contains(""));
}

TEST(BuildCopy, OwnersAndModes) {
  TempDir ctx;
  write(ctx.file("f"), "x", 0600);
  auto t = copy_tar({.root = ctx.path(),
                     .sources = {"f"},
                     .dest = "/f",
                     .owner = std::pair<uint32_t, uint32_t>{1000, 1001},
                     .chmod = 0640});
  ASSERT_TRUE(t);
  auto e = entries(*t);
  EXPECT_EQ(e["f"].uid, 1000);
  EXPECT_EQ(e["f"].gid, 1001);
  EXPECT_EQ(e["f"].perm, 0640u);
  EXPECT_EQ(*parse_chmod("0755"), 0755u);
  EXPECT_FALSE(parse_chmod("9"));
  EXPECT_FALSE(parse_chmod("rwx"));
}

TEST(BuildCopy, AddUnpacksArchivesAndCopyDoesNot) {
  TempDir ctx;
  using testing::Filter;
  using testing::TarEntry;
  std::string tgz = testing::make_tar(
      {{.name = "inner/", .type = AE_IFDIR, .perm = 0755}, {.name = "inner/p.txt", .data = "P"}},
      Filter::Gzip);
  write(ctx.file("files.tgz"), tgz);
  auto t = copy_tar({.root = ctx.path(), .sources = {"files.tgz"}, .dest = "/u/", .add = true});
  ASSERT_TRUE(t) << t.error().message;
  auto e = entries(*t);
  EXPECT_EQ(e["u/inner/p.txt"].data, "P");
  EXPECT_FALSE(e.contains("u/files.tgz"));
  t = copy_tar({.root = ctx.path(), .sources = {"files.tgz"}, .dest = "/u/"});
  ASSERT_TRUE(t);
  EXPECT_TRUE(entries(*t).contains("u/files.tgz"));
  // An archive entry that climbs out of the destination is refused.
  write(ctx.file("evil.tar"), testing::make_tar({{.name = "../../etc/x", .data = "E"}}));
  t = copy_tar({.root = ctx.path(), .sources = {"evil.tar"}, .dest = "/u/", .add = true});
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, Code::Invalid);
}

}  // namespace
}  // namespace silo::image
