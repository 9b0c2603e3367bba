// Restart policy decisions and back-off (engine/restart.h), against dockerd's behaviour.

#include "engine/restart.h"

#include <gtest/gtest.h>

namespace silo::engine {
namespace {

using std::chrono::milliseconds;

TEST(RestartPolicy, ParsesHostConfig) {
  auto p = restart_policy_from(
      Json::parse(R"({"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":2}})"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->name, "on-failure");
  EXPECT_EQ(p->max_retries, 2);
  auto none = restart_policy_from(Json::parse(R"({"RestartPolicy":{"Name":""}})"));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->name, "no");
  EXPECT_EQ(restart_policy_from(Json::object())->name, "no");
  auto bad = restart_policy_from(Json::parse(R"({"RestartPolicy":{"Name":"sometimes"}})"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::Invalid);
}

TEST(RestartPolicy, NoNeverRestarts) {
  RestartTracker t;
  EXPECT_FALSE(decide_restart({"no", 0}, t, 1, false, milliseconds(5)).restart);
}

TEST(RestartPolicy, AlwaysBacksOffDoublingToOneMinute) {
  RestartTracker t;
  RestartPolicy p{"always", 0};
  std::vector<int64_t> delays;
  for (int i = 0; i < 12; ++i)
    delays.push_back(decide_restart(p, t, 0, false, milliseconds(1)).delay.count());
  EXPECT_EQ(delays[0], 100);
  EXPECT_EQ(delays[1], 200);
  EXPECT_EQ(delays[2], 400);
  EXPECT_EQ(delays[9], 51200);
  EXPECT_EQ(delays[10], 60000);
  EXPECT_EQ(delays[11], 60000);
  EXPECT_EQ(t.count, 12);
}

TEST(RestartPolicy, BackOffResetsAfterTenSecondsOfRunning) {
  RestartTracker t;
  RestartPolicy p{"always", 0};
  (void)decide_restart(p, t, 0, false, milliseconds(1));
  (void)decide_restart(p, t, 0, false, milliseconds(1));
  EXPECT_EQ(decide_restart(p, t, 0, false, milliseconds(10000)).delay.count(), 100);
}

TEST(RestartPolicy, OnFailureCountsRetries) {
  RestartTracker t;
  RestartPolicy p{"on-failure", 2};
  EXPECT_FALSE(decide_restart(p, t, 0, false, milliseconds(1)).restart);
  EXPECT_TRUE(decide_restart(p, t, 1, false, milliseconds(1)).restart);
  EXPECT_TRUE(decide_restart(p, t, 1, false, milliseconds(1)).restart);
  EXPECT_FALSE(decide_restart(p, t, 1, false, milliseconds(1)).restart);
  EXPECT_EQ(t.count, 2);
  RestartTracker u;
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(decide_restart({"on-failure", 0}, u, 3, false, milliseconds(1)).restart);
}

TEST(RestartPolicy, ManualStopCancelsEveryPolicy) {
  for (const char* name : {"always", "unless-stopped", "on-failure"}) {
    RestartTracker t;
    EXPECT_FALSE(decide_restart({name, 0}, t, 137, true, milliseconds(1)).restart) << name;
  }
}

TEST(RestartPolicy, OnBoot) {
  EXPECT_TRUE(restart_on_boot({"always", 0}, 0, true, 0));
  EXPECT_TRUE(restart_on_boot({"unless-stopped", 0}, 0, false, 0));
  EXPECT_FALSE(restart_on_boot({"unless-stopped", 0}, 0, true, 0));
  EXPECT_FALSE(restart_on_boot({"no", 0}, 1, false, 0));
  EXPECT_TRUE(restart_on_boot({"on-failure", 3}, 1, false, 2));
  EXPECT_FALSE(restart_on_boot({"on-failure", 3}, 1, false, 3));
  EXPECT_FALSE(restart_on_boot({"on-failure", 0}, 0, false, 0));
}

}  // namespace
}  // namespace silo::engine
