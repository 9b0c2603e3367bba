#pragma once
// The steps between a parsed request and its handler, shared by the socket server, the
// in-memory server for tests, and the fuzz target.

#include <optional>
#include <string>
#include <string_view>

#include "api/handler.h"
#include "api/http.h"
#include "api/router.h"

namespace silo::api {

// The outcome of routing one request.
struct Dispatch {
  const Route* route = nullptr;    // the handler to run, when `answer` is empty
  std::optional<Response> answer;  // a response given without a handler (404, 400)
};

// Fills req.path, req.version, req.version_given, req.query and req.params from
// req.method and req.target, as dockerd does: route first (404 {"message":"page not
// found"} when no route matches path and method, which is also dockerd's answer to a
// wrong method), then the API version check (400), then the query string (400).
[[nodiscard]] Dispatch route_request(const Router& router, Request& req);

// Runs the route's handler. Never throws: an error Result becomes error_response with its
// mapped status; a nlohmann::json exception (a handler reading client JSON with the
// wrong type) becomes 400; any other exception becomes 500.
[[nodiscard]] Response invoke(const Route& route, Call& call);

// An error answer for `req`: {"message": ...} as application/json, or plain text (as
// dockerd) when the client asked for an API version below 1.24.
[[nodiscard]] Response error_response(const Request& req, int status, std::string_view message);

// Adds the fields dockerd puts on every response: Api-Version, Docker-Experimental,
// Ostype, Server.
void add_standard_headers(Headers& h, std::string_view server);

// Serves `req` (method, target, headers, body set) without a socket: route, invoke, and
// collect any streamed output into the body. Hijack is refused. For handler tests.
[[nodiscard]] Response serve_in_memory(const Router& router, Request req);

// Parses one raw HTTP/1.x request (head and body, Content-Length or chunked) with the
// same parser and limits as the server; Invalid error naming the parse failure.
[[nodiscard]] Result<Request> parse_request(std::string_view raw,
                                            size_t body_limit = kDefaultBodyLimit);

}  // namespace silo::api
