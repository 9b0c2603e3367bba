// Layer diff: deterministic tars, gzip digests, hard links, whiteouts and opaque dirs that
// round-trip through apply_layer, and (as root, in a private mount namespace of a child) an
// overlay over apply(diff(upper)) that shows the same merged view as one over upper itself.

#include "image/layer_diff.h"

#include <archive.h>
#include <archive_entry.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "common/sha256.h"
#include "image/layer_apply.h"
#include "tar_builder.h"
#include "temp_dir.h"

namespace silo::image {
namespace {

using testing::slurp;
using testing::TempDir;
namespace fs = std::filesystem;

void put(const std::string& path, const std::string& data, mode_t mode = 0644) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
  ::chmod(path.c_str(), mode);
}

ReadFn from(const std::string& bytes) {
  auto pos = std::make_shared<size_t>(0);
  return [&bytes, pos](char* buf, size_t len) -> Result<size_t> {
    size_t n = std::min(len, bytes.size() - *pos);
    std::copy_n(bytes.data() + *pos, n, buf);
    *pos += n;
    return n;
  };
}

Result<std::pair<std::string, DiffResult>> diff_to_string(const std::string& dir,
                                                          DiffOptions o = {}) {
  std::string out;
  auto r = diff_layer(
      dir,
      [&out](std::string_view d) -> Status {
        out.append(d);
        return {};
      },
      o);
  if (!r) return std::unexpected(r.error());
  return std::pair{out, *r};
}

struct TarItem {
  std::string name, hardlink, symlink;
  mode_t mode;
  int64_t size;
};

std::vector<TarItem> list_tar(const std::string& bytes) {
  std::vector<TarItem> out;
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  archive_read_open_memory(a, bytes.data(), bytes.size());
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    const char* h = archive_entry_hardlink(e);
    const char* s = archive_entry_symlink(e);
    out.push_back({archive_entry_pathname(e), h ? h : "", s ? s : "", archive_entry_mode(e),
                   archive_entry_size(e)});
  }
  archive_read_free(a);
  return out;
}

// A description of every entry below `root`: type, permissions, content, link target,
// device number and the opaque mark, keyed by relative path.
std::map<std::string, std::string> snapshot(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string p = it->path().string(), rel = p.substr(root.size() + 1);
    struct stat st {};
    ::lstat(p.c_str(), &st);
    std::string d = std::to_string(st.st_mode) + " " + std::to_string(st.st_uid);
    if (S_ISREG(st.st_mode)) d += " data=" + slurp(p);
    if (S_ISLNK(st.st_mode)) d += " -> " + fs::read_symlink(p).string();
    if (S_ISCHR(st.st_mode)) d += " rdev=" + std::to_string(st.st_rdev);
    char v[8];
    if (S_ISDIR(st.st_mode) && ::lgetxattr(p.c_str(), "trusted.overlay.opaque", v, sizeof v) == 1)
      d += " opaque";
    if (!S_ISDIR(st.st_mode)) d += " mtime=" + std::to_string(st.st_mtim.tv_sec);
    out[rel] = d;
  }
  return out;
}

class LayerDiffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_ = dir_.file("tree");
    put(tree_ + "/b/file", "bbb");
    put(tree_ + "/a/x", "x", 0755);
    put(tree_ + "/a/.hidden", "h", 0600);
    put(tree_ + "/c", "c");
    fs::create_symlink("a/x", tree_ + "/link");
    fs::create_hard_link(tree_ + "/b/file", tree_ + "/a/hard");
  }
  TempDir dir_;
  std::string tree_;
};

