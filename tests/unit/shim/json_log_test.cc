// The json-file log: line format, splitting, rotation; and the command line.
#include "shim/json_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/sys.h"
#include "shim/shim.h"

namespace silo::shim {
namespace {

TEST(LogLine, DockerJsonFile) {
  EXPECT_EQ(format_log_line("hi \"x\"\n", Stream::Stdout, "2026-11-23T09:00:00.123456789Z"),
            "{\"log\":\"hi "
            "\\\"x\\\"\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-23T09:00:00.123456789Z\"}\n");
  EXPECT_EQ(format_log_line("e", Stream::Stderr, "T"),
            "{\"log\":\"e\",\"stream\":\"stderr\",\"time\":\"T\"}\n");
}

TEST(LogLine, RotatedNames) {
  EXPECT_EQ(rotated_name("/l/c.log", 0), "/l/c.log");
  EXPECT_EQ(rotated_name("/l/c.log", 1), "/l/c.log.1");
  EXPECT_EQ(rotated_name("/l/c.log", 4), "/l/c.log.4");
}

std::vector<std::string> split(const std::vector<std::string>& chunks, bool flush = true) {
  LineSplitter s;
  std::vector<std::string> lines;
  auto sink = [&](std::string_view l) { lines.emplace_back(l); };
  for (const auto& c : chunks) s.feed(c, sink);
  if (flush) s.flush(sink);
  return lines;
}

TEST(LineSplitter, SplitsAtNewlinesAcrossChunks) {
  EXPECT_EQ(split({"a\nb", "c\n", "\nd"}), (std::vector<std::string>{"a\n", "bc\n", "\n", "d"}));
  EXPECT_EQ(split({"partial"}, false), std::vector<std::string>{});
}

TEST(LineSplitter, LongPartialLineIsCutAt16KiB) {
  std::string big(kMaxPartialLine + 10, 'x');
  auto lines = split({big.substr(0, 5000), big.substr(5000), "\n"});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].size(), kMaxPartialLine);
  EXPECT_EQ(lines[1], std::string(10, 'x') + "\n");
}

class LogFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/silo-shim-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)sys::remove_all(dir_); }
  std::string read(const std::string& p) {
    auto r = sys::read_file(p);
    return r ? *r : "<missing>";
  }
  size_t count_lines(const std::string& p) {
    std::string t = read(p);
    return static_cast<size_t>(std::count(t.begin(), t.end(), '\n'));
  }
  std::string dir_;
};

TEST_F(LogFileTest, WritesLinesAndFlushesPartial) {
  auto log = JsonFileLog::open({dir_ + "/c.log", 0, 1});
  ASSERT_TRUE(log) << log.error().message;
  ASSERT_TRUE(log->write(Stream::Stdout, "one\ntw"));
  ASSERT_TRUE(log->write(Stream::Stderr, "err\n"));
  EXPECT_EQ(count_lines(dir_ + "/c.log"), 2u);
  ASSERT_TRUE(log->flush());
  std::string t = read(dir_ + "/c.log");
  EXPECT_NE(t.find("{\"log\":\"one\\n\",\"stream\":\"stdout\",\"time\":\""), std::string::npos);
  EXPECT_NE(t.find("{\"log\":\"err\\n\",\"stream\":\"stderr\""), std::string::npos);
  EXPECT_NE(t.find("{\"log\":\"tw\",\"stream\":\"stdout\""), std::string::npos);
}

TEST_F(LogFileTest, RotatesKeepingMaxFiles) {
  std::string p = dir_ + "/c.log";
  auto log = JsonFileLog::open({p, 200, 3});
  ASSERT_TRUE(log);
  // Each line is ~90 bytes: 3 lines pass 200 bytes, so 20 lines rotate several times.
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(log->write(Stream::Stdout, "line " + std::to_string(i) + "\n"));
  EXPECT_TRUE(sys::path_exists(p));
  EXPECT_TRUE(sys::path_exists(p + ".1"));
  EXPECT_TRUE(sys::path_exists(p + ".2"));
  EXPECT_FALSE(sys::path_exists(p + ".3"));
  EXPECT_NE(read(p).find("line 19\\n"), std::string::npos);
  EXPECT_EQ(read(p).find("line 0\\n"), std::string::npos);
  for (const auto& f : {p, p + ".1", p + ".2"}) EXPECT_LE(read(f).size(), 200u + 100u) << f;
}

TEST_F(LogFileTest, MaxFileOneTruncates) {
  std::string p = dir_ + "/c.log";
  auto log = JsonFileLog::open({p, 150, 1});
  ASSERT_TRUE(log);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(log->write(Stream::Stdout, "x\n"));
  EXPECT_FALSE(sys::path_exists(p + ".1"));
  EXPECT_LE(read(p).size(), 250u);
}

TEST(Cli, ParsesFlags) {
  const char* argv[] = {"silo-shim",
                        "--id",
                        "c1",
                        "--bundle=/b",
                        "--runtime-root",
                        "/r",
                        "--log-path",
                        "/l",
                        "--log-max-size",
                        "1024",
                        "--log-max-file",
                        "3",
                        "--tty",
                        "--stdin",
                        "--ready-fd",
                        "5",
                        "--exit-file",
                        "rel/exit"};
  auto o = parse_args(static_cast<int>(std::size(argv)), argv);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->id, "c1");
  EXPECT_EQ(o->bundle, "/b");
  EXPECT_EQ(o->log_max_size, 1024u);
  EXPECT_EQ(o->log_max_file, 3);
  EXPECT_TRUE(o->tty);
  EXPECT_TRUE(o->stdin_open);
  EXPECT_EQ(o->ready_fd, 5);
  EXPECT_EQ(o->exit_file.front(), '/');
  EXPECT_EQ(o->exit_file.substr(o->exit_file.size() - 9), "/rel/exit");
}

TEST(Cli, Errors) {
  const char* no_id[] = {"silo-shim", "--bundle", "/b", "--runtime-root", "/r"};
  EXPECT_FALSE(parse_args(5, no_id));
  const char* bad_num[] = {"silo-shim", "--id",           "c", "--bundle", "/b", "--runtime-root",
                           "/r",        "--log-max-size", "1k"};
  auto r = parse_args(9, bad_num);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("--log-max-size"), std::string::npos);
  const char* unknown[] = {"silo-shim", "--frob", "1"};
  EXPECT_FALSE(parse_args(3, unknown));
}

}  // namespace
}  // namespace silo::shim
