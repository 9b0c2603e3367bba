#pragma once
// JSON helpers over nlohmann::json that turn its exceptions into Result values.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "common/error.h"

namespace silo {

using Json = nlohmann::json;

// Parses `text`; the error names `what` ("config.json") and the parser's position.
[[nodiscard]] Result<Json> parse_json(std::string_view text, std::string_view what);

// Reads `key` from object `j` into `out` when present. Wrong type is an Invalid error
// naming `where.key` and the expected type. Missing keys leave `out` unchanged.
template <class T>
[[nodiscard]] Status get_opt(const Json& j, const char* key, T& out, std::string_view where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  try {
    out = it->get<T>();
  } catch (const nlohmann::json::exception& e) {
    return fail(Code::Invalid,
                std::string(where) + "." + key + ": wrong type (" + it->type_name() + ")");
  }
  return {};
}

}  // namespace silo
