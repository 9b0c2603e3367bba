#include "engine/store.h"

#include <time.h>

#include <cstdio>

#include "engine/schema.h"
#include "engine/store_rows.h"

namespace silo::engine {

namespace detail {

Result<Json> json_column(const SqliteStmt& stmt, int col, std::string_view what) {
  std::string text = stmt.text(col);
  if (text.empty()) return Json::object();
  auto j = parse_json(text, what);
  if (!j) return fail(Code::Internal, "corrupt store record: " + j.error().message);
  return j;
}

Result<Labels> labels_column(const SqliteStmt& stmt, int col, std::string_view what) {
  auto j = json_column(stmt, col, what);
  if (!j) return std::unexpected(j.error());
  try {
    return j->get<Labels>();
  } catch (const nlohmann::json::exception&) {
    return fail(Code::Internal,
                "corrupt store record: " + std::string(what) + " is not a string map");
  }
}

std::string labels_text(const Labels& labels) {
  return Json(labels).dump();
}

std::string json_text(const Json& j) {
  return j.is_null() ? std::string("{}") : j.dump();
}

}  // namespace detail

std::string now_rfc3339() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec);
  return buf;
}

int64_t now_unix_nano() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

Result<std::unique_ptr<Store>> Store::open(const std::string& path) {
  auto db = SqliteDb::open(path);
  if (!db) return wrap(db.error(), "state store");
  SILO_TRY_CTX(migrate(*db), "state store " + path);
  return std::unique_ptr<Store>(new Store(std::move(*db)));
}

Status Store::run_in_transaction(const std::function<Status()>& body) {
  std::lock_guard lock(mu_);
  auto tx = SqliteTx::begin(db_);
  if (!tx) return std::unexpected(tx.error());
  SILO_TRY(body());  // the guard rolls back on the way out
  return tx->commit();
}

}  // namespace silo::engine
