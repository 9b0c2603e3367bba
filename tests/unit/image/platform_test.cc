#include "image/platform.h"

#include <sys/utsname.h>

#include <gtest/gtest.h>

namespace silo::image {
namespace {

TEST(Platform, HostIsLinuxInGoarchTerms) {
  Platform h = host_platform();
  EXPECT_EQ(h.os, "linux");
  struct utsname u {};
  ::uname(&u);
  std::string m = u.machine;
  if (m == "x86_64") {
    EXPECT_EQ(h.str(), "linux/amd64");
  }
  if (m == "aarch64") {
    EXPECT_EQ(h.str(), "linux/arm64/v8");
  }
  EXPECT_EQ(match_rank(h, h), 0);
  EXPECT_TRUE(check_platform(h));
}

TEST(Platform, Normalize) {
  EXPECT_EQ(normalize({"Linux", "x86_64", ""}).str(), "linux/amd64");
  EXPECT_EQ(normalize({"linux", "aarch64", "v8"}).str(), "linux/arm64");
  EXPECT_EQ(normalize({"linux", "arm", ""}).str(), "linux/arm/v7");
  EXPECT_EQ(normalize({"linux", "armhf", ""}).str(), "linux/arm/v7");
  EXPECT_EQ(normalize({"linux", "arm", "6"}).str(), "linux/arm/v6");
  EXPECT_EQ(normalize({"linux", "i386", ""}).str(), "linux/386");
  EXPECT_EQ(normalize({"", "amd64", "v1"}).str(), "linux/amd64");
}

TEST(Platform, Matching) {
  Platform amd64{"linux", "amd64", ""}, arm64{"linux", "arm64", "v8"}, armv7{"linux", "arm", "v7"};
  EXPECT_EQ(match_rank(arm64, {"linux", "arm64", ""}), 0);
  EXPECT_EQ(match_rank(arm64, {"linux", "aarch64", "8"}), 0);
  EXPECT_GT(match_rank(arm64, armv7), 0);
  EXPECT_GT(match_rank(amd64, {"linux", "386", ""}), 0);
  EXPECT_EQ(match_rank(amd64, arm64), -1);
  EXPECT_EQ(match_rank(amd64, {"windows", "amd64", ""}), -1);
  EXPECT_EQ(match_rank(amd64, {"linux", "amd64", "v3"}), -1);
  EXPECT_LT(match_rank(armv7, {"linux", "arm", "v6"}), match_rank(armv7, {"linux", "arm", "v5"}));
  EXPECT_EQ(match_rank({"linux", "arm", "v6"}, armv7), -1);
}

TEST(Platform, CheckNamesBothPlatforms) {
  auto r = check_platform({"linux", "arm64", "v8"}, {"linux", "amd64", ""});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Invalid);
  EXPECT_EQ(r.error().message,
            "image platform linux/arm64/v8 does not match the host platform linux/amd64; pull an "
            "image built for linux/amd64");
}

TEST(Platform, ParsesPlatformFlag) {
  EXPECT_EQ(parse_platform("linux/arm64/v8")->str(), "linux/arm64/v8");
  EXPECT_EQ(parse_platform("Linux/AMD64")->str(), "linux/amd64");
  EXPECT_EQ(parse_platform("linux")->architecture, host_platform().architecture);
  for (auto bad : {"", "linux/", "/amd64", "a/b/c/d", "linux//v7"}) {
    auto r = parse_platform(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("expected os[/arch[/variant]]"), std::string::npos);
  }
}

}  // namespace
}  // namespace silo::image
