#pragma once
// Engine API version negotiation, as dockerd does it: a request path may carry a
// "/v<digits and dots>" prefix; without one the request is served at the default version.

#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace silo::api {

// Oldest API version served (dockerd 20.10's MinAPIVersion).
inline constexpr std::string_view kMinApiVersion = "1.12";
// Newest and default API version (Docker 20.10).
inline constexpr std::string_view kMaxApiVersion = "1.41";

// Compares dotted versions component by component as dockerd's versions.compare does
// ("1.9" < "1.10", missing components count as 0). Returns <0, 0 or >0.
[[nodiscard]] int compare_versions(std::string_view a, std::string_view b);

// A request path split into its optional version prefix and the route path.
struct VersionedPath {
  std::optional<std::string> version;  // "1.41" for "/v1.41/...", nullopt when absent
  std::string path;                    // "/containers/json"
};

// Splits "/v1.41/containers/json" into {"1.41", "/containers/json"}. Paths without a
// prefix (or with one not made of digits and dots) come back unchanged.
[[nodiscard]] VersionedPath split_version(std::string_view path);

// Checks a requested version against [kMinApiVersion, kMaxApiVersion]; Invalid errors
// carry dockerd's exact messages ("client version 1.50 is too new. ...").
[[nodiscard]] Status check_version(std::string_view version);

}  // namespace silo::api
