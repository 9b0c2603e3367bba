// Wire formats of silo-shim: output frames, request frames, exit file, JSON escaping.
#include "shim/protocol.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "shim/shim.h"

namespace silo::shim {
namespace {

TEST(OutputFrame, HeaderIsDockerMultiplexed) {
  std::string out;
  encode_output_frame(Stream::Stderr, "hello", out);
  ASSERT_EQ(out.size(), kOutputHeaderSize + 5);
  EXPECT_EQ(out.substr(0, 8), std::string("\x02\0\0\0\0\0\0\x05", 8));
  EXPECT_EQ(out.substr(8), "hello");
}

TEST(OutputFrame, LengthIsBigEndian) {
  std::string out;
  encode_output_frame(Stream::Stdout, std::string(0x010203, 'x'), out);
  EXPECT_EQ(out.substr(0, 8), std::string("\x01\0\0\0\0\x01\x02\x03", 8));
}

TEST(Requests, RoundTripInAnyChunking) {
  std::string wire;
  encode_request(RequestType::Stdin, "abc", wire);
  encode_resize(40, 132, wire);
  encode_request(RequestType::CloseStdin, "", wire);
  RequestDecoder d;
  std::vector<Request> got;
  for (char c : wire) {  // one byte at a time: the worst chunking
    d.feed(std::string_view(&c, 1));
    for (;;) {
      auto r = d.next();
      ASSERT_TRUE(r) << r.error().message;
      if (!*r) break;
      got.push_back(**r);
    }
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].type, RequestType::Stdin);
  EXPECT_EQ(got[0].payload, "abc");
  EXPECT_EQ(got[1].type, RequestType::Resize);
  auto rc = decode_resize(got[1].payload);
  ASSERT_TRUE(rc);
  EXPECT_EQ(rc->first, 40);
  EXPECT_EQ(rc->second, 132);
  EXPECT_EQ(got[2].type, RequestType::CloseStdin);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(Requests, LargePayloadArrivesWhole) {
  std::string data(65536, 'p'), wire;
  encode_request(RequestType::Stdin, data, wire);
  RequestDecoder d;
  d.feed(std::string_view(wire).substr(0, 1000));
  auto r = d.next();
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  d.feed(std::string_view(wire).substr(1000));
  r = d.next();
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->payload, data);
}

TEST(Requests, UnknownTypeAndOversizeAreErrors) {
  RequestDecoder d;
  d.feed(std::string("\x09\0\0\0\0", 5));
  EXPECT_FALSE(d.next());
  RequestDecoder big;
  big.feed(std::string("\x01\x7f\0\0\0", 5));
  EXPECT_FALSE(big.next());
  EXPECT_FALSE(decode_resize("abc"));
}

TEST(ExitFile, ExitedNormally) {
  auto r = exit_record_from_wait(3 << 8, false, "2026-11-23T09:00:00.000000001Z");
  EXPECT_EQ(exit_json(r),
            "{\"exit_code\":3,\"signal\":null,\"oom_killed\":false,"
            "\"finished_at\":\"2026-11-23T09:00:00.000000001Z\"}\n");
}

TEST(ExitFile, KilledBySignal) {
  auto r = exit_record_from_wait(SIGKILL, true, "t");
  EXPECT_EQ(r.exit_code, 137);
  EXPECT_EQ(exit_json(r),
            "{\"exit_code\":137,\"signal\":9,\"oom_killed\":true,\"finished_at\":\"t\"}\n");
}

TEST(Time, Rfc3339Nano) {
  EXPECT_EQ(rfc3339_nano(0, 5), "1970-01-01T00:00:00.000000005Z");
  EXPECT_EQ(rfc3339_nano(1795424400, 123456789), "2026-11-23T09:00:00.123456789Z");
  EXPECT_EQ(rfc3339_nano_now().size(), 30u);
}

std::string esc(std::string_view s) {
  std::string out;
  append_json_escaped(s, out);
  return out;
}

TEST(JsonEscape, LikeGo) {
  EXPECT_EQ(esc("plain text"), "plain text");
  EXPECT_EQ(esc("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(esc("l1\nl2\r\t"), "l1\\nl2\\r\\t");
  EXPECT_EQ(esc(std::string("\x01\x1f\0", 3)), "\\u0001\\u001f\\u0000");
  EXPECT_EQ(esc("<a&b>"), "\\u003ca\\u0026b\\u003e");
  EXPECT_EQ(esc("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(esc("\xe2\x80\xa8\xe2\x80\xa9"), "\\u2028\\u2029");
}

TEST(JsonEscape, InvalidUtf8BecomesReplacement) {
  EXPECT_EQ(esc("a\xff"
                "b"),
            "a\\ufffdb");
  EXPECT_EQ(esc("\xc3"), "\\ufffd");                        // truncated sequence
  EXPECT_EQ(esc("\xc0\xaf"), "\\ufffd\\ufffd");             // overlong
  EXPECT_EQ(esc("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");  // surrogate
}

TEST(StartupReport, Json) {
  EXPECT_EQ(ready_json(42, 7), "{\"pid\":42,\"shim_pid\":7}\n");
  EXPECT_EQ(error_json("mount \"x\": ENODEV"), "{\"error\":\"mount \\\"x\\\": ENODEV\"}\n");
}

}  // namespace
}  // namespace silo::shim