TEST_F(LayerDiffTest, TarIsSortedAndDeterministic) {
  auto one = diff_to_string(tree_);
  ASSERT_TRUE(one) << one.error().message;
  auto two = diff_to_string(tree_);
  ASSERT_TRUE(two);
  EXPECT_EQ(one->first, two->first);
  EXPECT_EQ(one->second.diff_id, Digest::of(one->first));
  EXPECT_EQ(one->second.digest, one->second.diff_id);
  EXPECT_EQ(one->second.size, one->first.size());
  EXPECT_EQ(one->second.media_type, media_type::kOciLayer);
  // Two zero blocks close the tar, with no padding to a 10 KiB record (as Go's archive/tar).
  EXPECT_EQ(one->first.size() % 512, 0u);
  EXPECT_EQ(one->first.substr(one->first.size() - 1024), std::string(1024, '\0'));
  std::vector<std::string> names;
  for (const auto& t : list_tar(one->first)) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a/", "a/.hidden", "a/hard", "a/x", "b/", "b/file",
                                             "c", "link"}));
}

TEST_F(LayerDiffTest, HardLinksBecomeLinkEntriesAndSymlinksKeepTheirTarget) {
  auto r = diff_to_string(tree_);
  ASSERT_TRUE(r);
  auto items = list_tar(r->first);
  auto find = [&](const std::string& n) {
    return *std::find_if(items.begin(), items.end(), [&](auto& t) { return t.name == n; });
  };
  EXPECT_EQ(find("a/hard").size, 3);  // the first name met carries the data
  EXPECT_EQ(find("b/file").hardlink, "a/hard");
  EXPECT_EQ(find("link").symlink, "a/x");
  EXPECT_EQ(find("a/x").mode & 07777, 0755u);
}

TEST_F(LayerDiffTest, GzipDigestCoversTheCompressedBytesAndApplyGivesTheSameDiffId) {
  auto plain = diff_to_string(tree_);
  auto gz = diff_to_string(tree_, {.compression = Compression::Gzip});
  ASSERT_TRUE(plain && gz) << (gz ? "" : gz.error().message);
  EXPECT_EQ(gz->second.media_type, media_type::kOciLayerGzip);
  EXPECT_EQ(gz->second.diff_id, plain->second.diff_id);
  EXPECT_EQ(gz->second.digest, Digest::of(gz->first));
  EXPECT_NE(gz->second.digest, gz->second.diff_id);
  EXPECT_EQ(static_cast<unsigned char>(gz->first[0]), 0x1f);  // gzip magic
  // The gzip header's mtime is zero, so a second run gives the same blob.
  EXPECT_EQ(gz->first, diff_to_string(tree_, {.compression = Compression::Gzip})->first);
  std::string out = dir_.file("out");
  fs::create_directories(out);
  auto applied = apply_layer(from(gz->first), out, {.same_owner = geteuid() == 0});
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(applied->diff_id, plain->second.diff_id);
  EXPECT_EQ(snapshot(out), snapshot(tree_));
}

