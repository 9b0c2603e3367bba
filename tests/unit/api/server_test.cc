// Round trips over real sockets (a unix socket in a temp dir, and loopback TCP): status
// lines, headers, keep-alive, chunked bodies both ways, hijack, bad input, stop.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <thread>

#include "api/server.h"
#include "api/stream.h"
#include "common/sys.h"

namespace silo::api {
namespace {

using namespace std::chrono_literals;

// A parsed HTTP response as the tests need it.
struct Reply {
  int status = 0;
  std::string status_line;
  Headers headers;
  std::string body;
  std::string header(std::string_view n) const { return std::string(headers.get(n).value_or("")); }
};

// A blocking client connection with a small HTTP/1.1 response reader.
class Client {
 public:
  explicit Client(UniqueFd fd) : fd_(std::move(fd)) {
    timeval tv{10, 0};  // a hung server fails the test instead of hanging it
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  static Client unix(const std::string& path) {
    auto fd = sys::connect_unix(path, "api socket");
    EXPECT_TRUE(fd) << fd.error().message;
    return Client(std::move(*fd));
  }
  // Sends what the server takes; false when it closed early (the answer may follow).
  bool try_send(std::string_view data) {
    return static_cast<bool>(sys::write_all(fd_.get(), data.data(), data.size()));
  }
  void send(std::string_view data) {
    ASSERT_TRUE(sys::write_all(fd_.get(), data.data(), data.size()));
  }
  // Reads more bytes into the buffer; false on EOF or error.
  bool fill() {
    char tmp[65536];
    ssize_t n = ::read(fd_.get(), tmp, sizeof tmp);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  std::string take_line() {
    size_t eol;
    while ((eol = buf_.find("\r\n")) == std::string::npos)
      if (!fill()) return "<eof>";
    std::string line = buf_.substr(0, eol);
    buf_.erase(0, eol + 2);
    return line;
  }
  std::string take(size_t n) {
    while (buf_.size() < n)
      if (!fill()) break;
    std::string out = buf_.substr(0, n);
    buf_.erase(0, out.size());
    return out;
  }
  // Status line and headers only (for 101 and streams read by hand).
  Reply read_head() {
    Reply r;
    r.status_line = take_line();
    if (r.status_line.size() >= 12) r.status = std::atoi(r.status_line.c_str() + 9);
    for (std::string l = take_line(); !l.empty() && l != "<eof>"; l = take_line()) {
      size_t colon = l.find(':');
      r.headers.add(l.substr(0, colon), l.substr(colon + 2));
    }
    return r;
  }
  Reply read_reply(bool head_request = false) {
    Reply r = read_head();
    if (head_request || r.status == 204 || r.status == 304) return r;
    if (r.header("Transfer-Encoding") == "chunked") {
      while (true) {
        size_t n = std::strtoul(take_line().c_str(), nullptr, 16);
        if (n == 0) {
          take_line();
          break;
        }
        r.body += take(n);
        take_line();
      }
    } else if (r.headers.has("Content-Length")) {
      r.body = take(std::strtoul(r.header("Content-Length").c_str(), nullptr, 10));
    } else {
      while (fill()) {
      }
      r.body = std::move(buf_);
      buf_.clear();
    }
    return r;
  }
  Reply request(std::string_view raw, bool head_request = false) {
    send(raw);
    return read_reply(head_request);
  }
  // True when the server closed the connection (EOF with nothing pending).
  bool closed() { return buf_.empty() && !fill(); }
  std::string& buffered() { return buf_; }
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::string buf_;
};

std::string get(std::string_view target, std::string_view extra = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: docker\r\n" + std::string(extra) +
         "\r\n";
}

std::string post_json(std::string_view target, std::string_view body,
                      std::string_view ct = "application/json") {
  return "POST " + std::string(target) +
         " HTTP/1.1\r\nHost: docker\r\nContent-Type: " + std::string(ct) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

std::string message_of(const Reply& r) {
  return Json::parse(r.body).at("message");
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Writes to a peer that has gone (the hijacked fd, the test client) must fail with
    // EPIPE, not kill the process; silod ignores SIGPIPE the same way.
    ::signal(SIGPIPE, SIG_IGN);
    char tmpl[] = "/tmp/silo-api-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/docker.sock";
    add_routes();
  }
  void TearDown() override {
    server_.reset();
    (void)sys::remove_all(dir_);
  }
  void start(ServerOptions opt = {}) {
    if (opt.unix_path.empty()) opt.unix_path = path_;
    opt.stop_grace = 2s;
    auto s = Server::start(std::move(router_), opt);
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
  }
  void add_routes();

  std::string dir_, path_;
  Router router_;
  std::unique_ptr<Server> server_;
  std::atomic<int> slow_running_{0};
  std::atomic<bool> quiet_ended_{false};
};

void ServerTest::add_routes() {
  auto add = [&](std::string m, std::string p, Handler h, RouteOptions o = {}) {
    ASSERT_TRUE(router_.add(std::move(m), std::move(p), std::move(h), o));
  };
  add("GET", "/containers/{name}/json", [](Call& c) -> Result<Response> {
    if (c.req.param("name") == "missing") return fail(Code::NotFound, "No such container: missing");
    return Response::json({{"Name", c.req.param("name")}, {"Version", c.req.version}});
  });
  add("POST", "/containers/create", [](Call& c) -> Result<Response> {
    auto body = c.req.json_object();
    if (!body) return std::unexpected(body.error());
    std::string image;
    SILO_TRY(get_opt(*body, "Image", image, "Config"));
    return Response::json({{"Image", image}, {"Size", c.req.body.size()}}, 201);
  });
  add("GET", "/throw", [](Call&) -> Result<Response> { throw std::runtime_error("kaboom"); });
  add("GET", "/badstatus", [](Call&) -> Result<Response> { return Response::empty(1000); });
  add("GET", "/events", [](Call& c) -> Result<Response> {
    SILO_TRY(c.begin_stream(200, "application/json"));
    for (int i = 0; i < 3; ++i) SILO_TRY(c.write(Json{{"n", i}}.dump() + "\n"));
    return Response{};
  });
  add("GET", "/forever", [](Call& c) -> Result<Response> {
    SILO_TRY(c.begin_stream(200, "application/json"));
    while (!c.stopping()) {
      SILO_TRY(c.write("{}\n"));
      std::this_thread::sleep_for(20ms);
    }
    return Response{};
  });
  // A stream that writes nothing (logs -f of a silent container) until the client leaves.
  add("GET", "/quiet", [this](Call& c) -> Result<Response> {
    SILO_TRY(c.begin_stream(200, "application/json"));
    for (int i = 0; i < 500 && !c.client_gone() && !c.stopping(); ++i)
      std::this_thread::sleep_for(20ms);
    quiet_ended_ = c.client_gone();
    return Response{};
  });
  add("GET", "/slow", [this](Call&) -> Result<Response> {
    ++slow_running_;
    std::this_thread::sleep_for(300ms);
    return Response::text("slow");
  });
  add("POST", "/containers/{name}/attach", [](Call& c) -> Result<Response> {
    auto h = c.hijack();
    if (!h) return std::unexpected(h.error());
    // Echo: every read comes back as one stdout frame, until the client half-closes.
    std::string pending = std::move(h->buffered);
    char buf[4096];
    while (true) {
      if (!pending.empty()) {
        std::string frame = mux_frame(StdStream::Stdout, pending);
        if (!sys::write_all(h->fd.get(), frame.data(), frame.size())) break;
        pending.clear();
      }
      ssize_t n = ::read(h->fd.get(), buf, sizeof buf);
      if (n <= 0) break;
      pending.assign(buf, static_cast<size_t>(n));
    }
    std::string bye = mux_frame(StdStream::Stderr, "bye");
    (void)sys::write_all(h->fd.get(), bye.data(), bye.size());
    return Response{};
  });
  add(
      "POST", "/build",
      [](Call& c) -> Result<Response> {
        size_t total = 0;
        uint64_t sum = 0;
        char buf[1000];
        while (true) {
          auto n = c.read_body(buf, sizeof buf);
          if (!n) return std::unexpected(n.error());
          if (*n == 0) break;
          for (size_t i = 0; i < *n; ++i) sum += static_cast<unsigned char>(buf[i]);
          total += *n;
        }
        return Response::json({{"bytes", total}, {"sum", sum}});
      },
      RouteOptions{.stream_body = true});
  add(
      "POST", "/small", [](Call& c) -> Result<Response> { return Response::text(c.req.body); },
      RouteOptions{.body_limit = 1024});
}

TEST_F(ServerTest, PingHeadersAndBody) {
  start();
  Client c = Client::unix(path_);
  Reply r = c.request(get("/_ping"));
  EXPECT_EQ(r.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(r.body, "OK");
  EXPECT_EQ(r.header("Api-Version"), "1.41");
  EXPECT_EQ(r.header("Docker-Experimental"), "false");
  EXPECT_EQ(r.header("Ostype"), "linux");
  EXPECT_TRUE(r.header("Server").starts_with("Docker/20.10.24 (linux) Silo/"))
      << r.header("Server");
  EXPECT_EQ(r.header("Cache-Control"), "no-cache, no-store, must-revalidate");
  EXPECT_EQ(r.header("Pragma"), "no-cache");
  EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_FALSE(r.header("Date").empty());
  Reply h = c.request("HEAD /v1.41/_ping HTTP/1.1\r\nHost: docker\r\n\r\n", true);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.header("Content-Length"), "0");
  EXPECT_EQ(h.header("Api-Version"), "1.41");
  // The connection is still in sync after the HEAD.
  EXPECT_EQ(c.request(get("/version")).status, 200);
}

TEST_F(ServerTest, SocketModeAndStaleFile) {
  // A socket file nobody listens on is stale and gets replaced.
  {
    UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path_.c_str());
    ASSERT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }
  start();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  // A live one is not taken over.
  Router other;
  auto second = Server::start(std::move(other), ServerOptions{.unix_path = path_});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Code::Conflict);
  EXPECT_NE(second.error().message.find("already listening"), std::string::npos);
  EXPECT_EQ(Client::unix(path_).request(get("/_ping")).status, 200);
  server_->stop();
  EXPECT_NE(::access(path_.c_str(), F_OK), 0);  // socket file removed on stop
}

TEST_F(ServerTest, VersionPrefixesAndErrors) {
  start();
  Client c = Client::unix(path_);
  Reply a = c.request(get("/v1.24/containers/web/json"));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(Json::parse(a.body)["Version"], "1.24");
  Reply b = c.request(get("/v1.50/containers/web/json"));
  EXPECT_EQ(b.status, 400);
  EXPECT_EQ(b.header("Content-Type"), "application/json");
  EXPECT_EQ(message_of(b), "client version 1.50 is too new. Maximum supported API version is 1.41");
  EXPECT_EQ(b.header("Api-Version"), "1.41");
  Reply o = c.request(get("/v1.11/_ping"));
  EXPECT_EQ(o.status, 400);  // plain text below 1.24, as dockerd
  EXPECT_EQ(o.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(o.body,
            "client version 1.11 is too old. Minimum supported API version is 1.12, please "
            "upgrade your client to a newer version\n");
  Reply nf = c.request(get("/v1.41/nothing/here"));
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.body, "{\"message\":\"page not found\"}\n");
  Reply wm = c.request("DELETE /_ping HTTP/1.1\r\nHost: d\r\n\r\n");
  EXPECT_EQ(wm.status, 404);
  Reply e = c.request(get("/containers/missing/json"));
  EXPECT_EQ(e.status, 404);
  EXPECT_EQ(message_of(e), "No such container: missing");
}

TEST_F(ServerTest, KeepAliveManyRequestsOneConnection) {
  start();
  Client c = Client::unix(path_);
  for (int i = 0; i < 20; ++i) {
    Reply r = c.request(get("/containers/c" + std::to_string(i) + "/json"));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(Json::parse(r.body)["Name"], "c" + std::to_string(i));
  }
  // Pipelined: two requests in one write.
  c.send(get("/_ping") + get("/version"));
  EXPECT_EQ(c.read_reply().body, "OK");
  EXPECT_EQ(c.read_reply().status, 200);
  Reply last = c.request(get("/_ping", "Connection: close\r\n"));
  EXPECT_EQ(last.status, 200);
  EXPECT_TRUE(c.closed());
}

TEST_F(ServerTest, JsonBodiesAndBadInput) {
  start();
  Client c = Client::unix(path_);
  Reply ok = c.request(post_json("/v1.41/containers/create?name=web", R"({"Image":"alpine"})"));
  EXPECT_EQ(ok.status, 201);
  EXPECT_EQ(Json::parse(ok.body)["Image"], "alpine");
  Reply bad = c.request(post_json("/containers/create", R"({"Image": )"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(message_of(bad).starts_with("invalid JSON: ")) << bad.body;
  Reply ct = c.request(post_json("/containers/create", "{}", "text/plain"));
  EXPECT_EQ(ct.status, 400);
  EXPECT_EQ(message_of(ct), "Content-Type specified (text/plain) must be 'application/json'");
  Reply type = c.request(post_json("/containers/create", R"({"Image":5})"));
  EXPECT_EQ(type.status, 400);
  EXPECT_EQ(message_of(type), "Config.Image: wrong type (number)");
  Reply q = c.request(get("/containers/x/json?a=%zz"));
  EXPECT_EQ(q.status, 400);
  EXPECT_EQ(c.request(get("/_ping")).status, 200);  // still in sync
}

TEST_F(ServerTest, ChunkedRequestBody) {
  start();
  Client c = Client::unix(path_);
  Reply r = c.request(
      "POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n"
      "5\r\n{\"Ima\r\n11\r\nge\":\"busybox\"}   \r\n0\r\n\r\n");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(Json::parse(r.body)["Image"], "busybox");
  EXPECT_EQ(c.request(get("/_ping")).status, 200);
  Client bad = Client::unix(path_);
  Reply r2 = bad.request(
      "POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: "
      "application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n");
  EXPECT_EQ(r2.status, 400);
  EXPECT_TRUE(message_of(r2).starts_with("malformed request body")) << r2.body;
  EXPECT_TRUE(bad.closed());
}

TEST_F(ServerTest, StreamedUploadChunkedAndExpectContinue) {
  start();
  Client c = Client::unix(path_);
  std::string data(200000, '\0');
  uint64_t sum = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>(i * 7);
    sum += static_cast<unsigned char>(data[i]);
  }
  std::string req =
      "POST /v1.41/build HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (size_t off = 0; off < data.size(); off += 70000) {
    std::string part = data.substr(off, 70000);
    char len[32];
    std::snprintf(len, sizeof len, "%zx\r\n", part.size());
    req += len + part + "\r\n";
  }
  req += "0\r\n\r\n";
  Reply r = c.request(req);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json::parse(r.body)["bytes"], data.size());
  EXPECT_EQ(Json::parse(r.body)["sum"], sum);
  // curl-style Expect: 100-continue: the server invites the body before reading it.
  c.send("POST /build HTTP/1.1\r\nHost: d\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  Reply cont = c.read_head();
  EXPECT_EQ(cont.status_line, "HTTP/1.1 100 Continue");
  c.send("abc");
  Reply done = c.read_reply();
  EXPECT_EQ(done.status, 200);
  EXPECT_EQ(Json::parse(done.body)["bytes"], 3);
}

TEST_F(ServerTest, BodyLimits) {
  start();
  {
    Client c = Client::unix(path_);
    // Announced over the 64 MiB limit: refused without reading it.
    Reply r = c.request(
        "POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: "
        "application/json\r\nContent-Length: 104857600\r\n\r\n{");
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(message_of(r), "request body is larger than the limit of 64 MiB");
    EXPECT_TRUE(c.closed());
  }
  {
    Client c = Client::unix(path_);
    std::string big(2000, 'x');
    Reply r =
        c.request("POST /small HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" +
                  big + "\r\n0\r\n\r\n");
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(message_of(r), "request body is larger than the limit of 1024 bytes");
  }
  Client c = Client::unix(path_);
  EXPECT_EQ(c.request("POST /small HTTP/1.1\r\nHost: d\r\nContent-Length: 5\r\n\r\nhello").body,
            "hello");
}

TEST_F(ServerTest, GarbageGets400AndServerKeepsServing) {
  start();
  for (std::string junk : {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9\r\n\r\n"),
                           std::string("\x01\x02\x03 / HTTP/1.1\r\n\r\n"),
                           std::string("GET /_ping HTTP/1.1\r\nBad Header\r\n\r\n")}) {
    Client c = Client::unix(path_);
    Reply r = c.request(junk);
    EXPECT_EQ(r.status_line, "HTTP/1.1 400 Bad Request") << junk;
    EXPECT_TRUE(c.closed());
  }
  Client big = Client::unix(path_);
  (void)big.try_send("GET /_ping HTTP/1.1\r\nX-Big: " + std::string(2 << 20, 'a') + "\r\n\r\n");
  Reply r = big.read_reply();
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(Client::unix(path_).request(get("/_ping")).body, "OK");
}

TEST_F(ServerTest, ThrowingHandlerIs500) {
  start();
  Client c = Client::unix(path_);
  Reply r = c.request(get("/throw"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(message_of(r), "internal error: kaboom");
  EXPECT_EQ(c.request(get("/_ping")).status, 200);
  EXPECT_EQ(c.request(get("/badstatus")).status, 500);  // not a status Beast can send
  EXPECT_EQ(c.request(get("/_ping")).status, 200);
}

// A handler that writes nothing still learns that its client left, without a write.
TEST_F(ServerTest, SilentStreamSeesTheClientLeave) {
  start();
  {
    Client c = Client::unix(path_);
    c.send(get("/v1.41/quiet"));
    EXPECT_EQ(c.take_line(), "HTTP/1.1 200 OK");
    std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(quiet_ended_.load());
  }  // closes the connection
  for (int i = 0; i < 100 && !quiet_ended_; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(quiet_ended_.load());
}

TEST_F(ServerTest, ChunkedStreamResponse) {
  start();
  Client c = Client::unix(path_);
  Reply r = c.request(get("/v1.41/events"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Transfer-Encoding"), "chunked");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.header("Api-Version"), "1.41");
  EXPECT_EQ(r.body, "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n");
  EXPECT_EQ(c.request(get("/_ping")).status, 200);  // keep-alive after a stream
}

TEST_F(ServerTest, HijackUpgradeRawBytesBothWays) {
  start();
  Client c = Client::unix(path_);
  c.send(
      "POST /v1.41/containers/web/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: d\r\n"
      "Content-Type: text/plain\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nearly");
  Reply h = c.read_head();
  EXPECT_EQ(h.status_line, "HTTP/1.1 101 UPGRADED");
  EXPECT_EQ(h.header("Content-Type"), "application/vnd.docker.raw-stream");
  EXPECT_EQ(h.header("Connection"), "Upgrade");
  EXPECT_EQ(h.header("Upgrade"), "tcp");
  EXPECT_EQ(h.header("Api-Version"), "1.41");
  MuxDecoder d;
  auto next_frame = [&]() -> MuxFrame {
    while (true) {
      auto f = d.next();
      EXPECT_TRUE(f);
      if (f && *f) return **f;
      std::string more = c.buffered().empty() ? c.take(1) : c.take(c.buffered().size());
      if (more.empty()) return {StdStream::Systemerr, "<eof>"};
      d.feed(more);
    }
  };
  MuxFrame first = next_frame();  // bytes sent right after the request were not lost
  EXPECT_EQ(first.stream, StdStream::Stdout);
  EXPECT_EQ(first.payload, "early");
  c.send("hello");
  EXPECT_EQ(next_frame().payload, "hello");
  ::shutdown(c.fd(), SHUT_WR);
  MuxFrame bye = next_frame();
  EXPECT_EQ(bye.stream, StdStream::Stderr);
  EXPECT_EQ(bye.payload, "bye");
  EXPECT_TRUE(c.closed());
}

TEST_F(ServerTest, HijackWithoutUpgradeIs200RawStream) {
  start();
  Client c = Client::unix(path_);
  c.send("POST /containers/web/attach HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n");
  Reply h = c.read_head();
  EXPECT_EQ(h.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(h.header("Content-Type"), "application/vnd.docker.raw-stream");
  c.send("x");
  std::string frame = c.take(9);
  EXPECT_EQ(frame, mux_frame(StdStream::Stdout, "x"));
}

TEST_F(ServerTest, ConnectionsServedConcurrently) {
  start();
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      Client c = Client::unix(path_);
      if (c.request(get("/slow")).body == "slow") ++ok;
    });
  for (auto& t : threads) t.join();
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(ok, 4);
  EXPECT_LT(elapsed, 1000ms);  // four 300 ms handlers in parallel, not 1.2 s in a row
}

TEST_F(ServerTest, TcpLoopbackListener) {
  ServerOptions opt;
  opt.tcp_host = "127.0.0.1";
  start(opt);
  ASSERT_NE(server_->tcp_port(), 0);
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(server_->tcp_port());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  Client c(std::move(fd));
  EXPECT_EQ(c.request(get("/v1.41/_ping")).body, "OK");
  EXPECT_EQ(Client::unix(path_).request(get("/_ping")).body, "OK");  // both listeners
  // A port in use fails the start, and leaves no socket file behind.
  ServerOptions busy{.unix_path = dir_ + "/second.sock"};
  busy.tcp_host = "127.0.0.1";
  busy.tcp_port = server_->tcp_port();
  auto second = Server::start(Router{}, busy);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("bind 127.0.0.1:"), std::string::npos)
      << second.error().message;
  EXPECT_NE(::access(busy.unix_path.c_str(), F_OK), 0);
}

TEST_F(ServerTest, StopLetsRunningHandlersFinish) {
  start();
  Client c = Client::unix(path_);
  c.send(get("/slow"));
  while (slow_running_ == 0) std::this_thread::sleep_for(5ms);
  server_->stop();  // within the 2 s grace of these tests
  Reply r = c.read_reply();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "slow");
  EXPECT_EQ(r.header("Connection"), "close");  // no keep-alive while stopping
  EXPECT_TRUE(c.closed());
}

TEST_F(ServerTest, StopEndsStreamsAndIdleConnections) {
  start();
  Client idle = Client::unix(path_);
  EXPECT_EQ(idle.request(get("/_ping")).status, 200);
  Client streaming = Client::unix(path_);
  streaming.send(get("/forever"));
  Reply head = streaming.read_head();
  ASSERT_EQ(head.status, 200);
  auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_TRUE(idle.closed());
  while (streaming.fill()) {
  }
  EXPECT_FALSE(sys::connect_unix(path_, "api socket"));
}

}  // namespace
}  // namespace silo::api
