#pragma once
// The HTTP seam of the registry client: one request in, one response out. The real one is
// libcurl (make_curl_transport); unit tests put a fake registry behind this interface.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "image/blob_store.h"

namespace silo::image {

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, POST, PUT, PATCH, DELETE
  std::string url;             // absolute: scheme://host[:port]/path?query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent as is unless open_body is set
  // A streamed body of body_size bytes; called once per send, so a retry re-reads from the
  // start (e.g. a blob file opened again).
  std::function<Result<ReadFn>()> open_body;
  uint64_t body_size = 0;
  bool tls_verify = true;  // false only for an https try at an insecure registry
  std::string ca_file;     // extra CA bundle trusted for this request ("" = system CAs)
};

struct HttpResponse {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // names lowercased
  std::string body;                                 // the body, unless a BodySink took it
  std::string url;                                  // the last URL, after redirects

  // The first value of header `name` (lowercase), "" when absent.
  std::string header(std::string_view name) const;
};

// Takes the body of a 2xx response chunk by chunk; `head` has status and headers. An error
// aborts the transfer and is what send() returns.
using BodySink = std::function<Status(const HttpResponse& head, std::string_view chunk)>;

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends `req`, following redirects. A response with any status is a success; errors are
  // for transfers that did not complete: Unavailable with the host and the cause
  // ("connect to 127.0.0.1:5000: Connection refused"), or the sink's own error. Messages for
  // an HTTP answer on an https request contain "server gave HTTP response to HTTPS client",
  // and for an untrusted certificate "certificate is not trusted". Thread-safe.
  [[nodiscard]] virtual Result<HttpResponse> send(const HttpRequest& req,
                                                  const BodySink& sink = {}) = 0;
};

struct CurlOptions {
  // curl --resolve entries "host:port:address": pin a name to an address without DNS (tests
  // give a loopback registry a name its TLS certificate can carry).
  std::vector<std::string> resolve;
  long connect_timeout_s = 30;
  // A transfer slower than 1 byte/s for this long is abandoned (a stalled registry).
  long low_speed_time_s = 60;
  std::string user_agent = "silo";
};

// libcurl behind Transport. Each send uses its own easy handle, so calls from several
// threads run in parallel.
[[nodiscard]] std::unique_ptr<Transport> make_curl_transport(CurlOptions options = {});

}  // namespace silo::image