TEST_F(LayerDiffTest, ZstdAndMissingDirectoriesAreRefused) {
  auto z = diff_to_string(tree_, {.compression = Compression::Zstd});
  ASSERT_FALSE(z);
  EXPECT_NE(z.error().message.find("zstd"), std::string::npos);
  auto missing = diff_to_string(dir_.file("nope"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::NotFound);
  EXPECT_NE(missing.error().message.find(dir_.file("nope")), std::string::npos);
}

TEST_F(LayerDiffTest, StoresTheLayerUnderItsDigest) {
  BlobStore store(dir_.file("store"));
  ASSERT_TRUE(store.init());
  auto r = diff_layer_to_store(tree_, store, dir_.path(), {.compression = Compression::Gzip});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(store.exists(r->digest));
  EXPECT_TRUE(store.verify(r->digest));
  EXPECT_EQ(*store.size(r->digest), r->size);
}

// Writes an overlayfs upper dir: a whiteout for etc/passwd, an opaque var/cache with new
// content, a changed file. Needs CAP_MKNOD and trusted.* xattrs.
bool make_upper(const std::string& upper) {
  put(upper + "/etc/group", "changed");
  put(upper + "/var/cache/new", "fresh");
  put(upper + "/added/deep/file", "d");
  if (::mknod((upper + "/etc/passwd").c_str(), S_IFCHR | 0, ::makedev(0, 0)) != 0) return false;
  return ::setxattr((upper + "/var/cache").c_str(), "trusted.overlay.opaque", "y", 1, 0) == 0;
}

TEST_F(LayerDiffTest, WhiteoutsAndOpaqueDirsRoundTrip) {
  if (geteuid() != 0)
    GTEST_SKIP() << "skipped, because whiteouts need CAP_MKNOD and trusted.* xattrs (root)";
  std::string upper = dir_.file("upper"), back = dir_.file("back");
  fs::create_directories(back);
  if (!make_upper(upper)) GTEST_SKIP() << "skipped, because " << dir_.path() << " has no xattrs";
  auto r = diff_to_string(upper);
  ASSERT_TRUE(r) << r.error().message;
  std::vector<std::string> names;
  for (const auto& t : list_tar(r->first)) names.push_back(t.name);
  // Sorted by the names on disk (passwd after group), as Docker walks the upper dir.
  EXPECT_EQ(names, (std::vector<std::string>{"added/", "added/deep/", "added/deep/file", "etc/",
                                             "etc/group", "etc/.wh.passwd", "var/", "var/cache/",
                                             "var/cache/.wh..wh..opq", "var/cache/new"}));
  auto applied = apply_layer(from(r->first), back);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(applied->diff_id, r->second.diff_id);
  EXPECT_EQ(snapshot(back), snapshot(upper));
  // Plain mode keeps the device as a device and writes no markers.
  auto plain = diff_to_string(upper, {.mode = DiffMode::Plain});
  ASSERT_TRUE(plain);
  for (const auto& t : list_tar(plain->first)) {
    EXPECT_EQ(t.name.find(".wh."), std::string::npos) << t.name;
    if (t.name == "etc/passwd") {
      EXPECT_TRUE(S_ISCHR(t.mode));
    }
  }
}

constexpr int kSkip = 77;

// In the child: mounts lower+upper and lower+back, compares the two merged views.
int compare_merged(const std::string& lower, const std::string& upper, const std::string& back,
                   const std::string& m1, const std::string& m2) {
  if (::unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) return kSkip;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return kSkip;
  std::string o1 = "lowerdir=" + upper + ":" + lower, o2 = "lowerdir=" + back + ":" + lower;
  if (::mount("overlay", m1.c_str(), "overlay", MS_RDONLY, o1.c_str()) != 0) return kSkip;
  if (::mount("overlay", m2.c_str(), "overlay", MS_RDONLY, o2.c_str()) != 0) return kSkip;
  auto a = snapshot(m1), b = snapshot(m2);
  if (a.count("etc/passwd") || a.count("var/cache/old") || !a.count("etc/group")) return 1;
  if (a != b) {
    for (const auto& [k, v] : a)
      if (b[k] != v) std::cerr << "differs: " << k << ": " << v << " vs " << b[k] << "\n";
    return 2;
  }
  return 0;
}

TEST_F(LayerDiffTest, ApplyOfDiffOverALowerGivesTheSameMergedView) {
  if (geteuid() != 0) GTEST_SKIP() << "skipped, because mounting overlayfs needs root";
  std::string lower = dir_.file("lower"), upper = dir_.file("upper"), back = dir_.file("back");
  std::string m1 = dir_.file("m1"), m2 = dir_.file("m2");
  for (const auto& d : {back, m1, m2}) fs::create_directories(d);
  put(lower + "/etc/passwd", "root:x:0:0");
  put(lower + "/etc/group", "root:x:0:");
  put(lower + "/var/cache/old", "stale");
  put(lower + "/keep/file", "k");
  if (!make_upper(upper)) GTEST_SKIP() << "skipped, because " << dir_.path() << " has no xattrs";
  auto r = diff_to_string(upper, {.compression = Compression::Gzip});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(apply_layer(from(r->first), back));
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(compare_merged(lower, upper, back, m1, m2));
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == kSkip)
    GTEST_SKIP() << "skipped, because overlayfs cannot be mounted here";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the merged views differ (see stderr)";
}

}  // namespace
}  // namespace silo::image
