// The json-file log reader (rotations, filters, tail, follow), log encoding, and detach keys.
#include "daemon/io_logs.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <stdlib.h>

#include <fstream>

#include "common/sys.h"

namespace silo::daemon {
namespace {

class LogsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/silo-io-logs.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/c-json.log";
  }
  void TearDown() override { (void)sys::remove_all(dir_); }
  void append(const std::string& file, const std::string& log, const std::string& stream, int sec) {
    std::ofstream out(file, std::ios::app);
    out << "{\"log\":\"" << log << "\\n\",\"stream\":\"" << stream
        << "\",\"time\":\"2026-11-23T09:00:0" << sec << ".000000001Z\"}\n";
  }
  std::string dir_, path_;
};

TEST_F(LogsTest, ReadsRotationsOldestFirstWithFiltersAndTail) {
  append(path_ + ".1", "one", "stdout", 1);
  append(path_ + ".1", "two", "stderr", 2);
  append(path_, "three", "stdout", 3);
  append(path_, "four", "stdout", 4);
  LogQuery q;
  auto all = read_log(path_, q);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].log, "one\n");
  EXPECT_EQ((*all)[3].log, "four\n");
  q.stderr_ = false;
  q.tail = 2;
  auto tail = read_log(path_, q);
  ASSERT_TRUE(tail);
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ((*tail)[0].log, "three\n");
  LogQuery since;
  since.since_ns = *parse_rfc3339_ns("2026-11-23T09:00:03Z");
  auto s = read_log(path_, since);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->size(), 2u);
  auto none = read_log(dir_ + "/missing.log", q);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(LogsTest, FollowerSeesNewLinesAndRotation) {
  append(path_, "a", "stdout", 1);
  uint64_t off = 0;
  ASSERT_TRUE(read_log(path_, {}, &off));
  LogFollower f(path_, off);
  EXPECT_TRUE(f.poll().empty());
  append(path_, "b", "stdout", 2);
  auto got = f.poll();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].log, "b\n");
  append(path_, "c", "stdout", 3);
  ASSERT_EQ(::rename(path_.c_str(), (path_ + ".1").c_str()), 0);
  append(path_, "d", "stdout", 4);
  got = f.poll();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].log, "c\n");
  EXPECT_EQ(got[1].log, "d\n");
}

// docker-py's run(remove=True) removes the container (and its log) before it reads the
// follow stream: what was written stays readable through the follower's open file.
TEST_F(LogsTest, FollowerReadsALogRemovedUnderIt) {
  append(path_, "a", "stdout", 1);
  LogFollower f(path_, 0);
  append(path_, "out", "stdout", 2);
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  auto got = f.poll();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].log, "out\n");
  EXPECT_TRUE(f.poll().empty());
}

TEST(LogEncoding, FramesOrRawWithTimestamps) {
  LogEntry e{"stderr", "x\n", "2026-11-23T09:00:00.000000001Z", 1};
  LogQuery q;
  EXPECT_EQ(encode_log_entry(e, q, false), std::string("\x02\0\0\0\0\0\0\x02x\n", 10));
  q.timestamps = true;
  EXPECT_EQ(encode_log_entry(e, q, true), "2026-11-23T09:00:00.000000001Z x\n");
}

TEST(LogParams, TimesAndTail) {
  EXPECT_EQ(*parse_log_time("1700000000.5", "since"), 1700000000500000000);
  EXPECT_EQ(*parse_log_time("", "since"), 0);
  EXPECT_FALSE(parse_log_time("soon", "since"));
  EXPECT_EQ(*parse_rfc3339_ns("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_FALSE(parse_tail("all")->has_value());
  EXPECT_EQ(**parse_tail("3"), 3u);
  EXPECT_FALSE(parse_tail("x"));
}

TEST(DetachKeys, ParseAndMatchAcrossReads) {
  EXPECT_EQ(*parse_detach_keys("ctrl-p,ctrl-q"), "\x10\x11");
  EXPECT_EQ(*parse_detach_keys("a,ctrl-@"), std::string("a\0", 2));
  EXPECT_FALSE(parse_detach_keys("ctrl-1"));
  DetachMatcher m("\x10\x11");
  std::string out;
  EXPECT_FALSE(m.feed("ab\x10", out));
  EXPECT_EQ(out, "ab");
  EXPECT_FALSE(m.feed("c", out));  // a broken sequence is passed on
  EXPECT_EQ(out,
            "ab\x10"
            "c");
  EXPECT_FALSE(m.feed("\x10", out));
  EXPECT_TRUE(m.feed("\x11", out));
}

}  // namespace
}  // namespace silo::daemon
