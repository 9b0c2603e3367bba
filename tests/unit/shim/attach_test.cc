// The attach server over a real unix socket (no root needed): accept, broadcast framing,
// request routing, close.
#include "shim/attach.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/sys.h"

namespace silo::shim {
namespace {

class AttachTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/silo-shim-attach.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/a.sock";
  }
  void TearDown() override { (void)sys::remove_all(dir_); }

  // One poll + handle round, collecting requests.
  void pump(AttachServer& s, std::vector<Request>& got) {
    std::vector<pollfd> fds;
    s.add_pollfds(fds, true);
    ASSERT_GE(::poll(fds.data(), fds.size(), 1000), 0);
    s.handle(fds, 0, [&](const Request& r) { got.push_back(r); });
  }
  std::string read_some(int fd, size_t want) {
    std::string out(want, '\0');
    auto n = sys::read_full(fd, out.data(), want);
    out.resize(n ? *n : 0);
    return out;
  }
  std::string dir_, path_;
};

TEST_F(AttachTest, BroadcastsFramesToEveryClientAndRoutesRequests) {
  auto s = AttachServer::listen(path_, false);
  ASSERT_TRUE(s) << s.error().message;
  auto a = sys::connect_unix(path_), b = sys::connect_unix(path_);
  ASSERT_TRUE(a && b);
  std::vector<Request> got;
  for (int i = 0; i < 5 && s->clients() < 2; ++i) pump(*s, got);
  ASSERT_EQ(s->clients(), 2u);

  s->broadcast(Stream::Stderr, "oops");
  std::string frame = std::string("\x02\0\0\0\0\0\0\x04", 8) + "oops";
  EXPECT_EQ(read_some(a->get(), frame.size()), frame);
  EXPECT_EQ(read_some(b->get(), frame.size()), frame);

  std::string req;
  encode_request(RequestType::Stdin, "typed", req);
  encode_resize(24, 80, req);
  ASSERT_TRUE(sys::write_all(b->get(), req.data(), req.size()));
  for (int i = 0; i < 5 && got.size() < 2; ++i) pump(*s, got);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].payload, "typed");
  EXPECT_EQ(got[1].type, RequestType::Resize);

  s->close();
  EXPECT_FALSE(sys::path_exists(path_));
  char c;
  EXPECT_EQ(::read(a->get(), &c, 1), 0);  // EOF once the shim is done
}

TEST_F(AttachTest, ReplaySendsEarlyOutputFirstOnlyWhileItIsKept) {
  auto s = AttachServer::listen(path_, true);
  ASSERT_TRUE(s) << s.error().message;
  s->broadcast(Stream::Stdout, "early ");  // before anyone connected
  auto a = sys::connect_unix(path_);
  ASSERT_TRUE(a);
  std::vector<Request> got;
  for (int i = 0; i < 5 && s->clients() < 1; ++i) pump(*s, got);
  ASSERT_EQ(s->clients(), 1u);
  std::string req;
  encode_request(RequestType::Replay, "", req);
  ASSERT_TRUE(sys::write_all(a->get(), req.data(), req.size()));
  for (int i = 0; i < 3; ++i) pump(*s, got);
  EXPECT_TRUE(got.empty());  // Replay is the server's own business
  s->broadcast(Stream::Stdout, "live");
  EXPECT_EQ(read_some(a->get(), 10), "early live");

  // Once the early output was dropped, a new client asking for it gets only live output.
  s->end_early_output();
  auto b = sys::connect_unix(path_);
  ASSERT_TRUE(b);
  for (int i = 0; i < 5 && s->clients() < 2; ++i) pump(*s, got);
  ASSERT_TRUE(sys::write_all(b->get(), req.data(), req.size()));
  for (int i = 0; i < 3; ++i) pump(*s, got);
  s->broadcast(Stream::Stdout, "more");
  EXPECT_EQ(read_some(b->get(), 4), "more");
}

TEST_F(AttachTest, TtyOutputIsRawAndBadClientsAreDropped) {
  auto s = AttachServer::listen(path_, true);
  ASSERT_TRUE(s);
  auto a = sys::connect_unix(path_);
  ASSERT_TRUE(a);
  std::vector<Request> got;
  for (int i = 0; i < 5 && s->clients() < 1; ++i) pump(*s, got);
  s->broadcast(Stream::Stdout, "raw\r\n");
  EXPECT_EQ(read_some(a->get(), 5), "raw\r\n");
  ASSERT_TRUE(sys::write_all(a->get(), "\x09\0\0\0\0", 5));  // unknown request type
  for (int i = 0; i < 5 && s->clients() > 0; ++i) pump(*s, got);
  EXPECT_EQ(s->clients(), 0u);
  EXPECT_TRUE(got.empty());
}

TEST_F(AttachTest, TooLongPathIsAnError) {
  auto s = AttachServer::listen("/tmp/" + std::string(200, 'x'), false);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("too long"), std::string::npos);
}

}  // namespace
}  // namespace silo::shim
