#pragma once
// Container names as Docker has them: validation and random "adjective_surname" names.

#include <string>
#include <string_view>

#include "common/error.h"

namespace silo::engine {

// Checks a user-given container name (with or without the leading '/') against Docker's
// pattern ^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$. Errors: Invalid, with Docker's message
// "Invalid container name (x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed".
[[nodiscard]] Status validate_container_name(std::string_view name);
// The stored form of a name: without the leading '/'.
std::string_view strip_name_slash(std::string_view name);
// A random "adjective_surname" name. When `retry` > 0 a random digit is appended, as
// Docker does after a collision, to widen the space.
std::string random_name(int retry = 0);

}  // namespace silo::engine
