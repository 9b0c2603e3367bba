// POST /build: the classic builder (build.h) behind dockerd's query parameters; the body is
// the build context, a tar (plain or compressed) as `docker build` sends it.

#include "api/http.h"
#include "common/guards.h"
#include "common/log.h"
#include "common/sys.h"
#include "daemon/build.h"
#include "daemon/registry_progress.h"
#include "image/dockerfile.h"
#include "image/reference.h"

namespace silo::daemon {
namespace {

using api::Call;
using api::Response;

// buildargs and labels: a JSON object of strings (a null build arg means "from the client's
// environment", which the CLI has already filled in; null is left out here).
Result<std::map<std::string, std::string>> json_map(const api::Query& q, const char* key) {
  std::map<std::string, std::string> out;
  std::string text = q.get(key);
  if (text.empty()) return out;
  auto j = parse_json(text, key);
  if (!j) return std::unexpected(j.error());
  if (j->is_null()) return out;
  if (!j->is_object())
    return fail(Code::Invalid, std::string(key) + ": expected a JSON object of strings");
  for (const auto& [k, v] : j->items()) {
    if (v.is_null()) continue;
    if (!v.is_string())
      return fail(Code::Invalid, std::string(key) + "[" + k + "]: expected a string");
    out[k] = v.get<std::string>();
  }
  return out;
}

Result<BuildOptions> build_options(const api::Query& q) {
  BuildOptions o;
  for (const auto& t : q.get_all("t")) {
    if (t.empty()) continue;
    auto r = image::parse_reference(t);
    if (!r) return fail(Code::Invalid, "invalid tag " + t + ": " + r.error().message);
    if (r->digest) return fail(Code::Invalid, "invalid tag " + t + ": a tag cannot be a digest");
    o.tags.push_back(t);
  }
  auto args = json_map(q, "buildargs");
  if (!args) return std::unexpected(args.error());
  o.build_args = std::move(*args);
  auto labels = json_map(q, "labels");
  if (!labels) return std::unexpected(labels.error());
  o.labels = std::move(*labels);
  o.target = q.get("target");
  o.no_cache = q.get_bool("nocache");
  o.rm = q.get_bool_or("rm", true);
  o.force_rm = q.get_bool("forcerm");
  o.quiet = q.get_bool("q");
  o.pull = q.get_bool("pull");
  o.network_mode = q.get("networkmode");
  if (!q.get("remote").empty())
    return fail(Code::Invalid, "remote build contexts (" + q.get("remote") +
                                   ") are not supported: send the context as a tar");
  return o;
}

Result<Response> build(const Context& ctx, Call& c) {
  auto opts = build_options(c.req.query);
  if (!opts) return std::unexpected(opts.error());
  std::string dockerfile = c.req.query.get("dockerfile");
  if (dockerfile.empty()) dockerfile = "Dockerfile";

  const std::string tmp = ctx.config.root + "/image/tmp";
  SILO_TRY(sys::mkdir_p(tmp, 0700));
  auto dir = ScratchDir::make(tmp, "context");
  if (!dir) return wrap(dir.error(), "build: the context directory");
  auto bctx = image::unpack_context([&c](char* buf, size_t n) { return c.read_body(buf, n); },
                                    dir->path(), dockerfile);
  if (!bctx) return std::unexpected(bctx.error());
  auto df = image::parse_dockerfile(bctx->dockerfile);
  if (!df) return std::unexpected(df.error());

  SILO_TRY(c.begin_stream(200, "application/json"));
  auto write = [&c](const std::string& line) { (void)c.write(line); };
  auto id = run_build(ctx, *bctx, *df, *opts, write, [&c] { return c.client_gone(); });
  if (!id) {
    write(error_line(id.error().message));
    return Response::empty(200);
  }
  for (const auto& t : opts->tags)
    if (auto st = ctx.engine->tag_image(*id, t); !st) {
      write(error_line(st.error().message));
      return Response::empty(200);
    }
  write(go_json_line({{"aux", {{"ID", *id}}}}));
  if (opts->quiet) {
    write(go_json_line({{"stream", *id + "\n"}}));
  } else {
    write(go_json_line({{"stream", "Successfully built " + id->substr(7, 12) + "\n"}}));
    for (const auto& t : opts->tags) {
      auto r = image::parse_reference(t);
      write(
          go_json_line({{"stream", "Successfully tagged " + (r ? r->familiar_str() : t) + "\n"}}));
    }
  }
  return Response::empty(200);
}

}  // namespace

Status add_build_routes(api::Router& router, const Context& ctx) {
  const Context* cx = &ctx;
  return router.add(
      "POST", "/build", [cx](Call& c) { return build(*cx, c); },
      api::RouteOptions{.stream_body = true});
}

}  // namespace silo::daemon
