#pragma once
// Private to the store's .cc files: JSON columns in and out of rows.

#include <string>
#include <string_view>

#include "common/error.h"
#include "common/json.h"
#include "engine/sqlite.h"
#include "engine/store.h"

namespace silo::engine::detail {

// Reads column `col` as JSON; empty text reads as {}. Errors: Internal naming `what`.
[[nodiscard]] Result<Json> json_column(const SqliteStmt& stmt, int col, std::string_view what);
// Reads column `col` as a string map (labels, options).
[[nodiscard]] Result<Labels> labels_column(const SqliteStmt& stmt, int col, std::string_view what);
// Serialises a map as a JSON object.
std::string labels_text(const Labels& labels);
// Serialises JSON for a column; null becomes {}.
std::string json_text(const Json& j);

}  // namespace silo::engine::detail
