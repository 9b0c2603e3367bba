#pragma once
// The Engine API server: HTTP/1.1 over a unix socket (and optionally loopback TCP),
// speaking Docker Engine API v1.41 so the docker CLI and SDKs work unchanged.
//
// Handlers
// --------
// A handler is `Result<Response>(Call&)` (handler.h), registered on a Router:
//
//   Router r;
//   SILO_TRY(r.add("POST", "/containers/{name}/start", [&](Call& c) -> Result<Response> {
//     SILO_TRY(engine.start(c.req.param("name"), c.req.query.get("detachKeys")));
//     return Response::empty(204);
//   }));
//   SILO_TRY(r.add("GET", "/containers/json", [&](Call& c) -> Result<Response> {
//     auto filters = c.req.query.filters();          // {"status":["running"]}
//     if (!filters) return std::unexpected(filters.error());
//     return Response::json(engine.list(c.req.query.get_bool("all"), *filters));
//   }));
//   SILO_TRY(r.add("POST", "/containers/create", [&](Call& c) -> Result<Response> {
//     auto body = c.req.json_object();                // 400 on bad Content-Type / JSON
//     if (!body) return std::unexpected(body.error());
//     ...; return Response::json({{"Id", id}, {"Warnings", Json::array()}}, 201);
//   }));
//   auto server = Server::start(std::move(r), {.unix_path = "/run/silo/docker.sock"});
//
// - Paths match with or without a "/v1.xx" prefix; c.req.version holds the version asked
//   for (1.41 without a prefix). Versions outside [1.12, 1.41] get dockerd's 400 before
//   any handler runs; unknown paths and wrong methods get 404 {"message":"page not found"}.
// - An Error result becomes {"message": e.message} with Invalid 400, NotFound 404,
//   Conflict 409, Permission 403, Unavailable 503, Internal 500. Exceptions never leave a
//   handler: json type errors become 400, anything else 500, and the server keeps serving.
// - Streaming (logs -f, events, stats, pull): c.begin_stream(200, "application/json"),
//   then c.write(line) per message (each is flushed as one chunk); return when write
//   fails or c.stopping(). Multiplexed stdout/stderr frames: stream.h.
// - Attach / exec start: auto h = c.hijack(); then talk raw on h->fd (after h->buffered).
// - Uploads (build, load, archive): add the route with RouteOptions{.stream_body = true}
//   and pull the body with c.read_body(); other routes get the whole body in c.req.body,
//   up to ServerOptions::body_limit (413 beyond it).
// - Clients asking for an API version below 1.24 get errors as text/plain, as dockerd.
// - Handler unit tests need no socket: serve_in_memory(router, request) (dispatch.h).
// - The program must ignore SIGPIPE (silod does): a hijacked fd written after the client
//   left must fail with EPIPE, not kill the daemon. The server's own writes never raise it.
//
// Threads: sockets are read by asio on `io_threads` threads; each request's handler runs
// on a worker thread (a pool that grows on demand up to `max_workers`), so a handler may
// block — a database call, waiting for a container to exit — without stalling others.
// Keep-alive connections cost no thread while idle.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "api/handler.h"
#include "api/router.h"
#include "api/system.h"
#include "common/error.h"

namespace silo::api {

// Where and how to serve.
struct ServerOptions {
  // Unix socket to listen on; empty for none. A stale socket file is removed only when
  // nothing answers on it; an answering one is a Conflict error.
  std::string unix_path;
  // Group to own the socket (mode 0660) when it exists; else root's group is kept.
  std::string socket_group = "silo";
  // Optional TCP listener ("127.0.0.1", port 0 picks a free port). No TLS yet: use only
  // on loopback.
  std::optional<std::string> tcp_host;
  uint16_t tcp_port = 0;
  size_t body_limit = kDefaultBodyLimit;  // buffered request bodies
  size_t header_limit = 1u << 20;         // request line + headers, as Go's default
  unsigned io_threads = 1;
  unsigned max_workers = 256;  // handler threads; requests queue beyond this
  // How long stop() lets running handlers finish before shutting their sockets.
  std::chrono::milliseconds stop_grace{5000};
  VersionInfo version;  // for /version and the Server header
};

class Server {
 public:
  // Binds the listeners, adds the built-in routes (/_ping, /version) unless `router`
  // has them, and starts serving. Errors: Conflict when a live daemon owns the socket,
  // Permission / Invalid from bind, and so on, each naming the address.
  [[nodiscard]] static Result<std::unique_ptr<Server>> start(Router router, ServerOptions options);
  // Stops gracefully (see stop()).
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound TCP port (useful with tcp_port 0); 0 without a TCP listener.
  [[nodiscard]] uint16_t tcp_port() const;
  // Stops accepting, closes idle connections, waits up to stop_grace for handlers, then
  // shuts the remaining sockets (streaming handlers see write errors and stopping())
  // and joins all threads. Removes the unix socket file. Idempotent. Must not be called
  // from a handler; it waits for handlers that never return (it cannot cancel them).
  void stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace silo::api
