#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "runtime/plan.h"

namespace silo::runtime {
namespace {

Spec default_spec() {
  auto s = parse_spec(default_spec_json(false));
  EXPECT_TRUE(s);
  s->root.path = "/";
  return *s;
}

TEST(Plan, DefaultSpecGivesNewNamespacesAndDevNodes) {
  Spec s = default_spec();
  NamespaceJoins joins;
  auto plan = plan_container(s, "/b", {}, &joins);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_TRUE(joins.empty());
  for (int f : {CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNS})
    EXPECT_TRUE(plan->clone_flags & static_cast<unsigned long>(f)) << f;
  EXPECT_FALSE(plan->clone_flags & CLONE_NEWUSER);
  EXPECT_TRUE(plan->populate_dev);
  EXPECT_TRUE(plan->readonly_root);
  EXPECT_EQ(plan->hostname, std::optional<std::string>("silo"));
  EXPECT_EQ(plan->path_env, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  ASSERT_TRUE(plan->caps);
  EXPECT_EQ(plan->rlimits.size(), 1u);
  EXPECT_FALSE(plan->wait_for_runtime_hooks);
}

TEST(Plan, NewCgroupNamespaceIsUnsharedByTheInitNotCloned) {
  Spec s = default_spec();
  s.linux.namespaces.push_back({"cgroup", ""});
  NamespaceJoins joins;
  auto plan = plan_container(s, "/b", {}, &joins);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_TRUE(plan->unshare_cgroup);
  EXPECT_FALSE(plan->clone_flags & CLONE_NEWCGROUP);
}

TEST(Plan, JoinsAreOrderedUserFirstMountLast) {
  Spec s = default_spec();
  s.linux.namespaces = {
      {"mount", "/proc/1/ns/mnt"}, {"network", "/var/run/netns/x"}, {"pid", ""}, {"uts", ""}};
  NamespaceJoins joins;
  auto plan = plan_container(s, "/b", {}, &joins);
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(joins.size(), 2u);
  EXPECT_EQ(joins[0].first, "network");
  EXPECT_EQ(joins[1].first, "mount");
}

TEST(Plan, MissingMountNamespaceIsAnError) {
  Spec s = default_spec();
  s.linux.namespaces = {{"pid", ""}, {"uts", ""}};
  NamespaceJoins joins;
  auto plan = plan_container(s, "/b", {}, &joins);
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message.find("mount namespace is required"), std::string::npos);
}

TEST(Plan, UserNamespaceNeedsMappings) {
  Spec s = default_spec();
  s.linux.namespaces.push_back({"user", ""});
  NamespaceJoins joins;
  EXPECT_FALSE(plan_container(s, "/b", {}, &joins));
  s.linux.uid_mappings = {{0, 100000, 65536}};
  s.linux.gid_mappings = {{0, 100000, 65536}};
  auto plan = plan_container(s, "/b", {}, &joins);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_TRUE(plan->new_user);
}

TEST(Plan, SysctlKeysBecomeProcPaths) {
  Spec s = default_spec();
  s.linux.sysctl = {{"net.ipv4.ip_forward", "1"}};
  NamespaceJoins joins;
  auto plan = plan_container(s, "/b", {}, &joins);
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->sysctls.size(), 1u);
  EXPECT_EQ(plan->sysctls[0].first, "/proc/sys/net/ipv4/ip_forward");
  s.linux.sysctl = {{"../../etc/passwd", "x"}};
  EXPECT_FALSE(plan_container(s, "/b", {}, &joins));
}

TEST(Plan, DevicesBecomeNodes) {
  Spec s = default_spec();
  s.linux.devices = {Device{"/dev/silo-null", "c", 1, 3, 0644, std::nullopt, std::nullopt}};
  NamespaceJoins joins;
  auto plan = plan_container(s, "/b", {}, &joins);
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->devices.size(), 1u);
  EXPECT_EQ(plan->devices[0].mode, static_cast<mode_t>(S_IFCHR | 0644));
  EXPECT_EQ(plan->devices[0].dev, makedev(1, 3));
  s.linux.devices[0].type = "x";
  EXPECT_FALSE(plan_container(s, "/b", {}, &joins));
}

TEST(Plan, HooksAreSplitBetweenParentAndChild) {
  Spec s = default_spec();
  s.hooks.prestart = {Hook{"/bin/true", {}, {}, std::nullopt}};
  s.hooks.create_container = {Hook{"/bin/true", {"true", "x"}, {}, std::nullopt}};
  NamespaceJoins joins;
  auto plan = plan_container(s, "/b", {}, &joins);
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->wait_for_runtime_hooks);
  plan->finalize();
  ASSERT_EQ(plan->create_container_hooks.size(), 1u);
  EXPECT_STREQ(plan->create_container_hooks[0].argv[1], "x");
  EXPECT_EQ(plan->create_container_hooks[0].argv[2], nullptr);
  EXPECT_STREQ(plan->argv[0], "sh");
}

TEST(Plan, ImpliedDeviceRulesCoverDefaultNodesAndSpecDevices) {
  Spec s = default_spec();
  s.linux.devices = {Device{"/dev/fuse", "c", 10, 229, std::nullopt, std::nullopt, std::nullopt}};
  auto rules = implied_device_rules(s);
  bool null_ok = false, fuse_ok = false;
  for (const auto& r : rules) {
    null_ok |= r.allow && r.type == "c" && r.major == 1 && r.minor == 3;
    fuse_ok |= r.allow && r.major == 10 && r.minor == 229;
  }
  EXPECT_TRUE(null_ok);
  EXPECT_TRUE(fuse_ok);
}

}  // namespace
}  // namespace silo::runtime
