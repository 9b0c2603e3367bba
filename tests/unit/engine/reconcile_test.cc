// Reconcile planning (engine/reconcile.h): facts in, repairs out.

#include "engine/reconcile.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace silo::engine {
namespace {

using A = ReconcileAction;

const std::string kA(64, 'a'), kB(64, 'b'), kC(64, 'c');
std::string rootfs(const std::string& id) {
  return "/r/containers/" + id + "/rootfs";
}

bool has(const std::vector<A>& plan, const A& a) {
  return std::find(plan.begin(), plan.end(), a) != plan.end();
}

TEST(Reconcile, NothingToDoWhenHostMatchesStore) {
  std::vector<KnownContainer> known = {{kA, "running", rootfs(kA)}, {kB, "exited", rootfs(kB)}};
  std::vector<KernelObject> journal = {{.kind = "mount", .key = rootfs(kA), .owner = kA},
                                       {.kind = "mount", .key = rootfs(kB), .owner = kB},
                                       {.kind = "shim", .key = kA, .owner = kA},
                                       {.kind = "cgroup", .key = "/silo-x/" + kA, .owner = kA}};
  Observed seen{.mounts = {rootfs(kA), rootfs(kB)},
                .runtime_ids = {kA},
                .cgroup_ids = {kA},
                .shims = {{100, kA}}};
  EXPECT_TRUE(plan_reconcile(known, journal, seen).empty());
}

TEST(Reconcile, RemovesObjectsOfUnknownContainers) {
  Observed seen{
      .mounts = {rootfs(kC)}, .runtime_ids = {kC}, .cgroup_ids = {kC}, .shims = {{7, kC}}};
  std::vector<KernelObject> journal = {{.kind = "mount", .key = rootfs(kC), .owner = kC},
                                       {.kind = "shim", .key = kC, .owner = kC},
                                       {.kind = "cgroup", .key = "/silo-x/" + kC, .owner = kC}};
  auto plan = plan_reconcile({}, journal, seen);
  EXPECT_EQ(plan[0], (A{.kind = A::KillShim, .id = kC, .pid = 7}));
  EXPECT_TRUE(has(plan, {.kind = A::Unmount, .key = rootfs(kC)}));
  EXPECT_TRUE(has(plan, {.kind = A::RemoveRuntime, .id = kC}));
  EXPECT_TRUE(has(plan, {.kind = A::DestroyCgroup, .id = kC}));
  EXPECT_TRUE(has(plan, {.kind = A::Forget, .key = rootfs(kC), .journal_kind = "mount"}));
  EXPECT_TRUE(has(plan, {.kind = A::Forget, .key = kC, .journal_kind = "shim"}));
  EXPECT_TRUE(has(plan, {.kind = A::Forget, .key = "/silo-x/" + kC, .journal_kind = "cgroup"}));
  // Forgetting comes after every removal.
  auto first_forget =
      std::find_if(plan.begin(), plan.end(), [](const A& a) { return a.kind == A::Forget; });
  EXPECT_TRUE(
      std::all_of(first_forget, plan.end(), [](const A& a) { return a.kind == A::Forget; }));
}

TEST(Reconcile, ShimOfAContainerNotRunningIsStopped) {
  // A crash between spawning the shim and recording "running".
  std::vector<KnownContainer> known = {{kA, "created", rootfs(kA)}};
  Observed seen{
      .mounts = {rootfs(kA)}, .runtime_ids = {kA}, .cgroup_ids = {kA}, .shims = {{9, kA}}};
  auto plan = plan_reconcile(known, {}, seen);
  EXPECT_TRUE(has(plan, {.kind = A::KillShim, .id = kA, .pid = 9}));
  EXPECT_TRUE(has(plan, {.kind = A::RemoveRuntime, .id = kA}));
  EXPECT_FALSE(has(plan, {.kind = A::Unmount, .key = rootfs(kA)}));  // kept until rm
}

TEST(Reconcile, JournalRowsOfVanishedObjectsAreForgotten) {
  std::vector<KnownContainer> known = {{kA, "exited", rootfs(kA)}};
  std::vector<KernelObject> journal = {{.kind = "mount", .key = rootfs(kA), .owner = kA},
                                       {.kind = "shim", .key = kA, .owner = kA},
                                       {.kind = "netns", .key = "/run/x", .owner = kA}};
  auto plan = plan_reconcile(known, journal, {});
  EXPECT_TRUE(has(plan, {.kind = A::Forget, .key = rootfs(kA), .journal_kind = "mount"}));
  EXPECT_TRUE(has(plan, {.kind = A::Forget, .key = kA, .journal_kind = "shim"}));
  EXPECT_EQ(plan.size(), 2u);  // another subsystem's row is not ours to judge
}

TEST(Reconcile, RemovingRowsAreFinishedFirst) {
  std::vector<KnownContainer> known = {{kB, "removing", rootfs(kB)}};
  Observed seen{.mounts = {rootfs(kB)}};
  auto plan = plan_reconcile(known, {}, seen);
  ASSERT_FALSE(plan.empty());
  EXPECT_EQ(plan[0], (A{.kind = A::FinishRemoval, .id = kB}));
  EXPECT_FALSE(has(plan, {.kind = A::Unmount, .key = rootfs(kB)}));  // the removal does it
}

TEST(Reconcile, Describes) {
  EXPECT_EQ(describe({.kind = A::Unmount, .key = "/m"}), "removed stale mount /m");
}

}  // namespace
}  // namespace silo::engine
