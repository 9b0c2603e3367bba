// Store: containers — CRUD, names, lookups, transactions.

#include "engine/store.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/id.h"
#include "engine/names.h"
#include "temp_dir.h"

namespace silo::engine {
namespace {

using testing::TempDir;

// A 64-hex id starting with `prefix`.
std::string id_with_prefix(const std::string& prefix, char fill = '0') {
  return prefix + std::string(64 - prefix.size(), fill);
}

ContainerRecord make(const std::string& id, const std::string& name) {
  ContainerRecord r;
  r.id = id;
  r.name = name;
  r.image = "nginx:latest";
  r.image_id = "sha256:" + std::string(64, 'e');
  r.config = Json{{"Image", "nginx:latest"}, {"Cmd", {"nginx", "-g", "daemon off;"}}};
  r.host_config = Json{{"Memory", 536870912}};
  r.labels = {{"com.example.tier", "web"}};
  return r;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::open(dir_.file("silo.db"));
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, CreateAndReadBackEveryField) {
  ContainerRecord rec = make(new_id(), "/web");
  rec.state = ContainerState{"running", 4242, 0, false, "2026-11-23T10:00:00Z", "", 2, ""};
  rec.shim = Json{{"socket", "/run/silo/shims/x.sock"}, {"pid", 4241}};
  rec.network_settings = Json{{"IPAddress", "172.17.0.2"}};
  rec.created = "2026-11-23T09:59:59.000000001Z";
  auto name = store_->create_container(rec);
  ASSERT_TRUE(name) << name.error().message;
  EXPECT_EQ(*name, "web");
  auto got = store_->get_container(rec.id);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->name, "web");
  EXPECT_EQ(got->image, rec.image);
  EXPECT_EQ(got->image_id, rec.image_id);
  EXPECT_EQ(got->created, rec.created);
  EXPECT_EQ(got->config, rec.config);
  EXPECT_EQ(got->host_config, rec.host_config);
  EXPECT_EQ(got->shim, rec.shim);
  EXPECT_EQ(got->network_settings, rec.network_settings);
  EXPECT_EQ(got->labels, rec.labels);
  EXPECT_EQ(got->state.status, "running");
  EXPECT_EQ(got->state.pid, 4242);
  EXPECT_EQ(got->state.started_at, "2026-11-23T10:00:00Z");
  EXPECT_EQ(got->state.restart_count, 2);
}

TEST_F(StoreTest, NameConflictHasDockersMessage) {
  std::string first = id_with_prefix("3f2a91c0");
  ASSERT_TRUE(store_->create_container(make(first, "web")));
  auto again = store_->create_container(make(id_with_prefix("77"), "/web"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::Conflict);
  EXPECT_EQ(again.error().message,
            "Conflict. The container name \"/web\" is already in use by container \"" + first +
                "\". You have to remove (or rename) that container to be able to reuse that name.");
}

TEST_F(StoreTest, DuplicateIdIsConflict) {
  std::string id = id_with_prefix("ab");
  ASSERT_TRUE(store_->create_container(make(id, "one")));
  auto again = store_->create_container(make(id, "two"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::Conflict);
}

TEST_F(StoreTest, InvalidNameAndIdAreRejected) {
  auto bad = store_->create_container(make(id_with_prefix("ab"), "bad name"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::Invalid);
  EXPECT_EQ(bad.error().message,
            "Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  auto short_id = store_->create_container(make("abc", "ok"));
  ASSERT_FALSE(short_id);
  EXPECT_EQ(short_id.error().code, Code::Invalid);
}

TEST_F(StoreTest, EmptyNameGetsAValidRandomName) {
  auto a = store_->create_container(make(id_with_prefix("a1"), ""));
  auto b = store_->create_container(make(id_with_prefix("b1"), ""));
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(validate_container_name(*a));
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(store_->get_container(*a));
}

TEST_F(StoreTest, LookupByNameWithOrWithoutSlash) {
  std::string id = id_with_prefix("cafe");
  ASSERT_TRUE(store_->create_container(make(id, "api")));
  EXPECT_EQ(store_->get_container("api")->id, id);
  EXPECT_EQ(store_->get_container("/api")->id, id);
  EXPECT_EQ(store_->get_container("caf")->id, id);
}

TEST_F(StoreTest, NotFoundHasDockersMessage) {
  auto got = store_->get_container("web");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::NotFound);
  EXPECT_EQ(got.error().message, "No such container: web");
}

TEST_F(StoreTest, AmbiguousPrefixIsAnError) {
  std::string a = id_with_prefix("abcd1");
  std::string b = id_with_prefix("abcd2");
  ASSERT_TRUE(store_->create_container(make(a, "one")));
  ASSERT_TRUE(store_->create_container(make(b, "two")));
  auto got = store_->get_container("abcd");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::Invalid);
  EXPECT_EQ(got.error().message, "multiple IDs found with provided prefix: abcd");
  EXPECT_EQ(store_->get_container("abcd1")->id, a);
  EXPECT_EQ(store_->get_container("abcd2")->id, b);
}

TEST_F(StoreTest, PrecedenceIsIdThenNameThenPrefix) {
  std::string a = id_with_prefix("beef");
  std::string b = id_with_prefix("dead");
  // b is named like a prefix of a's id, c is named a's full id.
  ASSERT_TRUE(store_->create_container(make(a, "alpha")));
  ASSERT_TRUE(store_->create_container(make(b, "beef")));
  ASSERT_TRUE(store_->create_container(make(id_with_prefix("f00d"), a)));
  EXPECT_EQ(store_->get_container("beef")->id, b);  // name beats id prefix
  EXPECT_EQ(store_->get_container(a)->id, a);       // exact id beats name
  EXPECT_EQ(store_->get_container("bee")->id, a);   // prefix when nothing else matches
}

TEST_F(StoreTest, ListUpdateAndSetState) {
  ContainerRecord rec = make(id_with_prefix("01"), "svc");
  ASSERT_TRUE(store_->create_container(rec));
  ASSERT_TRUE(store_->create_container(make(id_with_prefix("02"), "svc2")));
  EXPECT_EQ(store_->list_containers()->size(), 2u);
  rec.labels["x"] = "y";
  rec.config["Env"] = {"A=1"};
  rec.state.status = "paused";
  ASSERT_TRUE(store_->update_container(rec));
  auto got = store_->get_container("svc");
  EXPECT_EQ(got->labels.at("x"), "y");
  EXPECT_EQ(got->config["Env"][0], "A=1");
  EXPECT_EQ(got->state.status, "paused");
  ContainerState exited{"exited", 0, 137, true, "s", "f", 0, "killed"};
  ASSERT_TRUE(store_->set_state(rec.id, exited));
  got = store_->get_container(rec.id);
  EXPECT_EQ(got->state.exit_code, 137);
  EXPECT_TRUE(got->state.oom_killed);
  EXPECT_EQ(got->state.error, "killed");
  EXPECT_EQ(store_->set_state(id_with_prefix("99"), exited).error().code, Code::NotFound);
  EXPECT_EQ(store_->set_state(rec.id, ContainerState{.status = "zombie"}).error().code,
            Code::Invalid);
}

TEST_F(StoreTest, RenameFollowsDocker) {
  std::string id = id_with_prefix("12");
  ASSERT_TRUE(store_->create_container(make(id, "old")));
  ASSERT_TRUE(store_->create_container(make(id_with_prefix("34"), "taken")));
  EXPECT_EQ(store_->rename_container("old", "").error().message,
            "Neither old nor new names may be empty");
  EXPECT_EQ(store_->rename_container("old", "/old").error().message,
            "Renaming a container with the same name as its current name");
  EXPECT_EQ(store_->rename_container("old", "no way").error().message,
            "Invalid container name (/no way), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  auto clash = store_->rename_container("old", "taken");
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code, Code::Conflict);
  EXPECT_TRUE(clash.error().message.starts_with(
      "Error when allocating new name: Conflict. The container name \"/taken\" is already in use"));
  ASSERT_TRUE(store_->rename_container("old", "/new"));
  EXPECT_EQ(store_->get_container("new")->id, id);
  EXPECT_FALSE(store_->get_container("old"));
  EXPECT_EQ(store_->rename_container("ghost", "x1").error().message, "No such container: ghost");
}

TEST_F(StoreTest, RemoveContainer) {
  std::string id = id_with_prefix("56");
  ASSERT_TRUE(store_->create_container(make(id, "gone")));
  ASSERT_TRUE(store_->remove_container(id));
  EXPECT_EQ(store_->get_container("gone").error().code, Code::NotFound);
  EXPECT_EQ(store_->remove_container(id).error().code, Code::NotFound);
  ASSERT_TRUE(store_->create_container(make(id_with_prefix("57"), "gone")));  // name is free again
}

TEST_F(StoreTest, TransactionRollsBackOnError) {
  auto st = store_->run_in_transaction([&]() -> Status {
    SILO_TRY(store_->create_container(make(id_with_prefix("aa"), "first")));
    SILO_TRY(store_->create_volume(VolumeRecord{.name = "vol1", .mountpoint = "/v"}));
    return fail(Code::Internal, "step three failed");
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "step three failed");
  EXPECT_EQ(store_->get_container("first").error().code, Code::NotFound);
  EXPECT_EQ(store_->get_volume("vol1").error().code, Code::NotFound);
  EXPECT_TRUE(store_->db().autocommit());
}

TEST_F(StoreTest, FailedStepInsideTransactionRollsBackEverything) {
  ASSERT_TRUE(store_->create_container(make(id_with_prefix("bb"), "taken")));
  auto st = store_->run_in_transaction([&]() -> Status {
    SILO_TRY(store_->create_container(make(id_with_prefix("cc"), "fresh")));
    SILO_TRY(store_->create_container(make(id_with_prefix("dd"), "taken")));  // conflicts
    return {};
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::Conflict);
  EXPECT_FALSE(store_->get_container("fresh"));
  EXPECT_EQ(store_->list_containers()->size(), 1u);
}

TEST_F(StoreTest, TransactionCommitsOnSuccess) {
  ASSERT_TRUE(store_->run_in_transaction([&]() -> Status {
    SILO_TRY(store_->create_container(make(id_with_prefix("ee"), "a1")));
    SILO_TRY(store_->create_container(make(id_with_prefix("ef"), "a2")));
    return {};
  }));
  EXPECT_EQ(store_->list_containers()->size(), 2u);
}

TEST_F(StoreTest, ConcurrentWritersThroughOneStore) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this] {
      for (int i = 0; i < 25; ++i) {
        auto made = store_->create_container(make(new_id(), ""));
        EXPECT_TRUE(made) << made.error().message;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(store_->list_containers()->size(), 100u);
}

TEST_F(StoreTest, SecondConnectionSeesCommittedWrites) {
  auto other = Store::open(dir_.file("silo.db"));
  ASSERT_TRUE(other) << other.error().message;
  ASSERT_TRUE(store_->create_container(make(id_with_prefix("4a"), "shared")));
  EXPECT_EQ((*other)->get_container("shared")->id, id_with_prefix("4a"));
  ASSERT_TRUE((*other)->rename_container("shared", "renamed"));
  EXPECT_TRUE(store_->get_container("renamed"));
}


// Build steps: an image records its parent; the build cache maps a step's key to the image
// and forgets it when the image goes.
TEST_F(StoreTest, ImageParentsAndBuildCache) {
  const std::string base = "sha256:" + std::string(64, 'a');
  const std::string step = "sha256:" + std::string(64, 'b');
  ASSERT_TRUE(store_->put_image({.id = base, .config = "{}", .created = "t1"}));
  ASSERT_TRUE(store_->put_image({.id = step, .config = "{}", .created = "t2", .parent = base}));
  auto got = store_->get_image(step);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->parent, base);
  auto children = store_->image_children(base);
  ASSERT_TRUE(children);
  EXPECT_EQ(*children, std::vector<std::string>{step});
  EXPECT_TRUE(store_->image_children(step)->empty());

  auto miss = store_->build_cache("sha256:key");
  ASSERT_TRUE(miss);
  EXPECT_FALSE(*miss);
  ASSERT_TRUE(store_->set_build_cache("sha256:key", step));
  EXPECT_EQ(store_->build_cache("sha256:key")->value_or(""), step);
  // A cache entry needs its image: none for an unknown one, and it goes with the image.
  EXPECT_FALSE(store_->set_build_cache("sha256:other", "sha256:" + std::string(64, 'c')));
  ASSERT_TRUE(store_->remove_image(step));
  EXPECT_FALSE(store_->build_cache("sha256:key")->has_value());
}

}  // namespace
}  // namespace silo::engine
