#pragma once
// The interface between the HTTP server and the code that answers requests.
// See server.h for how handlers are registered and what the server does around them.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "api/http.h"
#include "common/error.h"
#include "common/fd.h"

namespace silo::api {

// A connection taken over by a handler (attach, exec start): the socket, in blocking
// mode, and any bytes the client sent after the request that the server had already read.
struct Hijacked {
  UniqueFd fd;
  std::string buffered;  // to be consumed before reading from `fd`
};

// One request in flight: the parsed request plus the ways a handler can answer besides
// returning a Response. Implemented by the server; tests may implement it with a fake.
// A Call is used from the handler's thread only and is valid until the handler returns.
class Call {
 public:
  virtual ~Call() = default;

  // The request; the handler may move the body out of it.
  Request req;
  // Extra header fields begin_stream() sends with the response head (GET archive's
  // X-Docker-Container-Path-Stat); set them before calling it.
  Headers stream_headers;

  // Starts a chunked response (logs -f, events, stats, pull progress) with `status` and
  // `content_type`. After this the Response a handler returns is ignored. Unavailable
  // error when the client has gone away.
  [[nodiscard]] virtual Status begin_stream(int status, std::string_view content_type) = 0;
  // Sends `data` as one chunk and flushes it; Unavailable once the client has gone away
  // or the server is stopping (a streaming handler should then return).
  [[nodiscard]] virtual Status write(std::string_view data) = 0;
  // Ends the chunked response. Optional: the server ends it when the handler returns.
  [[nodiscard]] virtual Status end_stream() = 0;

  // Takes over the connection as dockerd's attach does: writes "HTTP/1.1 101 UPGRADED"
  // with Content-Type application/vnd.docker.raw-stream, Connection: Upgrade and
  // Upgrade: tcp when the request asked to upgrade, else "200 OK" with the same
  // Content-Type, then gives the socket to the caller, who may keep it past the handler's
  // return; the server forgets the connection (stop() does not close it). Internal error
  // after begin_stream.
  [[nodiscard]] virtual Result<Hijacked> hijack(
      std::string_view content_type = "application/vnd.docker.raw-stream") = 0;

  // Reads up to `n` bytes of the request body for routes with RouteOptions::stream_body
  // (tar uploads); 0 at the end of the body. Chunked bodies arrive de-chunked.
  [[nodiscard]] virtual Result<size_t> read_body(char* buf, size_t n) = 0;

  // True once the server is stopping; long-running handlers should wind down.
  [[nodiscard]] virtual bool stopping() const = 0;
  // True once the client closed or shut down its side of the connection (a docker
  // CLI ended with Ctrl-C): a handler that waits or streams should return, instead of
  // learning it only at its next write. Does not consume request bytes.
  [[nodiscard]] virtual bool client_gone() const { return false; }
};

// Answers a request: return a Response (or an Error, sent as {"message": ...} with the
// mapped status), or stream/hijack through the Call and return any Response.
using Handler = std::function<Result<Response>(Call&)>;

// Per-route behaviour.
struct RouteOptions {
  // The body is not buffered: the handler reads it with Call::read_body (build, load,
  // import, archive upload). No size limit applies.
  bool stream_body = false;
  // Limit on a buffered body; 0 means the server's limit (ServerOptions::body_limit).
  size_t body_limit = 0;
};

}  // namespace silo::api
