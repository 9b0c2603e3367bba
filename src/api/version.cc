#include "api/version.h"

#include <charconv>

namespace silo::api {
namespace {

// One dotted component as Go's strconv.Atoi would give it to versions.compare: anything
// unparsable counts as 0 (dockerd ignores the error).
long component(std::string_view s) {
  long v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return 0;
  return v;
}

std::string_view next_component(std::string_view& rest) {
  size_t dot = rest.find('.');
  std::string_view head = rest.substr(0, dot);
  rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  return head;
}

}  // namespace

int compare_versions(std::string_view a, std::string_view b) {
  bool a_more = !a.empty(), b_more = !b.empty();
  while (a_more || b_more) {
    long x = a_more ? component(next_component(a)) : 0;
    long y = b_more ? component(next_component(b)) : 0;
    if (x != y) return x < y ? -1 : 1;
    a_more = !a.empty();
    b_more = !b.empty();
  }
  return 0;
}

VersionedPath split_version(std::string_view path) {
  // dockerd's route matcher is "/v{version:[0-9.]+}" followed by the route path.
  if (path.size() < 3 || path[0] != '/' || path[1] != 'v') return {std::nullopt, std::string(path)};
  size_t i = 2;
  while (i < path.size() && (path[i] == '.' || (path[i] >= '0' && path[i] <= '9'))) ++i;
  if (i == 2 || i == path.size() || path[i] != '/') return {std::nullopt, std::string(path)};
  return {std::string(path.substr(2, i - 2)), std::string(path.substr(i))};
}

Status check_version(std::string_view version) {
  if (compare_versions(version, kMinApiVersion) < 0)
    return fail(Code::Invalid, "client version " + std::string(version) +
                                   " is too old. Minimum supported API version is " +
                                   std::string(kMinApiVersion) +
                                   ", please upgrade your client to a newer version");
  if (compare_versions(version, kMaxApiVersion) > 0)
    return fail(Code::Invalid, "client version " + std::string(version) +
                                   " is too new. Maximum supported API version is " +
                                   std::string(kMaxApiVersion));
  return {};
}

}  // namespace silo::api
