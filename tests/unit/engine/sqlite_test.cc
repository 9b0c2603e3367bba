// SqliteDb/SqliteStmt/SqliteTx and schema migrations.

#include "engine/sqlite.h"

#include <gtest/gtest.h>

#include "engine/schema.h"
#include "engine/store.h"
#include "temp_dir.h"

namespace silo::engine {
namespace {

using testing::TempDir;

TEST(Sqlite, OpenSetsWalForeignKeysAndBusyTimeout) {
  TempDir dir;
  auto db = SqliteDb::open(dir.file("t.db"));
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(db->query_text("PRAGMA journal_mode").value(), "wal");
  EXPECT_EQ(db->query_int("PRAGMA foreign_keys").value(), 1);
  EXPECT_EQ(db->query_int("PRAGMA busy_timeout").value(), 5000);
}

TEST(Sqlite, OpenFailsInMissingDirectory) {
  TempDir dir;
  auto db = SqliteDb::open(dir.file("no/such/dir/t.db"));
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, Code::Unavailable);
  EXPECT_NE(db.error().message.find("no/such/dir/t.db"), std::string::npos);
}

TEST(Sqlite, BadSqlNamesTheStatement) {
  TempDir dir;
  auto db = SqliteDb::open(dir.file("t.db"));
  ASSERT_TRUE(db);
  auto st = db->prepare("SELEC 1");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("SELEC 1"), std::string::npos);
}

TEST(Sqlite, TransactionRollsBackUnlessCommitted) {
  TempDir dir;
  auto db = SqliteDb::open(dir.file("t.db"));
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t (v INTEGER)"));
  {
    auto tx = SqliteTx::begin(*db);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES (1)"));
  }  // dropped: rolled back
  EXPECT_TRUE(db->autocommit());
  EXPECT_EQ(db->query_int("SELECT count(*) FROM t").value(), 0);
  auto tx = SqliteTx::begin(*db);
  ASSERT_TRUE(tx);
  ASSERT_TRUE(db->exec("INSERT INTO t VALUES (2)"));
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ(db->query_int("SELECT count(*) FROM t").value(), 1);
}

TEST(Sqlite, NestedTransactionIsASavepoint) {
  TempDir dir;
  auto db = SqliteDb::open(dir.file("t.db"));
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t (v INTEGER)"));
  auto outer = SqliteTx::begin(*db);
  ASSERT_TRUE(outer);
  ASSERT_TRUE(db->exec("INSERT INTO t VALUES (1)"));
  {
    auto inner = SqliteTx::begin(*db);
    ASSERT_TRUE(inner);
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES (2)"));
  }  // inner rolled back, outer still open
  EXPECT_FALSE(db->autocommit());
  ASSERT_TRUE(outer->commit());
  EXPECT_EQ(db->query_int("SELECT sum(v) FROM t").value(), 1);
}

TEST(Sqlite, ConstraintViolationIsConflict) {
  TempDir dir;
  auto db = SqliteDb::open(dir.file("t.db"));
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t (v INTEGER PRIMARY KEY)"));
  auto st = db->prepare("INSERT INTO t VALUES (?1)");
  ASSERT_TRUE(st);
  ASSERT_TRUE(st->bind(1, int64_t{7}));
  ASSERT_TRUE(st->run());
  st->reset();
  ASSERT_TRUE(st->bind(1, int64_t{7}));
  auto again = st->run();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::Conflict);
}

TEST(Schema, MigratesEmptyDatabaseToLatest) {
  TempDir dir;
  auto store = Store::open(dir.file("silo.db"));
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ((*store)->db().query_int("PRAGMA user_version").value(), latest_schema_version());
  for (const char* table :
       {"containers", "volumes", "container_volumes", "kernel_objects", "events"}) {
    auto n = (*store)->db().query_int(
        std::string("SELECT count(*) FROM sqlite_master WHERE name = '") + table + "'");
    EXPECT_EQ(n.value(), 1) << table;
  }
}

TEST(Schema, MigrationsAreNumberedInOrder) {
  const auto& all = migrations();
  ASSERT_FALSE(all.empty());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].version, static_cast<int>(i + 1));
}

TEST(Schema, ReopenIsIdempotentAndKeepsData) {
  TempDir dir;
  {
    auto store = Store::open(dir.file("silo.db"));
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->create_volume(VolumeRecord{.name = "data", .mountpoint = "/m"}));
  }
  for (int i = 0; i < 2; ++i) {
    auto store = Store::open(dir.file("silo.db"));
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_EQ((*store)->db().query_int("PRAGMA user_version").value(), latest_schema_version());
    EXPECT_TRUE((*store)->get_volume("data"));
  }
}

TEST(Schema, UpgradesFromAnOlderVersion) {
  TempDir dir;
  {
    auto db = SqliteDb::open(dir.file("silo.db"));
    ASSERT_TRUE(db);
    ASSERT_TRUE(migrate(*db, 1));
    EXPECT_EQ(db->query_int("PRAGMA user_version").value(), 1);
    EXPECT_EQ(db->query_int("SELECT count(*) FROM sqlite_master WHERE name = 'events'").value(), 0);
  }
  auto store = Store::open(dir.file("silo.db"));
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ((*store)->db().query_int("PRAGMA user_version").value(), latest_schema_version());
  EXPECT_TRUE((*store)->append_event(EventRecord{.type = "container", .action = "create"}));
}

TEST(Schema, RefusesANewerDatabase) {
  TempDir dir;
  {
    auto db = SqliteDb::open(dir.file("silo.db"));
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("PRAGMA user_version = 999"));
  }
  auto store = Store::open(dir.file("silo.db"));
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, Code::Unavailable);
  EXPECT_NE(store.error().message.find("newer than this silod supports"), std::string::npos);
}

}  // namespace
}  // namespace silo::engine
