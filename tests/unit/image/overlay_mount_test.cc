// Layers unpacked by apply_layer, stacked by a real overlayfs mount: the whiteouts and the
// opaque mark must hide what the lower layer has. Needs root; the mount is made in a child
// process inside a mount (and network) namespace of its own, so it vanishes with the child
// even if a check fails.

#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "image/layer_apply.h"
#include "tar_builder.h"
#include "temp_dir.h"

namespace silo::image {
namespace {

using testing::make_tar;
using testing::TarEntry;
using testing::TempDir;
namespace fs = std::filesystem;

constexpr int kSkip = 77;

Status apply_tar(const std::string& tar, const std::string& dir) {
  fs::create_directories(dir);
  auto pos = std::make_shared<size_t>(0);
  auto r = apply_layer(
      [&tar, pos](char* buf, size_t len) -> Result<size_t> {
        size_t n = std::min(len, tar.size() - *pos);
        std::copy_n(tar.data() + *pos, n, buf);
        *pos += n;
        return n;
      },
      dir);
  if (!r) return std::unexpected(r.error());
  return {};
}

// Runs in the child: returns 0 when the merged view is right, else the number of the failed
// check, kSkip when overlayfs cannot be mounted here.
int check_merged(const std::string& lower, const std::string& merged) {
  if (::unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) return kSkip;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return kSkip;
  std::string opts = "lowerdir=" + lower;
  if (::mount("overlay", merged.c_str(), "overlay", MS_RDONLY, opts.c_str()) != 0) return kSkip;
  if (fs::exists(merged + "/etc/passwd")) return 1;      // whited out by layer 2
  if (!fs::exists(merged + "/etc/group")) return 2;      // untouched lower file
  if (fs::exists(merged + "/var/cache/old")) return 3;   // hidden by the opaque directory
  if (!fs::exists(merged + "/var/cache/new")) return 4;  // the upper layer's own content
  if (!fs::exists(merged + "/keep/file")) return 5;
  if (fs::exists(merged + "/etc/.wh.passwd")) return 6;
  return 0;
}

TEST(OverlayMount, WhiteoutsAndOpaqueDirsHideLowerLayers) {
  if (geteuid() != 0) GTEST_SKIP() << "skipped, because mounting overlayfs needs root";
  TempDir dir;
  std::string l1 = dir.file("l1"), l2 = dir.file("l2"), merged = dir.file("merged");
  fs::create_directories(merged);
  ASSERT_TRUE(apply_tar(make_tar({{.name = "etc/passwd", .data = "root:x:0:0"},
                                  {.name = "etc/group", .data = "root:x:0:"},
                                  {.name = "var/cache/old", .data = "stale"},
                                  {.name = "keep/file", .data = "k"}}),
                        l1));
  auto upper = apply_tar(make_tar({{.name = "etc/.wh.passwd"},
                                   {.name = "var/cache/.wh..wh..opq"},
                                   {.name = "var/cache/new", .data = "fresh"}}),
                         l2);
  ASSERT_TRUE(upper) << upper.error().message;
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(check_merged(l2 + ":" + l1, merged));
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == kSkip)
    GTEST_SKIP() << "skipped, because overlayfs cannot be mounted here (no overlay module, or "
                    "a container without CAP_SYS_ADMIN)";
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "check " << WEXITSTATUS(status) << " failed in the merged view";
}

}  // namespace
}  // namespace silo::image
