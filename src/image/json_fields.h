#pragma once
// Private to src/image: typed reads of JSON fields that turn a wrong type into an Invalid
// error naming the field, never an exception (the input comes from registries and tars).

#include <string>
#include <string_view>

#include "common/error.h"
#include "common/json.h"
#include "image/digest.h"

namespace silo::image::detail {

inline std::string field(std::string_view where, std::string_view key) {
  return std::string(where) + "." + std::string(key);
}

// An object-valued field (absent or null reads as an empty object).
[[nodiscard]] inline Result<const Json*> object_at(const Json& j, const char* key,
                                                   std::string_view where) {
  static const Json kEmpty = Json::object();
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return &kEmpty;
  if (!it->is_object())
    return fail(Code::Invalid, field(where, key) + ": expected an object, got " + it->type_name());
  return &*it;
}

[[nodiscard]] inline Result<Digest> digest_at(const Json& j, const char* key,
                                              std::string_view where) {
  std::string text;
  SILO_TRY(get_opt(j, key, text, where));
  if (text.empty()) return fail(Code::Invalid, field(where, key) + ": missing");
  auto d = Digest::parse(text);
  if (!d) return wrap(d.error(), field(where, key));
  return d;
}

}  // namespace silo::image::detail
