#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "common/id.h"
#include "common/json.h"
#include "common/sha256.h"
#include "common/sys.h"

namespace silo {
namespace {

TEST(Error, ErrnoMessageNamesCallAndErrno) {
  Status r = fail_errno(EPERM, "mount /proc on /x/proc");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Permission);
  EXPECT_EQ(r.error().sys_errno, EPERM);
  EXPECT_EQ(r.error().message, "mount /proc on /x/proc: EPERM (Operation not permitted)");
}

TEST(Error, WrapPutsContextInFront) {
  Error e{0, Code::Conflict, "port already published"};
  EXPECT_EQ(e.wrap("publish 8080/tcp").wrap("start web").message,
            "start web: publish 8080/tcp: port already published");
  EXPECT_EQ(e.wrap("x").code, Code::Conflict);
}

Status failing_step() {
  return fail(Code::NotFound, "no such thing");
}
Status outer() {
  SILO_TRY_CTX(failing_step(), "outer step");
  return {};
}

TEST(Error, TryMacroPropagatesWithContext) {
  auto r = outer();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "outer step: no such thing");
  EXPECT_EQ(r.error().code, Code::NotFound);
}

TEST(Error, ErrnoCodes) {
  EXPECT_EQ(code_for_errno(ENOENT), Code::NotFound);
  EXPECT_EQ(code_for_errno(EEXIST), Code::Conflict);
  EXPECT_EQ(code_for_errno(EINVAL), Code::Invalid);
  EXPECT_EQ(errno_name(EBUSY), "EBUSY");
}

TEST(UniqueFd, ClosesOnDestructionAndMoves) {
  int raw;
  {
    auto fd = sys::open("/dev/null", O_RDONLY);
    ASSERT_TRUE(fd);
    raw = fd->get();
    UniqueFd moved = std::move(*fd);
    EXPECT_FALSE(fd->valid());
    EXPECT_EQ(moved.get(), raw);
    EXPECT_GE(::fcntl(raw, F_GETFD), 0);
    EXPECT_TRUE(::fcntl(raw, F_GETFD) & FD_CLOEXEC);
  }
  EXPECT_LT(::fcntl(raw, F_GETFD), 0);
}

TEST(Sys, OpenMissingFileNamesPath) {
  auto fd = sys::open("/nonexistent/silo-test", O_RDONLY);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().code, Code::NotFound);
  EXPECT_NE(fd.error().message.find("/nonexistent/silo-test"), std::string::npos);
}

TEST(Sys, AtomicWriteThenReadBack) {
  char dir[] = "/tmp/silo-unit-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/a/b/file";
  ASSERT_TRUE(sys::mkdir_p(std::string(dir) + "/a/b"));
  ASSERT_TRUE(sys::write_file_atomic(path, "hello"));
  auto back = sys::read_file(path);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, "hello");
  ASSERT_TRUE(sys::remove_all(dir));
  EXPECT_FALSE(sys::path_exists(dir));
}

TEST(Sys, SendAndReceiveFd) {
  auto pair = sys::socketpair(AF_UNIX, SOCK_STREAM);
  ASSERT_TRUE(pair);
  auto p = sys::pipe2(0);
  ASSERT_TRUE(p);
  ASSERT_TRUE(sys::send_fd(pair->first.get(), p->second.get()));
  auto got = sys::recv_fd(pair->second.get());
  ASSERT_TRUE(got);
  ASSERT_TRUE(sys::write_all(got->get(), "x", 1));
  char c = 0;
  ASSERT_EQ(::read(p->first.get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
}

TEST(Id, NewIdsAreHexAndDistinct) {
  auto a = new_id(), b = new_id();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(Id, Validation) {
  EXPECT_TRUE(validate_id("web-1_a.b"));
  EXPECT_FALSE(validate_id(""));
  EXPECT_FALSE(validate_id("../etc"));
  EXPECT_FALSE(validate_id("-x"));
  EXPECT_FALSE(validate_id("a/b"));
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Json, OutOfRangeNumberIsAnInvalidError) {
  auto j = parse_json("[1e999]", "body");
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().code, Code::Invalid);
  EXPECT_NE(j.error().message.find("body: invalid JSON"), std::string::npos) << j.error().message;
}

TEST(Json, ParseErrorNamesTheDocument) {
  auto j = parse_json("{\"a\": ", "config.json");
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().code, Code::Invalid);
  EXPECT_EQ(j.error().message.rfind("config.json: invalid JSON", 0), 0u);
}

TEST(Json, GetOptChecksType) {
  auto j = parse_json(R"({"n": "x", "s": "ok"})", "t");
  ASSERT_TRUE(j);
  int n = 0;
  auto r = get_opt(*j, "n", n, "process");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("process.n"), std::string::npos);
  std::string s;
  ASSERT_TRUE(get_opt(*j, "s", s, "process"));
  EXPECT_EQ(s, "ok");
  ASSERT_TRUE(get_opt(*j, "missing", s, "process"));
  EXPECT_EQ(s, "ok");
}

}  // namespace
}  // namespace silo
