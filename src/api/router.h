#pragma once
// Method + path pattern routing, as dockerd's gorilla/mux table does it.
//
// Patterns are literal segments and parameters: "{name}" matches one non-empty segment
// (no '/'); "{name:.*}" matches one or more segments joined by '/', for image names such
// as "docker.io/library/alpine" ("/images/{name:.*}/json"). Routes are tried in the
// order they were added; the first whose method and path both match wins.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "api/handler.h"

namespace silo::api {

struct Route {
  std::string method;   // "GET", "POST", ...
  std::string pattern;  // "/containers/{name}/start"
  Handler handler;
  RouteOptions options;
};

// The result of matching a request against the table.
struct RouteMatch {
  const Route* route = nullptr;  // null when nothing matched
  std::map<std::string, std::string> params;
  bool path_matched = false;  // some route matched the path, with another method
};

class Router {
 public:
  // Adds a route. A malformed pattern (not starting with '/', an unclosed '{', an empty
  // parameter name) is a programming error and returns Invalid.
  [[nodiscard]] Status add(std::string method, std::string pattern, Handler handler,
                           RouteOptions options = {});
  // Finds the route for `method` and a decoded, version-less `path`. As in dockerd, HEAD
  // matches only routes added for HEAD.
  [[nodiscard]] RouteMatch match(std::string_view method, std::string_view path) const;
  [[nodiscard]] bool has(std::string_view method, std::string_view pattern) const;
  [[nodiscard]] size_t size() const { return routes_.size(); }

 private:
  struct Segment {
    enum Kind { Literal, Param, Rest } kind;
    std::string text;  // literal text or parameter name
  };
  struct Entry {
    Route route;
    std::vector<Segment> segments;
  };
  static bool match_segments(const std::vector<Segment>& pattern, size_t pi,
                             const std::vector<std::string_view>& path, size_t si,
                             std::map<std::string, std::string>& params);
  std::vector<Entry> routes_;
};

}  // namespace silo::api
