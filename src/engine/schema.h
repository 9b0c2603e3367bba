#pragma once
// The store's schema as an ordered list of migrations. PRAGMA user_version holds the
// number of migrations applied; opening a database applies the missing ones, each in
// its own transaction together with the version bump, so a crash leaves either the old
// or the new version, never half of one.

#include <string_view>
#include <vector>

#include "common/error.h"
#include "engine/sqlite.h"

namespace silo::engine {

// One schema step: the SQL that takes version `version - 1` to `version`.
struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

// All migrations in order; migrations()[i].version == i + 1.
const std::vector<Migration>& migrations();
// The version a fully migrated database has.
int latest_schema_version();
// Applies the migrations after the database's current version, up to `target`
// (latest when negative). Errors: Unavailable when the database is newer than this
// program knows (it was written by a later silod), or the SQL error of the failing step.
[[nodiscard]] Status migrate(SqliteDb& db, int target = -1);

}  // namespace silo::engine
