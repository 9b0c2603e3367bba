#include "common/json.h"

namespace silo {

Result<Json> parse_json(std::string_view text, std::string_view what) {
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return fail(Code::Invalid, std::string(what) + ": invalid JSON at byte " +
                                   std::to_string(e.byte) + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {
    // Not a syntax error but still bad input, e.g. a number out of range ("1e999").
    return fail(Code::Invalid, std::string(what) + ": invalid JSON: " + e.what());
  }
}

}  // namespace silo
