#include "api/wire.h"

#include <ctime>

#include "api/dispatch.h"

namespace silo::api {
namespace wire {

Request request_from_head(const http::request_header<>& head) {
  Request req;
  req.method = std::string(head.method_string());
  req.target = std::string(head.target());
  for (const auto& f : head) req.headers.add(std::string(f.name_string()), std::string(f.value()));
  return req;
}

std::string http_date() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

bool is_parse_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::need_more &&
         ec != http::error::partial_message;
}

}  // namespace wire

Result<Request> parse_request(std::string_view raw, size_t body_limit) {
  namespace http = wire::http;
  http::request_parser<http::string_body> p;
  p.header_limit(1u << 20);
  p.body_limit(body_limit);
  p.eager(true);
  wire::beast::error_code ec;
  while (!p.is_done()) {
    size_t n = p.put(boost::asio::buffer(raw.data(), raw.size()), ec);
    raw.remove_prefix(n);
    if (ec == http::error::need_more) {
      if (!raw.empty() && n > 0) continue;
      // The input ended: a message delimited by EOF completes here, others are cut short.
      ec = {};
      p.put_eof(ec);
      break;
    }
    if (ec) break;
    if (n == 0) break;
  }
  if (ec) return fail(Code::Invalid, "malformed HTTP request: " + ec.message());
  if (!p.is_done()) return fail(Code::Invalid, "malformed HTTP request: incomplete message");
  Request req = wire::request_from_head(p.get().base());
  req.body = std::move(p.get().body());
  return req;
}

}  // namespace silo::api
