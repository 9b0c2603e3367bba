#pragma once
// Private to src/image: helpers shared by the Dockerfile parser's files.

#include <string_view>

#include "common/error.h"

namespace silo::image::detail {

// Invalid: "Dockerfile parse error line <line>: <what>", as the classic builder words it.
[[nodiscard]] std::unexpected<Error> parse_error(int line, std::string_view what);

}  // namespace silo::image::detail
