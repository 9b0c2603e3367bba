#include "cli/client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cstdlib>
#include <limits>

namespace silo::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Socket = asio::local::stream_protocol::socket;

// Beast 1.74 compares the Content-Length with an empty optional body limit as if the
// limit were smaller than any length (every sized body fails with "body limit
// exceeded"), so "no limit" is spelled as the largest limit.
constexpr std::uint64_t kNoLimit = std::numeric_limits<std::uint64_t>::max();

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// docker's wording when the socket does not answer.
Error unreachable(const std::string& host) {
  return Error{0, Code::Unavailable,
               "Cannot connect to the Silo daemon at " + host + ". Is the silo daemon running?"};
}

// One connection: an io_context and a connected socket.
struct Conn {
  asio::io_context ioc;
  Socket sock{ioc};
};


http::request<http::string_body> make_request(std::string_view method, const std::string& target,
                                              const std::optional<Json>& body,
                                              const std::string& raw_body,
                                              const std::string& content_type) {
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, "silo");
  req.set(http::field::user_agent, "silo-cli/" SILO_VERSION);
  if (body) {
    req.set(http::field::content_type, "application/json");
    req.body() = body->dump();
  } else if (!raw_body.empty() || !content_type.empty()) {
    req.set(http::field::content_type, content_type.empty() ? "application/x-tar" : content_type);
    req.body() = raw_body;
  }
  req.prepare_payload();
  return req;
}

template <class Body>
void copy_headers(const http::response<Body>& res, HttpResponse& out) {
  out.status = static_cast<int>(res.result_int());
  for (const auto& f : res) out.headers[lower(std::string(f.name_string()))] = f.value();
}

// Connects to the daemon's socket and sends `req`.
Status send_request(Conn& c, const std::string& socket_path, const std::string& host,
                    const http::request<http::string_body>& req) {
  boost::system::error_code ec;
  c.sock.connect(asio::local::stream_protocol::endpoint(socket_path), ec);
  if (!ec) http::write(c.sock, req, ec);
  if (ec) return std::unexpected(unreachable(host));
  return {};
}

// Reads the status line and headers of the answer to `path` into `head`.
template <class Parser>
Status read_head(Conn& c, beast::flat_buffer& buf, Parser& p, const std::string& path,
                 HttpResponse& head) {
  boost::system::error_code ec;
  p.body_limit(kNoLimit);
  http::read_header(c.sock, buf, p, ec);
  if (ec)
    return fail(Code::Unavailable, "read the daemon's answer to " + path + ": " + ec.message());
  copy_headers(p.get(), head);
  return {};
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

Result<std::string> resolve_host(const std::string& flag_value) {
  std::string h = flag_value;
  if (h.empty()) {
    if (const char* e = std::getenv("SILO_HOST"); e && *e) h = e;
  }
  if (h.empty()) {
    if (const char* e = std::getenv("DOCKER_HOST"); e && *e) h = e;
  }
  if (h.empty()) h = kDefaultHost;
  if (!h.starts_with("unix://") || h.size() <= 7)
    return fail(
        Code::Invalid,
        "invalid host " + h + ": silo speaks only to unix sockets; use -H unix:///path/to.sock");
  return h;
}

std::string daemon_message(const HttpResponse& r) {
  auto j = Json::parse(r.body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("message") && j["message"].is_string())
    return j["message"].get<std::string>();
  std::string b = r.body;
  while (!b.empty() && (b.back() == '\n' || b.back() == '\r')) b.pop_back();
  return b.empty() ? "status " + std::to_string(r.status) : b;
}

Error daemon_error(const HttpResponse& r) {
  Code code = Code::Internal;
  if (r.status == 404) code = Code::NotFound;
  if (r.status == 409) code = Code::Conflict;
  if (r.status == 400) code = Code::Invalid;
  if (r.status == 403) code = Code::Permission;
  return Error{0, code, "Error response from daemon: " + daemon_message(r)};
}

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

Client::Client(std::string host) : host_(std::move(host)) {
  socket_path_ = host_.substr(7);
}

Result<std::string> Client::prefix() {
  if (prefix_) return *prefix_;
  Conn c;
  SILO_TRY(send_request(c, socket_path_, host_, make_request("GET", "/_ping", std::nullopt, {}, {})));
  boost::system::error_code ec;
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(c.sock, buf, res, ec);
  if (ec) return std::unexpected(unreachable(host_));
  std::string v(kClientApiVersion);
  std::string server(res["Api-Version"]);
  // Negotiation as docker's client does it: the lower of the two versions.
  auto num = [](const std::string& s) {
    auto dot = s.find('.');
    if (dot == std::string::npos) return 0;
    return std::atoi(s.substr(0, dot).c_str()) * 1000 + std::atoi(s.substr(dot + 1).c_str());
  };
  if (!server.empty() && num(server) > 0 && num(server) < num(v)) v = server;
  prefix_ = "/v" + v;
  return *prefix_;
}

Result<HttpResponse> Client::call_raw(std::string_view method, const std::string& path,
                                      const std::optional<Json>& body, const std::string& raw_body,
                                      const std::string& content_type) {
  auto pre = prefix();
  if (!pre) return std::unexpected(pre.error());
  Conn c;
  SILO_TRY(send_request(c, socket_path_, host_,
                        make_request(method, *pre + path, body, raw_body, content_type)));
  boost::system::error_code ec;
  beast::flat_buffer buf;
  http::response_parser<http::string_body> p;
  p.body_limit(kNoLimit);
  if (method == "HEAD") p.skip(true);
  http::read(c.sock, buf, p, ec);
  if (ec)
    return fail(Code::Unavailable, "read the daemon's answer to " + std::string(method) + " " +
                                       path + ": " + ec.message());
  HttpResponse out;
  copy_headers(p.get(), out);
  out.body = std::move(p.get().body());
  return out;
}

Result<HttpResponse> Client::call(std::string_view method, const std::string& path,
                                  const std::optional<Json>& body) {
  auto r = call_raw(method, path, body);
  if (!r) return r;
  if (r->status < 200 || r->status >= 400) return std::unexpected(daemon_error(*r));
  return r;
}

Status Client::stream(std::string_view method, const std::string& path,
                      const std::optional<Json>& body,
                      const std::function<bool(std::string_view)>& on_data,
                      const std::string& raw_body, const std::string& content_type) {
  auto pre = prefix();
  if (!pre) return std::unexpected(pre.error());
  Conn c;
  auto req = make_request(method, *pre + path, body, raw_body, content_type);
  for (const auto& [name, value] : stream_headers_) req.set(name, value);
  SILO_TRY(send_request(c, socket_path_, host_, std::move(req)));
  boost::system::error_code ec;
  beast::flat_buffer buf;
  http::response_parser<http::buffer_body> p;
  HttpResponse head;
  SILO_TRY(read_head(c, buf, p, path, head));
  bool ok = head.status >= 200 && head.status < 400;
  std::string collected;
  char tmp[65536];
  while (!p.is_done()) {
    p.get().body().data = tmp;
    p.get().body().size = sizeof tmp;
    // read_some: hand each piece on as it arrives (http::read would wait for the end).
    http::read_some(c.sock, buf, p, ec);
    if (ec == http::error::need_buffer) ec = {};
    size_t n = sizeof tmp - p.get().body().size;
    if (n > 0) {
      if (!ok) {
        collected.append(tmp, n);
      } else if (!on_data(std::string_view(tmp, n))) {
        return {};
      }
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof) break;
    if (ec) return fail(Code::Unavailable, "read the stream of " + path + ": " + ec.message());
  }
  if (!ok) {
    head.body = collected;
    return std::unexpected(daemon_error(head));
  }
  return {};
}

Result<Hijacked> Client::hijack(const std::string& path, const std::optional<Json>& body) {
  auto pre = prefix();
  if (!pre) return std::unexpected(pre.error());
  Conn c;
  auto req = make_request("POST", *pre + path, body, {}, {});
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::upgrade, "tcp");
  SILO_TRY(send_request(c, socket_path_, host_, req));
  boost::system::error_code ec;
  beast::flat_buffer buf;
  http::response_parser<http::string_body> p;
  HttpResponse head;
  SILO_TRY(read_head(c, buf, p, path, head));
  if (head.status >= 400) {
    http::read(c.sock, buf, p, ec);
    head.body = p.get().body();
    return std::unexpected(daemon_error(head));
  }
  Hijacked h;
  auto data = buf.data();
  h.leftover.assign(static_cast<const char*>(data.data()), data.size());
  // The connection outlives the io_context: keep a duplicate and let Asio close its own.
  h.fd = UniqueFd(::fcntl(c.sock.native_handle(), F_DUPFD_CLOEXEC, 0));
  if (!h.fd) return fail_errno(errno, "duplicate the attach connection");
  return h;
}

