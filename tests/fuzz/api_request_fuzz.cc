// Fuzz target for the Engine API request path: raw bytes go through the HTTP parser the
// server uses, the version/route/query steps, a handler that parses the JSON body and
// the filters, and the error mapping. Invariants checked: nothing throws or crashes;
// every response has a status in 100..599; every JSON response body parses.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/dispatch.h"
#include "api/router.h"
#include "api/stream.h"
#include "api/system.h"

namespace {

using silo::Result;
using namespace silo::api;

Result<Response> echo_json(Call& c) {
  auto body = c.req.json_object(/*empty_ok=*/true);
  if (!body) return std::unexpected(body.error());
  std::string image;
  SILO_TRY(silo::get_opt(*body, "Image", image, "Config"));
  auto filters = c.req.query.filters();
  if (!filters) return std::unexpected(filters.error());
  auto limit = c.req.query.get_int("limit", -1);
  if (!limit) return std::unexpected(limit.error());
  return Response::json({{"Image", image},
                         {"filters", *filters},
                         {"limit", *limit},
                         {"name", c.req.param("name")},
                         {"all", c.req.query.get_bool("all")}});
}

Result<Response> stream_frames(Call& c) {
  SILO_TRY(c.begin_stream(200, "application/vnd.docker.raw-stream"));
  std::string frames;
  append_mux_frame(frames, StdStream::Stdout, c.req.body);
  append_mux_frame(frames, StdStream::Stderr, c.req.target);
  SILO_TRY(c.write(frames));
  MuxDecoder d;
  d.feed(frames);
  while (true) {
    auto f = d.next();
    if (!f || !*f) break;
  }
  return Response{};
}

const Router& router() {
  static const Router r = [] {
    Router r;
    auto must = [](silo::Status s) {
      if (!s) std::abort();
    };
    must(r.add("POST", "/containers/create", echo_json));
    must(r.add("POST", "/containers/{name}/start", echo_json));
    must(r.add("GET", "/containers/json", echo_json));
    must(r.add("GET", "/images/{name:.*}/json", echo_json));
    must(r.add("POST", "/containers/{name}/attach", stream_frames));
    must(r.add(
        "POST", "/build",
        [](Call& c) -> Result<Response> {
          char buf[512];
          size_t total = 0;
          while (true) {
            auto n = c.read_body(buf, sizeof buf);
            if (!n) return std::unexpected(n.error());
            if (*n == 0) break;
            total += *n;
          }
          return Response::json({{"bytes", total}});
        },
        RouteOptions{.stream_body = true}));
    must(add_system_routes(r, VersionInfo{}));
    return r;
  }();
  return r;
}

void check(const Response& r) {
  if (r.status < 100 || r.status > 599) std::abort();
  if (r.content_type == "application/json" && !silo::Json::accept(r.body)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  // The same bytes as a filters value and as a query string exercise those parsers alone.
  (void)parse_filters(raw);
  (void)Query::parse(raw);
  auto req = parse_request(raw, 1u << 20);
  if (!req) return 0;
  (void)req->json();
  check(serve_in_memory(router(), *req));
  return 0;
}
