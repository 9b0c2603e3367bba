// Container lifecycle routes (create, start, stop, restart, kill, pause, unpause, rename,
// wait, DELETE, inspect, prune). Each handler parses
// the request as dockerd does and calls the engine; status codes follow dockerd
// (201 create, 204 done, 304 already in that state, 404/409 from the engine's errors).

#include <csignal>

#include "api/http.h"
#include "daemon/daemon.h"

namespace silo::daemon {
namespace {

using api::Call;
using api::Response;

std::string ref_of(const Call& c) {
  return std::string(c.req.param("name"));
}

Result<std::optional<int>> timeout_of(const api::Request& req) {
  if (!req.query.has("t") || req.query.get("t").empty()) return std::optional<int>{};
  auto t = req.query.get_int("t", 0);
  if (!t) return std::unexpected(t.error());
  return std::optional<int>(static_cast<int>(*t));
}

bool running(const Context& ctx, const std::string& ref, Result<engine::ContainerRecord>& rec) {
  rec = ctx.engine->get(ref);
  return rec && (rec->state.status == "running" || rec->state.status == "paused" ||
                 rec->state.status == "restarting");
}

Result<Response> create(const Context& ctx, Call& c) {
  auto body = c.req.json_object();
  if (!body) return std::unexpected(body.error());
  auto made = ctx.engine->create(c.req.query.get("name"), *body);
  if (!made) return std::unexpected(made.error());
  return Response::json({{"Id", made->id}, {"Warnings", made->warnings}}, 201);
}

Result<Response> start(const Context& ctx, Call& c) {
  Result<engine::ContainerRecord> rec = fail(Code::NotFound, "");
  if (running(ctx, ref_of(c), rec) && rec->state.status != "restarting")
    return Response::empty(304);
  if (!rec) return std::unexpected(rec.error());
  SILO_TRY(ctx.engine->start(rec->id));
  return Response::empty(204);
}

Result<Response> stop(const Context& ctx, Call& c, bool restart) {
  auto t = timeout_of(c.req);
  if (!t) return std::unexpected(t.error());
  Result<engine::ContainerRecord> rec = fail(Code::NotFound, "");
  bool is_running = running(ctx, ref_of(c), rec);
  if (!rec) return std::unexpected(rec.error());
  if (restart) {
    SILO_TRY(ctx.engine->restart(rec->id, *t, c.req.query.get("signal")));
    return Response::empty(204);
  }
  if (!is_running) return Response::empty(304);
  SILO_TRY(ctx.engine->stop(rec->id, *t, c.req.query.get("signal")));
  return Response::empty(204);
}

Result<Response> wait(const Context& ctx, Call& c) {
  std::string ref = ref_of(c);
  auto rec = ctx.engine->get(ref);
  if (!rec) return std::unexpected(rec.error());
  // Headers go out as soon as the wait is armed, as dockerd's: the CLI asks to wait
  // before it starts the container, and holds the start until it has the headers.
  bool begun = false;
  auto begin = [&c, &begun] {
    if (!begun) (void)c.begin_stream(200, "application/json");
    begun = true;
  };
  auto res = ctx.engine->wait(
      rec->id, c.req.query.get("condition"), [&c] { return c.stopping() || c.client_gone(); }, begin);
  begin();
  Json out;
  if (!res) {
    out = {{"StatusCode", -1}, {"Error", {{"Message", res.error().message}}}};
  } else {
    out = {{"StatusCode", res->status_code},
           {"Error", res->error.empty() ? Json(nullptr) : Json{{"Message", res->error}}}};
  }
  (void)c.write(out.dump() + "\n");
  return Response::empty(200);
}

}  // namespace

Status add_lifecycle_routes(api::Router& router, const Context& ctx) {
  auto add = [&](const char* method, const char* pattern, auto fn) {
    return router.add(method, pattern,
                      [&ctx, fn](Call& c) -> Result<Response> { return fn(ctx, c); });
  };
  auto simple = [&](const char* pattern, auto op) {
    return add("POST", pattern, [op](const Context& cx, Call& c) -> Result<Response> {
      SILO_TRY(op(cx, c));
      return Response::empty(204);
    });
  };
  SILO_TRY(add("POST", "/containers/create", create));
  SILO_TRY(add("POST", "/containers/{name}/start", start));
  SILO_TRY(add("POST", "/containers/{name}/stop",
               [](const Context& cx, Call& c) { return stop(cx, c, false); }));
  SILO_TRY(add("POST", "/containers/{name}/restart",
               [](const Context& cx, Call& c) { return stop(cx, c, true); }));
  SILO_TRY(simple("/containers/{name}/kill", [](const Context& cx, Call& c) {
    return cx.engine->kill(ref_of(c), c.req.query.get("signal"));
  }));
  SILO_TRY(simple("/containers/{name}/pause",
                  [](const Context& cx, Call& c) { return cx.engine->pause(ref_of(c)); }));
  SILO_TRY(simple("/containers/{name}/unpause",
                  [](const Context& cx, Call& c) { return cx.engine->unpause(ref_of(c)); }));
  SILO_TRY(simple("/containers/{name}/rename", [](const Context& cx, Call& c) -> Status {
    std::string name = c.req.query.get("name");
    if (name.empty()) return fail(Code::Invalid, "Neither old nor new names may be empty");
    return cx.engine->rename(ref_of(c), name);
  }));
  SILO_TRY(add("POST", "/containers/{name}/wait", wait));
  SILO_TRY(add("DELETE", "/containers/{name}", [](const Context& cx, Call& c) -> Result<Response> {
    SILO_TRY(
        cx.engine->remove(ref_of(c), c.req.query.get_bool("force"), c.req.query.get_bool("v")));
    return Response::empty(204);
  }));
  SILO_TRY(
      add("GET", "/containers/{name}/json", [](const Context& cx, Call& c) -> Result<Response> {
        auto j = cx.engine->inspect(ref_of(c), c.req.query.get_bool("size"));
        if (!j) return std::unexpected(j.error());
        return Response::json(*j);
      }));
  SILO_TRY(add("POST", "/containers/prune", [](const Context& cx, Call& c) -> Result<Response> {
    auto f = c.req.query.filters();
    if (!f) return std::unexpected(f.error());
    auto j = cx.engine->prune(*f);
    if (!j) return std::unexpected(j.error());
    return Response::json(*j);
  }));
  return {};
}

}  // namespace silo::daemon
