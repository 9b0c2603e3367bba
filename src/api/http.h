#pragma once
// Plain HTTP request and response values for Engine API handlers: no Beast types here,
// so handlers and their tests compile without the HTTP library.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace silo::api {

// Header fields in arrival order; names compare case-insensitively.
class Headers {
 public:
  // Appends a field (repeated names are kept).
  void add(std::string name, std::string value);
  // Replaces every field named `name` with one field.
  void set(std::string name, std::string value);
  // The first value of `name`, or nullopt.
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;
  [[nodiscard]] bool has(std::string_view name) const { return get(name).has_value(); }
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& fields() const {
    return fields_;
  }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// Docker's `filters` query parameter: filter name -> values.
using Filters = std::map<std::string, std::vector<std::string>>;

// Parses a `filters` value. Accepts the current form {"label":{"a=b":true}} and the
// legacy form {"label":["a=b"]}; "" gives no filters. Invalid error on anything else.
[[nodiscard]] Result<Filters> parse_filters(std::string_view json_text);

// Decoded URL query parameters (application/x-www-form-urlencoded), repeats kept in order.
class Query {
 public:
  // Parses "a=1&b=x%20y&b=z"; an invalid %-escape is an Invalid error, as Go's ParseForm.
  [[nodiscard]] static Result<Query> parse(std::string_view raw);

  [[nodiscard]] bool has(std::string_view key) const;
  // The first value of `key`, "" when absent (Go's FormValue).
  [[nodiscard]] std::string get(std::string_view key) const;
  // Every value of `key`, in order.
  [[nodiscard]] std::vector<std::string> get_all(std::string_view key) const;
  // dockerd's BoolValue: false for absent, "", "0", "no", "false", "none" (any case);
  // true for anything else.
  [[nodiscard]] bool get_bool(std::string_view key) const;
  // dockerd's BoolValueOrDefault: `def` when the key is absent or empty.
  [[nodiscard]] bool get_bool_or(std::string_view key, bool def) const;
  // An integer parameter; `def` when absent or empty, Invalid error when not a number.
  [[nodiscard]] Result<int64_t> get_int(std::string_view key, int64_t def) const;
  // The `filters` parameter parsed by parse_filters.
  [[nodiscard]] Result<Filters> filters() const { return parse_filters(get("filters")); }
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& items() const {
    return items_;
  }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Decodes %XX escapes (and '+' as space when `form`); Invalid error on a bad escape.
[[nodiscard]] Result<std::string> url_decode(std::string_view s, bool form);

// The default limit on a buffered request body.
inline constexpr size_t kDefaultBodyLimit = 64u << 20;

// One request as a handler sees it.
struct Request {
  std::string method;          // "GET"
  std::string target;          // raw request target, "/v1.41/containers/json?all=1"
  std::string path;            // decoded route path without the version prefix, "/containers/json"
  std::string version;         // API version asked for, or kMaxApiVersion when the path has none
  bool version_given = false;  // the path carried a /vX.Y prefix
  std::map<std::string, std::string> params;  // path parameters, "name" -> "web"
  Query query;
  Headers headers;
  std::string body;  // whole body for buffered routes; empty for streamed-body routes

  // A path parameter ("" when the route has none by that name).
  [[nodiscard]] std::string_view param(std::string_view name) const;
  // True when the client asked for at least API version `v` (for version-gated fields).
  [[nodiscard]] bool version_at_least(std::string_view v) const;
  // Checks Content-Type as dockerd's CheckForJSON (absent is fine for an empty body).
  [[nodiscard]] Status check_json_content_type() const;
  // Checks the Content-Type and parses the body. Errors are Invalid with dockerd-like
  // messages: "invalid JSON: got EOF while reading request body", "invalid JSON: ...".
  [[nodiscard]] Result<Json> json() const;
  // As json(), but the body must be a JSON object; an empty body gives `{}` when
  // `empty_ok` (dockerd accepts an empty body for e.g. POST /containers/{id}/start).
  [[nodiscard]] Result<Json> json_object(bool empty_ok = false) const;
};

// The HTTP status for an error code: Invalid 400, NotFound 404, Conflict 409,
// Permission 403, Unavailable 503, Internal 500.
[[nodiscard]] int status_for(Code code);

// A complete (non-streamed) response.
struct Response {
  int status = 200;
  std::string content_type;  // empty: no Content-Type header
  std::string body;
  Headers headers;  // extra fields; the server adds Api-Version, Server, Date, ...

  // `j` encoded as dockerd's json.Encoder does (compact, trailing newline).
  [[nodiscard]] static Response json(const Json& j, int status = 200);
  [[nodiscard]] static Response text(std::string body, int status = 200);
  // A response with no body (204 by default).
  [[nodiscard]] static Response empty(int status = 204);
  // {"message": ...} with the status from status_for(e.code).
  [[nodiscard]] static Response error(const Error& e);
  // {"message": ...} with an explicit status.
  [[nodiscard]] static Response error(int status, std::string_view message);
};

}  // namespace silo::api
