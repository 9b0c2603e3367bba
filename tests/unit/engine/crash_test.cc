// Crash safety: a writer killed with SIGKILL mid-transaction leaves a consistent database.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "engine/store.h"
#include "temp_dir.h"

namespace silo::engine {
namespace {

using testing::TempDir;

std::string hex_id(int n) {
  char buf[65];
  std::snprintf(buf, sizeof buf, "%064x", n);
  return buf;
}

// One unit of work: a container, a volume and the reference between them, all or nothing.
Status write_group(Store& store, int n) {
  return store.run_in_transaction([&]() -> Status {
    ContainerRecord rec;
    rec.id = hex_id(n);
    rec.name = "c" + std::to_string(n);
    rec.config = Json{{"padding", std::string(4096, 'x')}};
    SILO_TRY(store.create_container(rec));
    SILO_TRY(
        store.create_volume(VolumeRecord{.name = "v" + std::to_string(n), .mountpoint = "/m"}));
    return store.add_volume_ref(rec.id, "v" + std::to_string(n));
  });
}

void expect_consistent(const std::string& path, int64_t at_least) {
  auto store = Store::open(path);
  ASSERT_TRUE(store) << store.error().message;
  SqliteDb& db = (*store)->db();
  EXPECT_EQ(db.query_text("PRAGMA integrity_check").value(), "ok");
  EXPECT_EQ(db.query_int("SELECT count(*) FROM pragma_foreign_key_check").value(), 0);
  int64_t containers = db.query_int("SELECT count(*) FROM containers").value();
  EXPECT_GE(containers, at_least);
  EXPECT_EQ(db.query_int("SELECT count(*) FROM volumes").value(), containers);
  EXPECT_EQ(db.query_int("SELECT count(*) FROM container_volumes").value(), containers);
  // The store is still writable after recovery.
  EXPECT_TRUE(write_group(**store, 1000000));
}

// Child: commits `committed` groups, then opens a transaction, writes into it, tells the
// parent through `ready`, and waits to be killed.
[[noreturn]] void child_open_transaction(const std::string& path, int committed, int ready) {
  auto store = Store::open(path);
  if (!store) _exit(2);
  for (int i = 0; i < committed; ++i)
    if (!write_group(**store, i)) _exit(3);
  (void)(*store)->run_in_transaction([&]() -> Status {
    for (int i = committed; i < committed + 50; ++i) {
      ContainerRecord rec;
      rec.id = hex_id(i);
      rec.name = "c" + std::to_string(i);
      SILO_TRY((*store)->create_container(rec));
    }
    char c = 'r';
    (void)!write(ready, &c, 1);
    for (;;) pause();
  });
  _exit(4);
}

TEST(CrashSafety, KilledInsideOpenTransactionLosesOnlyThatTransaction) {
  TempDir dir;
  std::string path = dir.file("silo.db");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) child_open_transaction(path, 5, fds[1]);
  close(fds[1]);
  char c = 0;
  ASSERT_EQ(read(fds[0], &c, 1), 1) << "child died before opening its transaction";
  close(fds[0]);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  expect_consistent(path, 5);
  auto store = Store::open(path);
  ASSERT_TRUE(store);
  EXPECT_EQ((*store)->db().query_int("SELECT count(*) FROM containers").value(),
            6);  // 5 + the check's one
}

TEST(CrashSafety, KilledAtRandomPointsWhileCommitting) {
  TempDir dir;
  std::string path = dir.file("silo.db");
  ASSERT_TRUE(Store::open(path));  // create the schema before the race
  for (int round = 0; round < 5; ++round) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto store = Store::open(path);
      if (!store) _exit(2);
      for (int i = round * 100000;; ++i)
        if (!write_group(**store, i)) _exit(3);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + 15 * round));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer exited early with " << WEXITSTATUS(status);
    expect_consistent(path, 0);
    auto store = Store::open(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->remove_container(hex_id(1000000)));  // the check's own write
    ASSERT_TRUE((*store)->remove_volume("v1000000"));
  }
  // The writers made progress, so the kills landed among real commits.
  auto store = Store::open(path);
  ASSERT_TRUE(store);
  EXPECT_GT((*store)->db().query_int("SELECT count(*) FROM containers").value(), 0);
}

}  // namespace
}  // namespace silo::engine
