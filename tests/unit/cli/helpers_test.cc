// Small pieces of the CLI: detach keys, time flags, filters, query strings, hosts.
#include <gtest/gtest.h>

#include <cstdlib>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/terminal.h"

namespace silo::cli {
namespace {

TEST(DetachKeys, DockerSpelling) {
  auto k = parse_detach_keys("ctrl-p,ctrl-q");
  ASSERT_TRUE(k);
  EXPECT_EQ(*k, std::string("\x10\x11"));
  k = parse_detach_keys("a,ctrl-[");
  ASSERT_TRUE(k);
  EXPECT_EQ(*k, std::string("a\x1b"));
  EXPECT_FALSE(parse_detach_keys("ctrl-1"));
  EXPECT_FALSE(parse_detach_keys("shift-a"));
}

TEST(TimeFlags, DurationsTimestampsAndRfc3339) {
  EXPECT_EQ(*api_time("", 1000), "");
  EXPECT_EQ(*api_time("10m", 10000), "9400");
  EXPECT_EQ(*api_time("1700000000", 0), "1700000000");
  EXPECT_EQ(*api_time("1700000000.5", 0), "1700000000.5");
  EXPECT_EQ(*api_time("2023-11-14T22:13:20Z", 0), "1700000000");
  EXPECT_EQ(*api_time("2023-11-14T23:13:20+01:00", 0), "1700000000");
  EXPECT_FALSE(api_time("yesterday", 0));
}

TEST(Query, FiltersAndEncoding) {
  EXPECT_EQ(filters_json({"name=web", "label=a=b", "name=db"}),
            R"({"label":{"a=b":true},"name":{"db":true,"web":true}})");
  EXPECT_EQ(filters_json({}), "");
  EXPECT_EQ(query({{"all", "1"}, {"limit", ""}, {"filters", "{\"a\":1}"}}),
            "?all=1&filters=%7B%22a%22%3A1%7D");
  EXPECT_EQ(url_encode("a b/c"), "a%20b/c");
}

TEST(Host, FlagThenEnvironmentThenDefault) {
  unsetenv("SILO_HOST");
  unsetenv("DOCKER_HOST");
  EXPECT_EQ(*resolve_host(""), std::string(kDefaultHost));
  setenv("DOCKER_HOST", "unix:///tmp/d.sock", 1);
  EXPECT_EQ(*resolve_host(""), "unix:///tmp/d.sock");
  setenv("SILO_HOST", "unix:///tmp/s.sock", 1);
  EXPECT_EQ(*resolve_host(""), "unix:///tmp/s.sock");
  EXPECT_EQ(*resolve_host("unix:///tmp/f.sock"), "unix:///tmp/f.sock");
  EXPECT_FALSE(resolve_host("tcp://127.0.0.1:2375"));
  unsetenv("SILO_HOST");
  unsetenv("DOCKER_HOST");
}

TEST(DaemonErrors, MessageAndCode) {
  HttpResponse r;
  r.status = 404;
  r.body = R"({"message":"No such container: web"})";
  Error e = daemon_error(r);
  EXPECT_EQ(e.code, Code::NotFound);
  EXPECT_EQ(e.message, "Error response from daemon: No such container: web");
  r.status = 409;
  r.body = "plain text\n";
  EXPECT_EQ(daemon_error(r).code, Code::Conflict);
  EXPECT_EQ(daemon_error(r).message, "Error response from daemon: plain text");
}

}  // namespace
}  // namespace silo::cli
