#pragma once
// Thin RAII wrappers over the SQLite C API: a connection (SqliteDb), a prepared
// statement (SqliteStmt) and a transaction guard (SqliteTx) that rolls back unless
// committed. Every failure comes back as an Error naming the statement and SQLite's text.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace silo::engine {

class SqliteStmt;

// One open connection. Move-only; closes on destruction.
class SqliteDb {
 public:
  // Opens or creates `path` and sets WAL journaling, synchronous=NORMAL, foreign keys on
  // and a busy timeout of `busy_ms`. Errors: Unavailable when the file cannot be opened.
  [[nodiscard]] static Result<SqliteDb> open(const std::string& path, int busy_ms = 5000);

  SqliteDb() = default;
  SqliteDb(SqliteDb&& other) noexcept;
  SqliteDb& operator=(SqliteDb&& other) noexcept;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb();

  // Runs one or more statements that return no rows (DDL, PRAGMA with no result).
  [[nodiscard]] Status exec(std::string_view sql);
  // Compiles one statement.
  [[nodiscard]] Result<SqliteStmt> prepare(std::string_view sql);
  // Runs a query returning a single integer (PRAGMA user_version, SELECT count(*)).
  [[nodiscard]] Result<int64_t> query_int(std::string_view sql);
  // Runs a query returning a single text value (PRAGMA journal_mode).
  [[nodiscard]] Result<std::string> query_text(std::string_view sql);
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t changes() const;
  // The rowid of the last successful INSERT.
  int64_t last_insert_rowid() const;
  // True when no transaction is open on this connection.
  bool autocommit() const;
  // The underlying handle, for code that needs the C API directly.
  sqlite3* raw() const { return db_; }
  // An Error for the connection's last failure, "what: <sqlite message>".
  Error last_error(std::string_view what) const;

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

// One compiled statement. Parameters are 1-based as in SQLite; columns 0-based.
class SqliteStmt {
 public:
  SqliteStmt() = default;
  SqliteStmt(SqliteStmt&& other) noexcept;
  SqliteStmt& operator=(SqliteStmt&& other) noexcept;
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;
  ~SqliteStmt();

  // Binds parameter `idx`. Text is copied (SQLITE_TRANSIENT).
  [[nodiscard]] Status bind(int idx, std::string_view text);
  [[nodiscard]] Status bind(int idx, int64_t value);
  [[nodiscard]] Status bind_null(int idx);
  // Advances: true when a row is ready, false when done.
  [[nodiscard]] Result<bool> step();
  // Steps to completion, for statements that return no rows.
  [[nodiscard]] Status run();
  // Resets for another execution with new bindings.
  void reset();

  std::string text(int col) const;
  int64_t integer(int col) const;
  bool is_null(int col) const;

 private:
  friend class SqliteDb;
  SqliteStmt(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  Error error(std::string_view what) const;
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
};

// A transaction, rolled back on destruction unless commit() succeeded. The outermost
// one is BEGIN IMMEDIATE (takes the write lock up front, so two writers never deadlock
// upgrading a read lock); nested ones are savepoints, so store operations compose.
class SqliteTx {
 public:
  [[nodiscard]] static Result<SqliteTx> begin(SqliteDb& db);
  SqliteTx(SqliteTx&& other) noexcept;
  SqliteTx& operator=(SqliteTx&&) = delete;
  SqliteTx(const SqliteTx&) = delete;
  ~SqliteTx();
  // Commits (or releases the savepoint). After an error the transaction is rolled back.
  [[nodiscard]] Status commit();

 private:
  SqliteTx(SqliteDb* db, bool nested, std::string savepoint)
      : db_(db), nested_(nested), savepoint_(std::move(savepoint)) {}
  void rollback();
  SqliteDb* db_ = nullptr;
  bool nested_ = false;
  std::string savepoint_;
};

}  // namespace silo::engine
