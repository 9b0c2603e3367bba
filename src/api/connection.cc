// One client connection: request heads are read asynchronously on an io thread; the
// rest of each request (body, handler, response) runs synchronously on a worker.

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>

#include "api/dispatch.h"
#include "api/server_impl.h"

namespace silo::api::detail {

void set_cloexec(int fd) {
  // Asio opens and accepts without SOCK_CLOEXEC; the daemon spawns shims, which must
  // not inherit API connections.
  int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

namespace {

// Fields every response carries, plus Date.
void add_server_fields(http::fields& f, const std::string& server) {
  Headers h;
  add_standard_headers(h, server);
  for (const auto& [k, v] : h.fields()) f.set(k, v);
  f.set(http::field::date, wire::http_date());
}

// A handler's status as Beast accepts it (it throws beyond 999): 500 for nonsense.
unsigned wire_status(int status) {
  return status >= 100 && status <= 599 ? static_cast<unsigned>(status) : 500u;
}

std::string size_text(size_t n) {
  if (n % (1u << 20) == 0) return std::to_string(n >> 20) + " MiB";
  return std::to_string(n) + " bytes";
}

}  // namespace

void Connection::read_header() {
  if (srv_.stopping) {
    close_socket();
    return;
  }
  head_.emplace();
  head_->header_limit(static_cast<uint32_t>(srv_.opt.header_limit));
  // The body limit depends on the route, known only once the head is parsed. (Not
  // boost::none: Beast 1.74 compares `len > none` as true and refuses every body.)
  head_->body_limit(kNoLimit);
  continue_sent_ = false;
  http::async_read_header(
      sock_, buf_, *head_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
}

void Connection::on_header(const beast::error_code& ec) {
  if (ec && !wire::is_parse_error(ec) && ec != http::error::header_limit) {
    close_socket();  // EOF, reset, or shut down by stop()
    return;
  }
  {
    std::lock_guard lock(srv_.busy_mu);
    ++srv_.busy;
  }
  busy_ = true;
  srv_.pool.submit([self = shared_from_this(), ec] {
    try {
      if (ec)
        self->reject(ec);
      else
        self->serve();
    } catch (const std::exception& e) {
      // Handlers' exceptions are caught in invoke(); this is the server's own failure
      // (out of memory, say). The connection goes; the daemon stays.
      spdlog::error("api: connection dropped: {}", e.what());
      self->close_socket();
    }
    self->busy_ = false;
    self->srv_.request_done();
  });
}

// A request Beast could not parse: answer as Go's net/http does, then close.
void Connection::reject(const beast::error_code& ec) {
  const bool too_big = ec == http::error::header_limit;
  std::string text = too_big ? "431 Request Header Fields Too Large" : "400 Bad Request";
  std::string out = "HTTP/1.1 " + text +
                    "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n" +
                    text;
  beast::error_code wec;
  asio::write(sock_, asio::buffer(out), wec);
  lingering_close();
}

void Connection::lingering_close() {
  beast::error_code ec;
  sock_.shutdown(asio::socket_base::shutdown_send, ec);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  char buf[16384];
  for (size_t drained = 0; drained < (8u << 20);) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{sock_.native_handle(), POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = ::recv(sock_.native_handle(), buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
  close_socket();
}

bool Connection::expects_continue() const {
  auto it = head_->get().find(http::field::expect);
  return it != head_->get().end() && beast::iequals(it->value(), "100-continue");
}

Status Connection::send_continue_once() {
  if (continue_sent_ || !expect_continue_) return {};
  continue_sent_ = true;
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  beast::error_code ec;
  asio::write(sock_, asio::buffer(kContinue.data(), kContinue.size()), ec);
  if (ec) return fail(Code::Unavailable, "write 100 Continue: " + ec.message());
  return {};
}

Result<std::string> Connection::read_whole_body(size_t limit) {
  if (head_->is_done()) return std::string();
  auto too_large = [limit] {
    return fail(Code::Invalid, "request body is larger than the limit of " + size_text(limit));
  };
  // Refuse an announced length before inviting or reading any of it.
  if (auto len = head_->content_length(); len && *len > limit) return too_large();
  SILO_TRY(send_continue_once());
  http::request_parser<http::string_body> p{std::move(*head_)};
  p.body_limit(limit);
  beast::error_code ec;
  http::read(sock_, buf_, p, ec);
  if (ec == http::error::body_limit) return too_large();
  if (wire::is_parse_error(ec))
    return fail(Code::Invalid, "malformed request body: " + ec.message());
  if (ec) return fail(Code::Unavailable, "read request body: " + ec.message());
  return std::move(p.get().body());
}

void Connection::write_response(Response r, bool head_only, bool keep_alive, unsigned version) {
  http::response<http::string_body> res;
  res.version(version);
  r.status = static_cast<int>(wire_status(r.status));
  res.result(static_cast<unsigned>(r.status));
  add_server_fields(res.base(), srv_.server_value);
  for (const auto& [k, v] : r.headers.fields()) res.set(k, v);
  if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
  const bool no_body = r.status == 204 || r.status == 304 || r.status < 200;
  if (!no_body) res.content_length(r.body.size());
  res.keep_alive(keep_alive);
  beast::error_code ec;
  if (head_only || no_body) {
    http::response_serializer<http::string_body> sr{res};
    http::write_header(sock_, sr, ec);
  } else {
    res.body() = std::move(r.body);
    http::write(sock_, res, ec);
  }
}

void Connection::serve() {
  const auto& head = head_->get();
  const unsigned version = head.version();
  bool keep_alive = head.keep_alive();
  Request req = wire::request_from_head(head);
  const bool head_only = req.method == "HEAD";
  expect_continue_ = expects_continue();
  Dispatch d = route_request(srv_.router, req);
  ConnCall call(*this, version);

  if (d.route && d.route->options.stream_body) {
    call.body_parser.emplace(std::move(*head_));
    call.body_parser->body_limit(kNoLimit);
  } else {
    size_t limit =
        d.route && d.route->options.body_limit ? d.route->options.body_limit : srv_.opt.body_limit;
    auto body = read_whole_body(limit);
    if (!body) {
      // The rest of the request cannot be found in the stream any more: answer, close.
      const Error& e = body.error();
      if (e.code == Code::Invalid)
        write_response(
            Response::error(e.message.starts_with("request body is larger") ? 413 : 400, e.message),
            head_only, false, version);
      lingering_close();
      return;
    }
    req.body = std::move(*body);
  }

  Response resp;
  if (d.answer) {
    resp = std::move(*d.answer);
  } else {
    call.req = std::move(req);
    resp = invoke(*d.route, call);
  }
  if (call.hijacked) return;  // the handler owns the socket now
  if (call.streaming) {
    if (!call.stream_ended) (void)call.end_stream();
    keep_alive = keep_alive && version >= 11 && !call.stream_failed;
  } else {
    keep_alive = keep_alive && !srv_.stopping;
  }
  // Whatever of a streamed upload the handler left unread is drained so the connection
  // can carry the next request; a client that keeps sending is cut off instead.
  if (call.body_parser && !call.body_parser->is_done()) keep_alive = false;
  if (!call.streaming) write_response(std::move(resp), head_only, keep_alive, version);
  if (!keep_alive || srv_.stopping) {
    if (call.body_parser && !call.body_parser->is_done())
      lingering_close();  // the client may still be sending the upload
    else
      close_socket();
    return;
  }
  asio::post(srv_.ioc, [self = shared_from_this()] { self->read_header(); });
}

Status ConnCall::begin_stream(int status, std::string_view content_type) {
  if (streaming || hijacked) return fail(Code::Internal, "response already started");
  http::response<http::empty_body> res;
  res.version(version_);
  res.result(wire_status(status));
  add_server_fields(res.base(), c_.srv_.server_value);
  res.set(http::field::content_type, content_type);
  for (const auto& [name, value] : stream_headers.fields()) res.set(name, value);
  if (version_ >= 11)
    res.chunked(true);
  else
    res.keep_alive(false);  // HTTP/1.0: the body ends when the connection does
  streaming = true;
  beast::error_code ec;
  http::response_serializer<http::empty_body> sr{res};
  http::write_header(c_.sock_, sr, ec);
  if (ec) return io_error(ec, "write response head");
  return {};
}

Status ConnCall::write(std::string_view data) {
  if (!streaming || stream_ended) return fail(Code::Internal, "write outside a stream");
  if (stream_failed) return fail(Code::Unavailable, "client connection closed");
  if (data.empty()) return {};  // an empty chunk would end the stream
  beast::error_code ec;
  if (version_ >= 11)
    asio::write(c_.sock_, http::make_chunk(asio::buffer(data.data(), data.size())), ec);
  else
    asio::write(c_.sock_, asio::buffer(data.data(), data.size()), ec);
  if (ec) return io_error(ec, "write to client");
  return {};
}

// POLLRDHUP (poll(2)): the peer closed or shut down its writing side. Bytes waiting to
// be read (a pipelined request) are not a departure, so POLLIN alone does not count.
bool ConnCall::client_gone() const {
  if (stream_failed) return true;
  std::lock_guard lock(c_.fd_mu_);
  if (c_.fd_ < 0) return true;
  pollfd p{c_.fd_, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

Status ConnCall::end_stream() {
  if (!streaming || stream_ended) return {};
  stream_ended = true;
  if (stream_failed || version_ < 11) return {};
  beast::error_code ec;
  asio::write(c_.sock_, http::make_chunk_last(), ec);
  if (ec) return io_error(ec, "end stream");
  return {};
}

Result<Hijacked> ConnCall::hijack(std::string_view content_type) {
  if (streaming || hijacked) return fail(Code::Internal, "hijack after the response started");
  // As dockerd's attach: 101 only when the client sent an Upgrade header at all.
  std::string head = req.headers.has("Upgrade")
                         ? "HTTP/1.1 101 UPGRADED\r\nContent-Type: " + std::string(content_type) +
                               "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                         : "HTTP/1.1 200 OK\r\nContent-Type: " + std::string(content_type) + "\r\n";
  http::fields f;
  add_server_fields(f, c_.srv_.server_value);
  for (const auto& field : f)
    head += std::string(field.name_string()) + ": " + std::string(field.value()) + "\r\n";
  head += "\r\n";
  beast::error_code ec;
  asio::write(c_.sock_, asio::buffer(head), ec);
  if (ec) return fail(Code::Unavailable, "hijack: write response head: " + ec.message());
  hijacked = true;
  Hijacked out;
  out.buffered = beast::buffers_to_string(c_.buf_.data());
  c_.buf_.consume(c_.buf_.size());
  int fd = c_.release_socket();
  if (fd < 0) return fail(Code::Internal, "hijack: cannot release the socket");
  int flags = ::fcntl(fd, F_GETFL);  // asio left it non-blocking
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  out.fd = UniqueFd(fd);
  return out;
}

Result<size_t> ConnCall::read_body(char* buf, size_t n) {
  if (!body_parser) {  // buffered route: hand out the body already read
    size_t k = std::min(n, req.body.size() - body_pos_);
    std::copy_n(req.body.data() + body_pos_, k, buf);
    body_pos_ += k;
    return k;
  }
  if (n == 0 || body_parser->is_done()) return size_t{0};
  SILO_TRY(c_.send_continue_once());
  while (!body_parser->is_done()) {
    auto& body = body_parser->get().body();
    body.data = buf;
    body.size = n;
    beast::error_code ec;
    http::read_some(c_.sock_, c_.buf_, *body_parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return fail(Code::Unavailable, "read request body: " + ec.message());
    size_t got = n - body.size;
    if (got > 0) return got;
  }
  return size_t{0};
}

}  // namespace silo::api::detail
