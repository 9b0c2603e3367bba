#include "api/dispatch.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/version.h"

namespace silo::api {
namespace {

// The path and query of a request target; absolute-form targets lose scheme and host.
std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  if (target.starts_with("http://") || target.starts_with("https://")) {
    size_t slash = target.find('/', target.find("//") + 2);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  target = target.substr(0, target.find('#'));
  size_t q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

// Collects a handler's output in memory for serve_in_memory.
class MemoryCall : public Call {
 public:
  Status begin_stream(int status, std::string_view content_type) override {
    if (streamed_) return fail(Code::Internal, "stream already started");
    streamed_ = true;
    out_.status = status;
    out_.content_type = std::string(content_type);
    return {};
  }
  Status write(std::string_view data) override {
    if (!streamed_) return fail(Code::Internal, "write before begin_stream");
    out_.body.append(data);
    return {};
  }
  Status end_stream() override { return {}; }
  Result<Hijacked> hijack(std::string_view) override {
    return fail(Code::Invalid, "hijack is not supported in memory");
  }
  Result<size_t> read_body(char* buf, size_t n) override {
    size_t k = std::min(n, req.body.size() - body_pos_);
    std::copy_n(req.body.data() + body_pos_, k, buf);
    body_pos_ += k;
    return k;
  }
  bool stopping() const override { return false; }

  bool streamed_ = false;
  Response out_;

 private:
  size_t body_pos_ = 0;
};

}  // namespace

Response error_response(const Request& req, int status, std::string_view message) {
  // dockerd answers clients older than API 1.24 with plain-text errors.
  if (req.version_given && compare_versions(req.version, "1.24") < 0) {
    Response r = Response::text(std::string(message) + "\n", status);
    r.headers.set("X-Content-Type-Options", "nosniff");
    return r;
  }
  return Response::error(status, message);
}

Dispatch route_request(const Router& router, Request& req) {
  auto [raw_path, raw_query] = split_target(req.target);
  auto path = url_decode(raw_path, false);
  if (!path) return {nullptr, error_response(req, 400, path.error().message)};
  VersionedPath vp = split_version(*path);
  req.version_given = vp.version.has_value();
  req.version = vp.version.value_or(std::string(kMaxApiVersion));
  req.path = std::move(vp.path);

  RouteMatch m = router.match(req.method, req.path);
  if (!m.route) return {nullptr, error_response(req, 404, "page not found")};
  if (req.version_given)
    if (auto ok = check_version(req.version); !ok)
      return {nullptr, error_response(req, 400, ok.error().message)};
  auto query = Query::parse(raw_query);
  if (!query) return {nullptr, error_response(req, 400, query.error().message)};
  req.query = std::move(*query);
  req.params = std::move(m.params);
  return {m.route, std::nullopt};
}

Response invoke(const Route& route, Call& call) {
  try {
    Result<Response> r = route.handler(call);
    if (!r) return error_response(call.req, status_for(r.error().code), r.error().message);
    return std::move(*r);
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    if (auto close = what.find("] "); close != std::string::npos) what.erase(0, close + 2);
    return error_response(call.req, 400, "invalid JSON: " + what);
  } catch (const std::exception& e) {
    spdlog::error("api: {} {}: handler threw: {}", call.req.method, call.req.path, e.what());
    return error_response(call.req, 500, std::string("internal error: ") + e.what());
  } catch (...) {
    spdlog::error("api: {} {}: handler threw a non-standard exception", call.req.method,
                  call.req.path);
    return error_response(call.req, 500, "internal error");
  }
}

void add_standard_headers(Headers& h, std::string_view server) {
  h.set("Api-Version", std::string(kMaxApiVersion));
  h.set("Docker-Experimental", "false");
  h.set("Ostype", "linux");
  h.set("Server", std::string(server));
}

Response serve_in_memory(const Router& router, Request req) {
  Dispatch d = route_request(router, req);
  if (d.answer) return std::move(*d.answer);
  MemoryCall call;
  call.req = std::move(req);
  Response r = invoke(*d.route, call);
  if (call.streamed_) return std::move(call.out_);
  return r;
}

}  // namespace silo::api
