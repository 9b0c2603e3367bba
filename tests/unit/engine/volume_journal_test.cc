// Store: volumes and their references, the kernel-object journal, the events ring.

#include <gtest/gtest.h>

#include "engine/store.h"
#include "temp_dir.h"

namespace silo::engine {
namespace {

using testing::TempDir;

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::open(dir_.file("silo.db"));
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  std::string add_container(char fill, const std::string& name) {
    ContainerRecord rec;
    rec.id = std::string(64, fill);
    rec.name = name;
    EXPECT_TRUE(store_->create_container(rec));
    return rec.id;
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(JournalTest, VolumeCreateIsIdempotent) {
  VolumeRecord v{.name = "v1", .mountpoint = "/var/lib/silo/volumes/v1/_data"};
  v.labels = {{"a", "b"}};
  v.options = {{"type", "tmpfs"}};
  auto made = store_->create_volume(v);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(made->driver, "local");
  EXPECT_FALSE(made->created.empty());
  VolumeRecord other = v;
  other.mountpoint = "/elsewhere";
  auto again = store_->create_volume(other);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->mountpoint, v.mountpoint);  // the existing one is returned unchanged
  EXPECT_EQ(again->labels, v.labels);
  EXPECT_EQ(again->options, v.options);
  EXPECT_EQ(store_->list_volumes()->size(), 1u);
}

TEST_F(JournalTest, VolumeNameAndDriverChecks) {
  auto bad = store_->create_volume(VolumeRecord{.name = "a/b", .mountpoint = "/m"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::Invalid);
  EXPECT_EQ(bad.error().message,
            "\"a/b\" includes invalid characters for a local volume name, only "
            "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, "
            "use absolute path");
  auto driver =
      store_->create_volume(VolumeRecord{.name = "v2", .driver = "nfs", .mountpoint = "/m"});
  ASSERT_FALSE(driver);
  EXPECT_EQ(driver.error().code, Code::NotFound);
}

TEST_F(JournalTest, VolumeNotFoundHasDockersMessage) {
  auto got = store_->get_volume("nope");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::NotFound);
  EXPECT_EQ(got.error().message, "get nope: no such volume");
  EXPECT_EQ(store_->remove_volume("nope").error().code, Code::NotFound);
}

TEST_F(JournalTest, InUseVolumeCannotBeRemoved) {
  ASSERT_TRUE(store_->create_volume(VolumeRecord{.name = "v1", .mountpoint = "/m"}));
  std::string a = add_container('a', "one");
  std::string b = add_container('b', "two");
  ASSERT_TRUE(store_->add_volume_ref(b, "v1"));
  ASSERT_TRUE(store_->add_volume_ref(a, "v1"));
  ASSERT_TRUE(store_->add_volume_ref(a, "v1"));  // idempotent
  EXPECT_EQ(*store_->volume_users("v1"), (std::vector<std::string>{a, b}));
  auto rm = store_->remove_volume("v1");
  ASSERT_FALSE(rm);
  EXPECT_EQ(rm.error().code, Code::Conflict);
  EXPECT_EQ(rm.error().message, "remove v1: volume is in use - [" + a + ", " + b + "]");
  ASSERT_TRUE(store_->remove_volume_ref(a, "v1"));
  ASSERT_TRUE(store_->remove_container(b));  // drops its reference too
  EXPECT_TRUE(store_->volume_users("v1")->empty());
  ASSERT_TRUE(store_->remove_volume("v1"));
  EXPECT_FALSE(store_->get_volume("v1"));
}

TEST_F(JournalTest, VolumeRefNeedsBothEnds) {
  ASSERT_TRUE(store_->create_volume(VolumeRecord{.name = "v1", .mountpoint = "/m"}));
  EXPECT_EQ(store_->add_volume_ref(std::string(64, 'c'), "v1").error().code, Code::NotFound);
  std::string a = add_container('a', "one");
  EXPECT_EQ(store_->add_volume_ref(a, "v9").error().message, "get v9: no such volume");
}

TEST_F(JournalTest, KernelObjectsAreRecordedAndForgotten) {
  std::string owner = add_container('a', "web");
  auto m = store_->record_kernel_object(KernelObject{.kind = "mount",
                                                     .key = "/var/lib/silo/x/rootfs",
                                                     .owner = owner,
                                                     .data = Json{{"fstype", "overlay"}}});
  ASSERT_TRUE(m) << m.error().message;
  auto cg = store_->record_kernel_object(
      KernelObject{.kind = "cgroup", .key = "/silo/a", .owner = owner});
  ASSERT_TRUE(cg);
  ASSERT_TRUE(
      store_->record_kernel_object(KernelObject{.kind = "netns", .key = "/run/silo/netns/n"}));
  // Re-recording the same (kind, key) keeps the id and replaces the data.
  auto again = store_->record_kernel_object(KernelObject{.kind = "mount",
                                                         .key = "/var/lib/silo/x/rootfs",
                                                         .owner = owner,
                                                         .data = Json{{"fstype", "bind"}}});
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *m);
  auto all = store_->kernel_objects();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].data["fstype"], "bind");
  EXPECT_EQ(store_->kernel_objects(owner)->size(), 2u);
  // Objects outlive their container's row, so reconcile still finds them.
  ASSERT_TRUE(store_->remove_container(owner));
  EXPECT_EQ(store_->kernel_objects(owner)->size(), 2u);
  ASSERT_TRUE(store_->forget_kernel_object("mount", "/var/lib/silo/x/rootfs"));
  ASSERT_TRUE(store_->forget_kernel_object("mount", "/never/recorded"));
  EXPECT_EQ(store_->kernel_objects()->size(), 2u);
  EXPECT_EQ(store_->record_kernel_object(KernelObject{.kind = "mount"}).error().code,
            Code::Invalid);
}

TEST_F(JournalTest, EventsSinceAndRingTrim) {
  for (int i = 0; i < 10; ++i) {
    auto seq = store_->append_event(EventRecord{.time_nano = 1000 + i,
                                                .type = "container",
                                                .action = "start",
                                                .actor_id = "x",
                                                .attributes = Json{{"i", i}}});
    ASSERT_TRUE(seq);
  }
  auto since = store_->events_since(1005);
  ASSERT_TRUE(since);
  ASSERT_EQ(since->size(), 5u);
  EXPECT_EQ(since->front().attributes["i"], 5);
  EXPECT_EQ(since->front().action, "start");
  for (int64_t i = 0; i < Store::kEventRing + 5; ++i)
    ASSERT_TRUE(store_->append_event(
        EventRecord{.time_nano = 5000 + i, .type = "volume", .action = "create"}));
  auto all = store_->events_since(0);
  ASSERT_TRUE(all);
  EXPECT_EQ(static_cast<int64_t>(all->size()), Store::kEventRing);
  EXPECT_EQ(all->back().time_nano, 5000 + Store::kEventRing + 4);
}

}  // namespace
}  // namespace silo::engine
