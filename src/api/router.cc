#include "api/router.h"

namespace silo::api {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);  // callers pass paths starting with '/'
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

Status Router::add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  if (pattern.empty() || pattern[0] != '/')
    return fail(Code::Invalid, "route " + pattern + ": must start with '/'");
  if (!handler) return fail(Code::Invalid, "route " + pattern + ": no handler");
  Entry e{Route{std::move(method), pattern, std::move(handler), options}, {}};
  for (std::string_view seg : split_path(pattern)) {
    if (seg.empty() || seg.front() != '{') {
      if (seg.find_first_of("{}") != std::string_view::npos)
        return fail(Code::Invalid, "route " + pattern + ": a parameter must be a whole segment");
      e.segments.push_back({Segment::Literal, std::string(seg)});
      continue;
    }
    if (seg.size() < 3 || seg.back() != '}')
      return fail(Code::Invalid, "route " + pattern + ": malformed parameter " + std::string(seg));
    std::string_view name = seg.substr(1, seg.size() - 2);
    Segment::Kind kind = Segment::Param;
    if (size_t colon = name.find(':'); colon != std::string_view::npos) {
      if (name.substr(colon + 1) != ".*")
        return fail(Code::Invalid, "route " + pattern + ": only the .* pattern is supported");
      name = name.substr(0, colon);
      kind = Segment::Rest;
    }
    if (name.empty()) return fail(Code::Invalid, "route " + pattern + ": empty parameter name");
    e.segments.push_back({kind, std::string(name)});
  }
  routes_.push_back(std::move(e));
  return {};
}

bool Router::match_segments(const std::vector<Segment>& pattern, size_t pi,
                            const std::vector<std::string_view>& path, size_t si,
                            std::map<std::string, std::string>& params) {
  for (; pi < pattern.size(); ++pi, ++si) {
    const Segment& seg = pattern[pi];
    if (seg.kind == Segment::Rest) {
      // Greedy like the regexp dockerd compiles: try the longest run of segments first.
      size_t rest_after = pattern.size() - pi - 1;
      if (path.size() < si + 1 + rest_after) return false;
      for (size_t end = path.size() - rest_after; end > si; --end) {
        std::map<std::string, std::string> sub;
        if (!match_segments(pattern, pi + 1, path, end, sub)) continue;
        std::string value;
        for (size_t k = si; k < end; ++k) {
          if (k > si) value += '/';
          value += path[k];
        }
        params[seg.text] = std::move(value);
        params.merge(sub);
        return true;
      }
      return false;
    }
    if (si >= path.size()) return false;
    if (seg.kind == Segment::Literal) {
      if (path[si] != seg.text) return false;
    } else {
      if (path[si].empty()) return false;
      params[seg.text] = std::string(path[si]);
    }
  }
  return si == path.size();
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  RouteMatch m;
  if (path.empty() || path[0] != '/') return m;
  auto segments = split_path(path);
  for (const Entry& e : routes_) {
    std::map<std::string, std::string> params;
    if (!match_segments(e.segments, 0, segments, 0, params)) continue;
    if (e.route.method != method) {
      m.path_matched = true;
      continue;
    }
    m.route = &e.route;
    m.params = std::move(params);
    return m;
  }
  return m;
}

bool Router::has(std::string_view method, std::string_view pattern) const {
  for (const Entry& e : routes_)
    if (e.route.method == method && e.route.pattern == pattern) return true;
  return false;
}

}  // namespace silo::api
