#pragma once
// Container and object ids.

#include <string>
#include <string_view>

#include "common/error.h"

namespace silo {

// A new random id: 64 lowercase hex characters, as Docker's.
std::string new_id();
// Checks a user-given id/name: 1-1024 chars of [A-Za-z0-9_+.-], not starting with '.' or '-'.
[[nodiscard]] Status validate_id(std::string_view id);

}  // namespace silo
