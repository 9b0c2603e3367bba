// Networks: GET /networks, POST /networks/create, GET and DELETE /networks/{id},
// POST /networks/{id}/connect and /disconnect, POST /networks/prune (Docker's API), and
// Silo's static NAT mappings: GET, POST and DELETE /silo/nat. The network service
// (engine/network_service.h) does the work.

#include "api/http.h"
#include "daemon/daemon.h"

namespace silo::daemon {

Status add_network_routes(api::Router& router, const Context& ctx) {
  engine::Engine& e = *ctx.engine;
  SILO_TRY(router.add("GET", "/networks", [&e](api::Call& c) -> Result<api::Response> {
    auto f = c.req.query.filters();
    if (!f) return std::unexpected(f.error());
    auto list = e.network_list(*f);
    if (!list) return std::unexpected(list.error());
    return api::Response::json(*list);
  }));
  SILO_TRY(router.add("POST", "/networks/create", [&e](api::Call& c) -> Result<api::Response> {
    auto body = c.req.json_object();
    if (!body) return std::unexpected(body.error());
    auto made = e.network_create(*body);
    if (!made) return std::unexpected(made.error());
    return api::Response::json(*made, 201);
  }));
  SILO_TRY(router.add("POST", "/networks/prune", [&e](api::Call& c) -> Result<api::Response> {
    auto f = c.req.query.filters();
    if (!f) return std::unexpected(f.error());
    auto gone = e.network_prune(*f);
    if (!gone) return std::unexpected(gone.error());
    return api::Response::json(*gone);
  }));
  SILO_TRY(router.add("GET", "/networks/{id}", [&e](api::Call& c) -> Result<api::Response> {
    auto n = e.network_inspect(c.req.param("id"));
    if (!n) return std::unexpected(n.error());
    return api::Response::json(*n);
  }));
  SILO_TRY(router.add("DELETE", "/networks/{id}", [&e](api::Call& c) -> Result<api::Response> {
    SILO_TRY(e.network_remove(c.req.param("id")));
    return api::Response::empty();
  }));
  SILO_TRY(
      router.add("POST", "/networks/{id}/connect", [&e](api::Call& c) -> Result<api::Response> {
        auto body = c.req.json_object();
        if (!body) return std::unexpected(body.error());
        SILO_TRY(e.network_connect(c.req.param("id"), *body));
        return api::Response::empty(200);
      }));
  SILO_TRY(router.add(
      "POST", "/networks/{id}/disconnect", [&e](api::Call& c) -> Result<api::Response> {
        auto body = c.req.json_object();
        if (!body) return std::unexpected(body.error());
        SILO_TRY(e.network_disconnect(c.req.param("id"), *body));
        return api::Response::empty(200);
      }));
  SILO_TRY(router.add("GET", "/silo/nat", [&e](api::Call& c) -> Result<api::Response> {
    auto list = e.nat_list(c.req.query.get("network"));
    if (!list) return std::unexpected(list.error());
    return api::Response::json(*list);
  }));
  SILO_TRY(router.add("POST", "/silo/nat", [&e](api::Call& c) -> Result<api::Response> {
    auto body = c.req.json_object();
    if (!body) return std::unexpected(body.error());
    SILO_TRY(e.nat_add(*body));
    return api::Response::json(Json::object(), 201);
  }));
  return router.add("DELETE", "/silo/nat", [&e](api::Call& c) -> Result<api::Response> {
    std::optional<uint16_t> port;
    if (c.req.query.has("external-port")) {
      auto p = c.req.query.get_int("external-port", 0);
      if (!p) return std::unexpected(p.error());
      if (*p < 1 || *p > 65535)
        return fail(Code::Invalid, "external-port: want a port from 1 to 65535");
      port = static_cast<uint16_t>(*p);
    }
    auto removed = e.nat_remove(c.req.query.get("network"), port, c.req.query.get("protocol"));
    if (!removed) return std::unexpected(removed.error());
    return api::Response::json(*removed);
  });
}

}  // namespace silo::daemon
