// docker diff over an overlay upper directory, built by hand in a temp dir.

#include "engine/changes.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.h"

namespace silo::engine {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

void touch(const std::string& path) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << "x";
}

std::string render(const std::vector<Change>& cs) {
  std::string out;
  for (const auto& c : cs)
    out += "CAD"[static_cast<int>(c.kind)] + std::string(" ") + c.path + "\n";
  return out;
}

TEST(Changes, AddedAndModified) {
  TempDir t;
  std::string lower = t.file("lower"), upper = t.file("upper");
  touch(lower + "/etc/passwd");
  touch(lower + "/bin/sh");
  fs::create_directories(upper);
  touch(upper + "/etc/passwd");    // copied up and changed
  touch(upper + "/tmp/new/file");  // new tree
  auto cs = overlay_changes(upper, {lower});
  ASSERT_TRUE(cs.has_value()) << cs.error().message;
  // /etc is in both and may look the same; it is listed as the parent of nothing added,
  // so only its own comparison decides. /tmp is new.
  std::string got = render(*cs);
  EXPECT_NE(got.find("C /etc/passwd\n"), std::string::npos) << got;
  EXPECT_NE(got.find("A /tmp\n"), std::string::npos) << got;
  EXPECT_NE(got.find("A /tmp/new\n"), std::string::npos) << got;
  EXPECT_NE(got.find("A /tmp/new/file\n"), std::string::npos) << got;
  EXPECT_EQ(got.find("/bin"), std::string::npos) << got;
}

TEST(Changes, ParentOfAnAddIsModifiedEvenWhenTheSame) {
  TempDir t;
  std::string lower = t.file("lower"), upper = t.file("upper");
  fs::create_directories(lower + "/etc");
  fs::create_directories(upper + "/etc");
  ::chmod((upper + "/etc").c_str(), 0755);
  ::chmod((lower + "/etc").c_str(), 0755);
  timespec times[2] = {{1000, 0}, {1000, 0}};
  ::utimensat(AT_FDCWD, (lower + "/etc").c_str(), times, 0);
  touch(upper + "/etc/new");
  ::utimensat(AT_FDCWD, (upper + "/etc").c_str(), times, 0);
  auto cs = overlay_changes(upper, {lower});
  ASSERT_TRUE(cs.has_value());
  EXPECT_EQ(render(*cs), "C /etc\nA /etc/new\n");
}

TEST(Changes, WhiteoutIsDeleted) {
  TempDir t;
  std::string lower = t.file("lower"), upper = t.file("upper");
  touch(lower + "/etc/motd");
  fs::create_directories(upper + "/etc");
  if (::mknod((upper + "/etc/motd").c_str(), S_IFCHR | 0, makedev(0, 0)) != 0)
    GTEST_SKIP() << "skipped, because mknod of a whiteout needs root";
  auto cs = overlay_changes(upper, {lower});
  ASSERT_TRUE(cs.has_value());
  EXPECT_NE(render(*cs).find("D /etc/motd\n"), std::string::npos) << render(*cs);
  EXPECT_NE(render(*cs).find("C /etc\n"), std::string::npos) << render(*cs);
}

TEST(Changes, OpaqueDirHidesTheLowerContents) {
  TempDir t;
  std::string lower = t.file("lower"), upper = t.file("upper");
  touch(lower + "/data/old1");
  touch(lower + "/data/keep");
  touch(upper + "/data/keep");
  if (::setxattr((upper + "/data").c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0)
    GTEST_SKIP() << "skipped, because trusted xattrs need root";
  auto cs = overlay_changes(upper, {lower});
  ASSERT_TRUE(cs.has_value());
  EXPECT_EQ(render(*cs), "C /data\nC /data/keep\nD /data/old1\n");
}

TEST(Changes, NoneIsNullAndMissingUpperIsNotFound) {
  TempDir t;
  fs::create_directories(t.file("upper"));
  auto cs = overlay_changes(t.file("upper"), {t.file("lower")});
  ASSERT_TRUE(cs.has_value());
  EXPECT_TRUE(changes_json(*cs).is_null());
  EXPECT_EQ(overlay_changes(t.file("nope"), {t.file("lower")}).error().code, Code::NotFound);
  Json j = changes_json({{"/a", ChangeKind::Added}});
  EXPECT_EQ(j, Json::parse(R"([{"Path":"/a","Kind":1}])"));
}

}  // namespace
}  // namespace silo::engine
