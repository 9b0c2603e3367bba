#include "engine/sqlite.h"

#include <sqlite3.h>

#include <atomic>
#include <utility>

namespace silo::engine {
namespace {

// SQLite result codes -> Silo codes; the primary code is the low byte.
Code code_for_sqlite(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return Code::Conflict;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
      return Code::Unavailable;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return Code::Permission;
    case SQLITE_CANTOPEN:
      return Code::Unavailable;
    default:
      return Code::Internal;
  }
}

Error make_error(sqlite3* db, int rc, std::string_view what) {
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Error{0, code_for_sqlite(rc), std::string(what) + ": " + msg};
}

}  // namespace

Result<SqliteDb> SqliteDb::open(const std::string& path, int busy_ms) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqliteDb db(raw);  // owns the handle even when open failed
  if (rc != SQLITE_OK) return std::unexpected(make_error(raw, rc, "open database " + path));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_ms);
  // WAL survives a crash of the writer without a hot journal, and lets readers run while
  // one writer commits. synchronous=NORMAL is durable across process crashes in WAL mode;
  // only a power cut can lose the last commits, never corrupt the file.
  auto mode = db.query_text("PRAGMA journal_mode=WAL");
  if (!mode) return wrap(mode.error(), "open database " + path);
  if (*mode != "wal")
    return fail(Code::Unavailable,
                "open database " + path + ": cannot enable WAL (journal_mode=" + *mode + ")");
  SILO_TRY_CTX(db.exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"),
               "open database " + path);
  return db;
}

SqliteDb::SqliteDb(SqliteDb&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

SqliteDb& SqliteDb::operator=(SqliteDb&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

SqliteDb::~SqliteDb() {
  if (db_) sqlite3_close_v2(db_);
}

Status SqliteDb::exec(std::string_view sql) {
  std::string copy(sql);
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &msg);
  if (rc == SQLITE_OK) return {};
  std::string text = msg ? msg : sqlite3_errstr(rc);
  sqlite3_free(msg);
  return fail(code_for_sqlite(rc), "sql: " + text);
}

Result<SqliteStmt> SqliteDb::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK)
    return std::unexpected(make_error(db_, rc, "prepare \"" + std::string(sql) + "\""));
  return SqliteStmt(stmt, db_);
}

Result<int64_t> SqliteDb::query_int(std::string_view sql) {
  auto stmt = prepare(sql);
  if (!stmt) return std::unexpected(stmt.error());
  auto row = stmt->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return fail(Code::Internal, "query \"" + std::string(sql) + "\" returned no row");
  return stmt->integer(0);
}

Result<std::string> SqliteDb::query_text(std::string_view sql) {
  auto stmt = prepare(sql);
  if (!stmt) return std::unexpected(stmt.error());
  auto row = stmt->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return fail(Code::Internal, "query \"" + std::string(sql) + "\" returned no row");
  return stmt->text(0);
}

int64_t SqliteDb::changes() const {
  return sqlite3_changes(db_);
}

int64_t SqliteDb::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

bool SqliteDb::autocommit() const {
  return sqlite3_get_autocommit(db_) != 0;
}

Error SqliteDb::last_error(std::string_view what) const {
  return make_error(db_, sqlite3_extended_errcode(db_), what);
}

SqliteStmt::SqliteStmt(SqliteStmt&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), db_(other.db_) {}

SqliteStmt& SqliteStmt::operator=(SqliteStmt&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    db_ = other.db_;
  }
  return *this;
}

SqliteStmt::~SqliteStmt() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Error SqliteStmt::error(std::string_view what) const {
  const char* sql = sqlite3_sql(stmt_);
  return make_error(db_, sqlite3_extended_errcode(db_),
                    std::string(what) + " \"" + (sql ? sql : "") + "\"");
}

Status SqliteStmt::bind(int idx, std::string_view text) {
  // A null pointer would bind SQL NULL; an empty view must bind ''.
  const char* data = text.data() ? text.data() : "";
  if (sqlite3_bind_text(stmt_, idx, data, static_cast<int>(text.size()), SQLITE_TRANSIENT) !=
      SQLITE_OK)
    return std::unexpected(error("bind"));
  return {};
}

Status SqliteStmt::bind(int idx, int64_t value) {
  if (sqlite3_bind_int64(stmt_, idx, value) != SQLITE_OK) return std::unexpected(error("bind"));
  return {};
}

Status SqliteStmt::bind_null(int idx) {
  if (sqlite3_bind_null(stmt_, idx) != SQLITE_OK) return std::unexpected(error("bind"));
  return {};
}

Result<bool> SqliteStmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return std::unexpected(error("run"));
}

Status SqliteStmt::run() {
  for (;;) {
    auto row = step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return {};
  }
}

void SqliteStmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string SqliteStmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

int64_t SqliteStmt::integer(int col) const {
  return sqlite3_column_int64(stmt_, col);
}

bool SqliteStmt::is_null(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

Result<SqliteTx> SqliteTx::begin(SqliteDb& db) {
  if (db.autocommit()) {
    SILO_TRY_CTX(db.exec("BEGIN IMMEDIATE"), "begin transaction");
    return SqliteTx(&db, false, {});
  }
  static std::atomic<uint64_t> counter{0};
  std::string name = "silo_sp" + std::to_string(counter.fetch_add(1));
  SILO_TRY_CTX(db.exec("SAVEPOINT " + name), "begin savepoint");
  return SqliteTx(&db, true, std::move(name));
}

SqliteTx::SqliteTx(SqliteTx&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      nested_(other.nested_),
      savepoint_(std::move(other.savepoint_)) {}

SqliteTx::~SqliteTx() {
  if (db_) rollback();
}

Status SqliteTx::commit() {
  if (!db_) return fail(Code::Internal, "commit: transaction already finished");
  auto st = db_->exec(nested_ ? "RELEASE " + savepoint_ : std::string("COMMIT"));
  if (!st) {
    rollback();
    return wrap(st.error(), "commit");
  }
  db_ = nullptr;
  return {};
}

void SqliteTx::rollback() {
  // Errors are ignored here: the only caller is a path already returning an error, and a
  // failed ROLLBACK leaves SQLite to roll back when the connection closes.
  if (nested_) {
    (void)db_->exec("ROLLBACK TO " + savepoint_ + "; RELEASE " + savepoint_);
  } else if (!db_->autocommit()) {
    (void)db_->exec("ROLLBACK");
  }
  db_ = nullptr;
}

}  // namespace silo::engine
