// Container names and Docker's unit parsers.

#include <gtest/gtest.h>

#include <set>

#include "engine/names.h"
#include "engine/units.h"

namespace silo::engine {
namespace {

using std::chrono::nanoseconds;

TEST(Names, DockerPattern) {
  for (const char* ok : {"web", "/web", "a1", "my_app.v2-x", "0abc", "ab"})
    EXPECT_TRUE(validate_container_name(ok)) << ok;
  for (const char* bad : {"", "/", "a", "_web", "-web", ".web", "we b", "web/1", "wéb", "//web"})
    EXPECT_FALSE(validate_container_name(bad)) << bad;
  auto err = validate_container_name("we b");
  EXPECT_EQ(err.error().code, Code::Invalid);
  EXPECT_EQ(err.error().message,
            "Invalid container name (we b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  EXPECT_EQ(strip_name_slash("/web"), "web");
  EXPECT_EQ(strip_name_slash("web"), "web");
}

TEST(Names, RandomNamesAreValidAndVaried) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string n = random_name();
    EXPECT_TRUE(validate_container_name(n)) << n;
    ASSERT_NE(n.find('_'), std::string::npos) << n;
    seen.insert(n);
  }
  EXPECT_GT(seen.size(), 150u);
  std::string retried = random_name(1);
  EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(retried.back()))) << retried;
  EXPECT_TRUE(validate_container_name(retried));
}

TEST(Units, RamInBytesIsBinary) {
  EXPECT_EQ(ram_in_bytes("32").value(), 32);
  EXPECT_EQ(ram_in_bytes("32b").value(), 32);
  EXPECT_EQ(ram_in_bytes("1k").value(), 1024);
  EXPECT_EQ(ram_in_bytes("512m").value(), 512LL << 20);
  EXPECT_EQ(ram_in_bytes("512M").value(), 512LL << 20);
  EXPECT_EQ(ram_in_bytes("8MiB").value(), 8LL << 20);
  EXPECT_EQ(ram_in_bytes("8mb").value(), 8LL << 20);
  EXPECT_EQ(ram_in_bytes("1g").value(), 1LL << 30);
  EXPECT_EQ(ram_in_bytes("1.5g").value(), 3LL << 29);
  EXPECT_EQ(ram_in_bytes("2 GB").value(), 2LL << 30);
  EXPECT_EQ(ram_in_bytes("1t").value(), 1LL << 40);
  EXPECT_EQ(ram_in_bytes("1p").value(), 1LL << 50);
  for (const char* bad : {"", "m", "-1", "1x", "1.2.3", "1mm", " 1m", "1m ", "1  m", ".5m"}) {
    auto r = ram_in_bytes(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message, std::string("invalid size: '") + bad + "'");
  }
}

TEST(Units, FromHumanSizeIsDecimal) {
  EXPECT_EQ(from_human_size("10m").value(), 10000000);
  EXPECT_EQ(from_human_size("1k").value(), 1000);
  EXPECT_EQ(from_human_size("1kb").value(), 1000);
  EXPECT_EQ(from_human_size("1g").value(), 1000000000);
  EXPECT_EQ(from_human_size("2.5G").value(), 2500000000);
  EXPECT_FALSE(from_human_size("ten"));
}

TEST(Units, NanoCpus) {
  EXPECT_EQ(parse_nano_cpus("1.5").value(), 1500000000);
  EXPECT_EQ(parse_nano_cpus("2").value(), 2000000000);
  EXPECT_EQ(parse_nano_cpus("0.001").value(), 1000000);
  EXPECT_EQ(parse_nano_cpus(".5").value(), 500000000);
  EXPECT_EQ(parse_nano_cpus("0.0000000010").value(), 1);
  EXPECT_EQ(parse_nano_cpus("0.0000000001").error().message, "value is too precise");
  EXPECT_EQ(parse_nano_cpus("abc").error().message, "failed to parse abc as a rational number");
  EXPECT_FALSE(parse_nano_cpus(""));
  EXPECT_FALSE(parse_nano_cpus("-1"));
}

TEST(Units, GoDurations) {
  EXPECT_EQ(parse_duration("10s").value(), nanoseconds(10'000'000'000));
  EXPECT_EQ(parse_duration("1m30s").value(), nanoseconds(90'000'000'000));
  EXPECT_EQ(parse_duration("1.5h").value(), nanoseconds(5'400'000'000'000));
  EXPECT_EQ(parse_duration("300ms").value(), nanoseconds(300'000'000));
  EXPECT_EQ(parse_duration("-2h45m").value(), -nanoseconds(9'900'000'000'000));
  EXPECT_EQ(parse_duration("0").value(), nanoseconds(0));
  EXPECT_EQ(parse_duration("1us").value(), nanoseconds(1000));
  EXPECT_EQ(parse_duration("1\u00b5s").value(), nanoseconds(1000));
  EXPECT_EQ(parse_duration("2ns").value(), nanoseconds(2));
  EXPECT_EQ(parse_duration(".5s").value(), nanoseconds(500'000'000));
  EXPECT_EQ(parse_duration("10").error().message, "time: missing unit in duration \"10\"");
  EXPECT_EQ(parse_duration("10x").error().message, "time: unknown unit \"x\" in duration \"10x\"");
  EXPECT_EQ(parse_duration("").error().message, "time: invalid duration \"\"");
  EXPECT_EQ(parse_duration("s").error().message, "time: invalid duration \"s\"");
  EXPECT_EQ(parse_duration("1s2").error().message, "time: missing unit in duration \"1s2\"");
  EXPECT_FALSE(parse_duration("9999999999h"));
}

TEST(Units, DockerTimes) {
  const int64_t now = 1'700'000'000'000'000'000;
  EXPECT_EQ(parse_docker_time("1700000000", now).value(), 1'700'000'000'000'000'000);
  EXPECT_EQ(parse_docker_time("1700000000.5", now).value(), 1'700'000'000'500'000'000);
  EXPECT_EQ(parse_docker_time("2023-11-14T22:13:20Z", now).value(), now);
  EXPECT_EQ(parse_docker_time("2023-11-14T23:13:20+01:00", now).value(), now);
  EXPECT_EQ(parse_docker_time("2023-11-14", now).value(), 1'699'920'000'000'000'000);
  EXPECT_EQ(parse_docker_time("10m", now).value(), now - 600'000'000'000);
  auto bad = parse_docker_time("yesterday", now);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::Invalid);
  EXPECT_EQ(bad.error().message, "failed to parse value as time or duration: \"yesterday\"");
}

}  // namespace
}  // namespace silo::engine
