// docker cp and export: stat, tar out, tar in, and that nothing escapes the root.

#include "engine/archive.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "temp_dir.h"

namespace silo::engine {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

void write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A minimal ustar writer, so tests can make tars no well-behaved tool would.
struct TarEntry {
  std::string name;
  char type = '0';  // '0' file, '2' symlink, '5' dir, '1' hard link
  std::string data;
  std::string link;
};

std::string make_tar(const std::vector<TarEntry>& entries) {
  std::string out;
  for (const auto& e : entries) {
    char h[512] = {};
    std::snprintf(h, 100, "%s", e.name.c_str());
    std::snprintf(h + 100, 8, "%07o", e.type == '5' ? 0755 : 0644);
    std::snprintf(h + 108, 8, "%07o", 0);
    std::snprintf(h + 116, 8, "%07o", 0);
    std::snprintf(h + 124, 12, "%011zo", e.type == '0' ? e.data.size() : 0);
    std::snprintf(h + 136, 12, "%011o", 1000000000);
    std::memset(h + 148, ' ', 8);
    h[156] = e.type;
    std::snprintf(h + 157, 100, "%s", e.link.c_str());
    std::memcpy(h + 257,
                "ustar\0"
                "00",
                8);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    std::snprintf(h + 148, 8, "%06o", sum);
    out.append(h, 512);
    if (e.type == '0') {
      out += e.data;
      out.append((512 - e.data.size() % 512) % 512, '\0');
    }
  }
  out.append(1024, '\0');
  return out;
}

TarSource source_of(const std::string& bytes) {
  auto pos = std::make_shared<size_t>(0);
  return [bytes, pos](char* buf, size_t n) -> Result<size_t> {
    size_t k = std::min(n, bytes.size() - *pos);
    std::memcpy(buf, bytes.data() + *pos, k);
    *pos += k;
    return k;
  };
}

std::string tar_names(const std::string& tar) {
  TempDir t;
  std::ofstream(t.file("x.tar"), std::ios::binary) << tar;
  std::string cmd = "tar -tf " + t.file("x.tar") + " | LC_ALL=C sort";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[256];
  while (p && std::fgets(buf, sizeof buf, p)) out += buf;
  if (p) ::pclose(p);
  return out;
}

struct Root {
  TempDir t;
  std::string dir = t.file("root");
  Root() {
    write(dir + "/etc/passwd", "root:x:0:0\n");
    write(dir + "/bin/busybox", "ELF");
    fs::create_symlink("busybox", dir + "/bin/sh");
    fs::create_symlink("/", dir + "/escape");            // leads to the root, never the host's
    fs::create_symlink("../../../../etc", dir + "/up");  // climbs: held at the root
  }
};

TEST(ArchiveStat, FilesDirsAndLinks) {
  Root r;
  auto f = stat_in_root(r.dir, "/etc/passwd");
  ASSERT_TRUE(f.has_value()) << f.error().message;
  EXPECT_EQ(f->name, "passwd");
  EXPECT_EQ(f->size, 11);
  EXPECT_EQ(f->link_target, "");
  auto d = stat_in_root(r.dir, "etc/");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->name, "etc");
  EXPECT_TRUE(d->mode & (1u << 31));
  auto l = stat_in_root(r.dir, "/bin/sh");
  ASSERT_TRUE(l.has_value());
  EXPECT_TRUE(l->mode & (1u << 27));
  EXPECT_EQ(l->link_target, "/bin/busybox");
  auto up = stat_in_root(r.dir, "/up/passwd");  // through a climbing link: still inside
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(up->size, 11);
  EXPECT_EQ(stat_in_root(r.dir, "/nope").error().code, Code::NotFound);
  EXPECT_EQ(stat_in_root(r.dir, "/escape/shadow").error().code, Code::NotFound);
  Json j = path_stat_json(*f);
  EXPECT_TRUE(j.contains("linkTarget"));
  EXPECT_EQ(j["name"], "passwd");
}

TEST(ArchiveStat, GoFileMode) {
  EXPECT_EQ(go_file_mode(S_IFREG | 0644), 0644u);
  EXPECT_EQ(go_file_mode(S_IFDIR | 0755), (1u << 31) | 0755);
  EXPECT_EQ(go_file_mode(S_IFLNK | 0777), (1u << 27) | 0777);
  EXPECT_EQ(go_file_mode(S_IFREG | S_ISUID | 0755), (1u << 23) | 0755);
  EXPECT_EQ(go_file_mode(S_IFCHR | 0600), (1u << 26) | (1u << 21) | 0600);
}

TEST(ArchivePaths, CleanAndSplit) {
  using archive_internal::clean_path;
  EXPECT_EQ(clean_path("/../etc//x"), "/etc/x");
  EXPECT_EQ(clean_path("/etc/"), "/etc/");
  EXPECT_EQ(clean_path("/etc/."), "/etc/.");
  EXPECT_EQ(clean_path("/"), "/");
  std::string dir, base;
  archive_internal::split_path("/a/b", dir, base);
  EXPECT_EQ(dir, "/a/");
  EXPECT_EQ(base, "b");
  EXPECT_EQ(path_base("/a/b/"), "b");
  EXPECT_EQ(path_base("/"), "/");
}