namespace {

// Returns once the response head has arrived on `fd`, consuming nothing (MSG_PEEK):
// finish() then reads the whole answer. A closed connection returns at once too (finish
// reports it).
Status wait_for_head(int fd, const std::string& path) {
  char buf[16384];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, 60000);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return fail(Code::Unavailable, "the daemon did not answer " + path + " in 60 s");
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_PEEK);
    if (n <= 0 || n == static_cast<ssize_t>(sizeof buf)) return {};
    if (std::string_view(buf, static_cast<size_t>(n)).find("\r\n\r\n") != std::string_view::npos)
      return {};
    ::usleep(1000);  // part of the head: the peeked bytes stay readable, so poll would spin
  }
}

}  // namespace

Result<UniqueFd> Client::send(std::string_view method, const std::string& path) {
  auto pre = prefix();
  if (!pre) return std::unexpected(pre.error());
  Conn c;
  SILO_TRY(send_request(c, socket_path_, host_,
                        make_request(method, *pre + path, std::nullopt, {}, {})));
  // As docker's client: the call returns with the head, so the daemon has taken the
  // request in (a wait is armed before the start that follows it).
  SILO_TRY(wait_for_head(c.sock.native_handle(), path));
  UniqueFd fd(::fcntl(c.sock.native_handle(), F_DUPFD_CLOEXEC, 0));
  if (!fd) return fail_errno(errno, "duplicate the connection");
  return fd;
}

Result<HttpResponse> Client::finish(UniqueFd conn) {
  asio::io_context ioc;
  Socket sock(ioc);
  boost::system::error_code ec;
  sock.assign(asio::local::stream_protocol(), conn.release(), ec);
  if (ec) return fail(Code::Internal, "adopt the connection: " + ec.message());
  beast::flat_buffer buf;
  http::response_parser<http::string_body> p;
  p.body_limit(kNoLimit);
  http::read(sock, buf, p, ec);
  if (ec) return fail(Code::Unavailable, "read the daemon's answer: " + ec.message());
  HttpResponse out;
  copy_headers(p.get(), out);
  out.body = std::move(p.get().body());
  if (out.status < 200 || out.status >= 400) return std::unexpected(daemon_error(out));
  return out;
}

}  // namespace silo::cli
