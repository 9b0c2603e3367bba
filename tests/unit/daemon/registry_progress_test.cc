// dockerd's JSON progress messages and X-Registry-Auth decoding (src/daemon/registry_progress.cc).

#include "daemon/registry_progress.h"

#include <gtest/gtest.h>

namespace silo::daemon {
namespace {

TEST(HumanSize, DecimalUnitsFourSignificantDigits) {
  EXPECT_EQ(human_size(0), "0B");
  EXPECT_EQ(human_size(532), "532B");
  EXPECT_EQ(human_size(1240), "1.24kB");
  EXPECT_EQ(human_size(3456789), "3.457MB");
  EXPECT_EQ(human_size(2e9), "2GB");
}

TEST(ProgressBar, AsJsonProgressString) {
  EXPECT_EQ(progress_bar(-1, -1), "");
  EXPECT_EQ(progress_bar(0, 0), "");
  EXPECT_EQ(progress_bar(0, 1000), "[>" + std::string(50, ' ') + "]       0B/1kB");
  EXPECT_EQ(progress_bar(500, 1000),
            "[" + std::string(25, '=') + ">" + std::string(25, ' ') + "]     500B/1kB");
  EXPECT_EQ(progress_bar(1240, 1240), "[" + std::string(50, '=') + ">]   1.24kB/1.24kB");
  // A current past the total drops the total, as dockerd.
  EXPECT_EQ(progress_bar(2000, 1000), "[" + std::string(50, '=') + ">]      2kB");
  // No total: the size alone, right-aligned in 8 columns.
  EXPECT_EQ(progress_bar(1500, -1), "   1.5kB");
}

TEST(ProgressLine, FieldOrderAndEscapingAsDockerd) {
  EXPECT_EQ(progress_line({.id = "latest", .status = "Pulling from library/busybox"}),
            "{\"status\":\"Pulling from library/busybox\",\"id\":\"latest\"}\n");
  EXPECT_EQ(progress_line({.id = "a3ed95caeb02", .status = "Pulling fs layer", .layer = true}),
            "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"a3ed95caeb02\"}\n");
  EXPECT_EQ(progress_line({.id = "a3ed95caeb02",
                           .status = "Downloading",
                           .current = 1240,
                           .total = 1240,
                           .layer = true}),
            "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1240,\"total\":1240},"
            "\"progress\":\"[" +
                std::string(50, '=') + "\\u003e]   1.24kB/1.24kB\",\"id\":\"a3ed95caeb02\"}\n");
  EXPECT_EQ(status_line("Digest: sha256:ab"), "{\"status\":\"Digest: sha256:ab\"}\n");
  EXPECT_EQ(error_line("manifest unknown <x>"),
            "{\"errorDetail\":{\"message\":\"manifest unknown \\u003cx\\u003e\"},"
            "\"error\":\"manifest unknown \\u003cx\\u003e\"}\n");
}

TEST(RegistryAuth, DecodesUrlAndStdBase64PaddedOrNot) {
  // {"username":"u","password":"p?>","serveraddress":"127.0.0.1:5000"}
  const std::string json = R"({"username":"u","password":"p?>","serveraddress":"127.0.0.1:5000"})";
  // Encoded with the URL alphabet ('-' and '_' appear for "?>"-bearing input).
  std::string std64 =
      "eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InA/PiIsInNlcnZlcmFkZHJlc3MiOiIxMjcuMC4wLjE6NTAwMCJ9";
  auto raw = base64_decode(std64);
  ASSERT_TRUE(raw) << raw.error().message;
  EXPECT_EQ(*raw, json);
  std::string url64 = std64;
  for (char& c : url64) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  for (const auto& h : {std64, url64, url64 + "=="}) {
    auto a = decode_registry_auth(h);
    ASSERT_TRUE(a) << a.error().message;
    ASSERT_TRUE(a->has_value());
    EXPECT_EQ((*a)->credentials.username, "u");
    EXPECT_EQ((*a)->credentials.password, "p?>");
    EXPECT_EQ((*a)->server, "127.0.0.1:5000");
  }
}

TEST(RegistryAuth, AuthFieldEmptyAndBadHeaders) {
  // {"auth":"dXNlcjpwYXNz"} -> user:pass
  auto a = decode_registry_auth("eyJhdXRoIjoiZFhObGNqcHdZWE56In0=");
  ASSERT_TRUE(a && a->has_value());
  EXPECT_EQ((*a)->credentials.username, "user");
  EXPECT_EQ((*a)->credentials.password, "pass");
  // Empty header and "{}" (what the docker CLI sends when not logged in): no credentials.
  auto none = decode_registry_auth("");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto empty = decode_registry_auth("e30=");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->has_value());
  auto bad = decode_registry_auth("!!!");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::Invalid);
  EXPECT_NE(bad.error().message.find("X-Registry-Auth"), std::string::npos);
  auto not_json = decode_registry_auth("bm90IGpzb24=");  // "not json"
  ASSERT_FALSE(not_json);
  EXPECT_NE(not_json.error().message.find("not a JSON object"), std::string::npos);
}

}  // namespace
}  // namespace silo::daemon