TEST(ArchiveTar, PathAndRootNames) {
  Root r;
  std::string tar;
  TarSink sink = [&](std::string_view d) -> Status {
    tar += d;
    return {};
  };
  ASSERT_TRUE(tar_path(r.dir, "/etc", sink).has_value());
  EXPECT_EQ(tar_names(tar), "etc/\netc/passwd\n");
  tar.clear();
  ASSERT_TRUE(tar_path(r.dir, "/bin/sh", sink).has_value());
  EXPECT_EQ(tar_names(tar), "sh\n");
  tar.clear();
  ASSERT_TRUE(tar_root(r.dir, sink).has_value());
  EXPECT_EQ(tar_names(tar), "bin/\nbin/busybox\nbin/sh\nescape\netc/\netc/passwd\nup\n");
  EXPECT_EQ(tar_path(r.dir, "/missing", sink).error().code, Code::NotFound);
}

TEST(ArchiveTar, SinkErrorStopsTheWriter) {
  Root r;
  TarSink broken = [](std::string_view) -> Status {
    return fail(Code::Unavailable, "client left");
  };
  auto st = tar_root(r.dir, broken);
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message.find("client left"), std::string::npos);
}

TEST(ArchiveExtract, RoundTrip) {
  Root a, b;
  std::string tar;
  ASSERT_TRUE(tar_path(a.dir, "/etc", [&](std::string_view d) -> Status {
                tar += d;
                return {};
              }).has_value());
  fs::create_directories(b.dir + "/dst");
  ASSERT_TRUE(extract_tar(b.dir, "/dst", source_of(tar)).has_value());
  EXPECT_EQ(slurp(b.dir + "/dst/etc/passwd"), "root:x:0:0\n");
}

TEST(ArchiveExtract, SymlinksInTheTarStayInsideTheRoot) {
  Root r;
  TempDir outside;
  std::string target = outside.path();     // an absolute host path a symlink could name
  fs::create_directories(r.dir + target);  // the same path inside the root
  std::string tar = make_tar({{.name = "hop", .type = '2', .link = target},
                              {.name = "hop/pwned", .data = "x"},
                              {.name = "newdir/a/b", .data = "deep"}});
  ASSERT_TRUE(extract_tar(r.dir, "/", source_of(tar)).has_value());
  EXPECT_FALSE(fs::exists(target + "/pwned"));
  // "hop" resolved inside the root: the file landed under <root><target>.
  EXPECT_TRUE(fs::exists(r.dir + target + "/pwned"));
  EXPECT_EQ(slurp(r.dir + "/newdir/a/b"), "deep");
}

TEST(ArchiveExtract, ExtractingThroughARootSymlinkStaysInside) {
  Root r;
  std::string tar = make_tar({{.name = "passwd2", .data = "x"}});
  // /escape -> "/" inside the root, so this writes <root>/passwd2 and never the host's /.
  ASSERT_FALSE(extract_tar(r.dir, "/escape", source_of(tar)).has_value());  // not a dir itself
  ASSERT_TRUE(extract_tar(r.dir, "/escape/", source_of(tar)).has_value());
  EXPECT_TRUE(fs::exists(r.dir + "/passwd2"));
  EXPECT_FALSE(fs::exists("/passwd2"));
}

TEST(ArchiveExtract, RefusesClimbingNamesAndBadTargets) {
  Root r;
  auto bad = extract_tar(r.dir, "/etc", source_of(make_tar({{.name = "../../x", .data = "x"}})));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Code::Invalid);
  auto notdir = extract_tar(r.dir, "/etc/passwd", source_of(make_tar({{.name = "x"}})));
  EXPECT_EQ(notdir.error().message, "extraction point is not a directory");
  EXPECT_EQ(extract_tar(r.dir, "/nope", source_of(make_tar({}))).error().code, Code::NotFound);
}

TEST(ArchiveExtract, NoOverwriteDirNonDir) {
  Root r;
  std::string tar = make_tar({{.name = "etc", .data = "file now"}});
  auto st = extract_tar(r.dir, "/", source_of(tar), {.no_overwrite_dir_non_dir = true});
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message.find("cannot overwrite directory"), std::string::npos);
  ASSERT_TRUE(extract_tar(r.dir, "/", source_of(tar)).has_value());
  EXPECT_EQ(slurp(r.dir + "/etc"), "file now");
}

TEST(ArchiveExtract, HardLinks) {
  Root r;
  std::string tar =
      make_tar({{.name = "d/one", .data = "1"}, {.name = "d/two", .type = '1', .link = "d/one"}});
  ASSERT_TRUE(extract_tar(r.dir, "/", source_of(tar)).has_value());
  EXPECT_EQ(fs::hard_link_count(r.dir + "/d/one"), 2u);
  auto esc = make_tar({{.name = "x", .type = '1', .link = "../../../etc/passwd"}});
  EXPECT_FALSE(extract_tar(r.dir, "/etc", source_of(esc)).has_value());
}

}  // namespace
}  // namespace silo::engine
