#pragma once
// Pure helpers of the pull and push routes: dockerd's JSON progress messages
// (jsonmessage.JSONMessage as streamformatter writes them) and the X-Registry-Auth header.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/base64.h"
#include "common/error.h"
#include "engine/engine.h"
#include "image/registry.h"

namespace silo::daemon {

// docker/go-units HumanSize: decimal units, 4 significant digits ("1.24kB", "3.457MB").
[[nodiscard]] std::string human_size(double bytes);
// JSONProgress.String() as dockerd renders it (a 200-column width, no time left):
// "[=====>          ]  1.2MB/3.4MB"; "" when nothing is known.
[[nodiscard]] std::string progress_bar(int64_t current, int64_t total);
// One line of the stream, with its newline. Layer messages carry "progressDetail" ({} or
// current/total) and, while moving, "progress"; '<', '>' and '&' are escaped as Go's
// encoding/json does.
[[nodiscard]] std::string progress_line(const engine::RegistryProgress& p);
// {"status": …} with no id.
[[nodiscard]] std::string status_line(std::string_view status);
// {"errorDetail":{"message":…},"error":…}: an error once the stream has begun.
[[nodiscard]] std::string error_line(std::string_view message);
// A JSON value encoded as Go's json.Encoder writes it (HTML-escaped), with a newline.
[[nodiscard]] std::string go_json_line(const Json& j);

// Credentials from an X-Registry-Auth header: base64 (URL or standard alphabet, padded or
// not) of {"username","password","auth","serveraddress",…}; "auth" is base64 "user:pass".
// nullopt for an empty header or one without a username. Invalid for bad base64 or JSON.
struct RegistryAuth {
  image::Credentials credentials;
  std::string server;  // serveraddress, "" when not given
};
[[nodiscard]] Result<std::optional<RegistryAuth>> decode_registry_auth(std::string_view header);

}  // namespace silo::daemon
