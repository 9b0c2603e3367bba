#pragma once
// The Engine API client of `silo`: HTTP/1.1 over a unix socket (Boost.Beast on Asio's
// local::stream_protocol), one connection per call. Plain calls, chunked streams (logs -f,
// events, stats) and the hijacked attach/exec stream (101 UPGRADED).

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/fd.h"
#include "common/json.h"

namespace silo::cli {

// The socket silo talks to when neither -H nor DOCKER_HOST/SILO_HOST says otherwise.
inline constexpr std::string_view kDefaultHost = "unix:///run/silo/silo.sock";
// The newest API version this client speaks.
inline constexpr std::string_view kClientApiVersion = "1.41";

// A complete response.
struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  // The header's value, "" when absent (`name` lower-case).
  [[nodiscard]] std::string header(const std::string& name) const;
};

// A hijacked connection: the raw socket and any bytes read past the response header.
struct Hijacked {
  UniqueFd fd;
  std::string leftover;
};

// Picks the host: the -H value when given, then SILO_HOST, then DOCKER_HOST, then the
// default. Invalid error for a scheme other than unix://.
[[nodiscard]] Result<std::string> resolve_host(const std::string& flag_value);

// The text of a daemon error response: its JSON "message", else the body itself.
[[nodiscard]] std::string daemon_message(const HttpResponse& r);

// Talks to one daemon. Errors from the daemon come back with the message docker prints
// ("Error response from daemon: <message>") and a Code from the status (404 NotFound,
// 409 Conflict, 400 Invalid, else Internal); a daemon that cannot be reached is Unavailable.
class Client {
 public:
  // `host` is "unix:///path/to.sock".
  explicit Client(std::string host);

  // One request; the body is sent as JSON when given. Non-2xx statuses are errors.
  [[nodiscard]] Result<HttpResponse> call(std::string_view method, const std::string& path,
                                          const std::optional<Json>& body = std::nullopt);
  // Like call, but returns any status without turning it into an error.
  [[nodiscard]] Result<HttpResponse> call_raw(std::string_view method, const std::string& path,
                                              const std::optional<Json>& body = std::nullopt,
                                              const std::string& raw_body = {},
                                              const std::string& content_type = {});
  // A streamed response: `on_data` gets each piece of the body as it arrives (chunked or
  // not) and returns false to stop early. Non-2xx statuses are errors.
  // `raw_body` (with `content_type`), when given, is sent instead of a JSON body.
  [[nodiscard]] Status stream(std::string_view method, const std::string& path,
                              const std::optional<Json>& body,
                              const std::function<bool(std::string_view)>& on_data,
                              const std::string& raw_body = {},
                              const std::string& content_type = {});
  // Sends the request with "Upgrade: tcp" and returns the raw connection after the
  // daemon's 101 (or 200) answer. Non-2xx statuses are errors.
  [[nodiscard]] Result<Hijacked> hijack(const std::string& path, const std::optional<Json>& body);

  // Sends a request and returns its connection once the answer's head has arrived,
  // without reading it, so that a wait is registered before a start; finish() reads the
  // answer later.
  [[nodiscard]] Result<UniqueFd> send(std::string_view method, const std::string& path);
  // Reads the answer of a request made with send(). Non-2xx statuses are errors.
  [[nodiscard]] Result<HttpResponse> finish(UniqueFd conn);

  // A header field sent with every stream() request (X-Registry-Auth for pull and push).
  void set_stream_header(std::string name, std::string value) {
    stream_headers_[std::move(name)] = std::move(value);
  }

  // "/v1.41" or lower when the daemon's /_ping says it speaks an older version.
  [[nodiscard]] Result<std::string> prefix();
  // The host string this client was made with.
  [[nodiscard]] const std::string& host() const { return host_; }

 private:
  std::string host_;
  std::string socket_path_;
  std::optional<std::string> prefix_;
  std::map<std::string, std::string> stream_headers_;
};

// Converts a non-2xx response into the error docker prints for it.
[[nodiscard]] Error daemon_error(const HttpResponse& r);

// Percent-encodes a query value.
[[nodiscard]] std::string url_encode(std::string_view s);

}  // namespace silo::cli
