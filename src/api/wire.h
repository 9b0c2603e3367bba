#pragma once
// Private to src/api: the Beast glue shared by server.cc and wire.cc. Beast is heavy to
// compile, so only these two files include it.

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <string>

#include "api/http.h"

namespace silo::api::wire {

namespace beast = boost::beast;
namespace http = boost::beast::http;

// Method, target and header fields of a parsed request head.
[[nodiscard]] Request request_from_head(const http::request_header<>& head);

// The current time as an HTTP Date value ("Mon, 23 Nov 2026 10:00:00 GMT").
[[nodiscard]] std::string http_date();

// True when `ec` is a malformed-request error from Beast's parser (answered with 400).
[[nodiscard]] bool is_parse_error(const beast::error_code& ec);

}  // namespace silo::api::wire
