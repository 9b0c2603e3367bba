#include <gtest/gtest.h>
#include <sys/mount.h>

#include <unistd.h>
#include "common/sys.h"
#include "runtime/mounts.h"
#include "runtime/spec.h"
#include "runtime/state.h"

namespace silo::runtime {
namespace {

Json minimal() {
  return Json::parse(
      R"({"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/"},"root":{"path":"rootfs"}})");
}

TEST(Spec, DefaultSpecParses) {
  auto s = parse_spec(default_spec_json(false));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->process.args, std::vector<std::string>{"sh"});
  EXPECT_TRUE(s->root.readonly);
  EXPECT_NE(s->linux.find_namespace("pid"), nullptr);
  EXPECT_EQ(s->linux.find_namespace("user"), nullptr);
  ASSERT_TRUE(s->process.capabilities);
  EXPECT_EQ(s->process.capabilities->bounding.size(), 3u);
  ASSERT_EQ(s->process.rlimits.size(), 1u);
  EXPECT_EQ(s->process.rlimits[0].type, "RLIMIT_NOFILE");
}

TEST(Spec, RootlessDefaultHasUserNamespaceAndMappings) {
  auto s = parse_spec(default_spec_json(true));
  ASSERT_TRUE(s);
  EXPECT_NE(s->linux.find_namespace("user"), nullptr);
  EXPECT_EQ(s->linux.uid_mappings.size(), 1u);
}

TEST(Spec, ParsesResourcesHooksAndSeccomp) {
  Json j = minimal();
  j["linux"]["resources"] = Json::parse(
      R"({"memory":{"limit":8388608,"swap":8388608},"cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"0"},"pids":{"limit":64}})");
  j["hooks"]["prestart"] = Json::parse(R"([{"path":"/bin/true","args":["true"],"timeout":5}])");
  j["linux"]["seccomp"] = Json::parse(
      R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]})");
  auto s = parse_spec(j);
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(s->linux.resources);
  EXPECT_EQ(*s->linux.resources->memory->limit, 8388608);
  EXPECT_EQ(s->linux.resources->cpu->cpus, "0");
  EXPECT_EQ(*s->linux.resources->pids_limit, 64);
  ASSERT_EQ(s->hooks.prestart.size(), 1u);
  EXPECT_EQ(*s->hooks.prestart[0].timeout, 5);
  ASSERT_TRUE(s->linux.seccomp);
  EXPECT_EQ(*s->linux.seccomp->syscalls[0].errno_ret, 1u);
}

TEST(Spec, ErrorsNameTheField) {
  Json j = minimal();
  j["process"]["args"] = "sh";
  auto s = parse_spec(j);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("process.args"), std::string::npos);

  j = minimal();
  j["process"]["cwd"] = "relative";
  s = parse_spec(j);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("process.cwd"), std::string::npos);

  j = minimal();
  j["process"]["rlimits"] = Json::parse(R"([{"type":"RLIMIT_NOFILE","soft":10,"hard":5}])");
  s = parse_spec(j);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("RLIMIT_NOFILE soft limit 10 is above its hard limit 5"),
            std::string::npos);

  j = minimal();
  j["linux"]["namespaces"] = Json::parse(R"([{"type":"pid"},{"type":"pid"}])");
  s = parse_spec(j);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("listed twice"), std::string::npos);

  j = minimal();
  j["hooks"]["poststop"] = Json::parse(R"([{"path":"relative"}])");
  s = parse_spec(j);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("hooks.poststop.path"), std::string::npos);
}

TEST(Spec, MissingProcessIsAnError) {
  auto s = parse_spec(Json::parse(R"({"root":{"path":"r"}})"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::Invalid);
}

TEST(MountOptions, FlagsPropagationAndData) {
  auto o = parse_mount_options(
      {"nosuid", "noexec", "rbind", "ro", "rslave", "mode=755", "size=65536k", "tmpcopyup"});
  EXPECT_EQ(o.flags,
            static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_BIND | MS_REC | MS_RDONLY));
  EXPECT_EQ(o.propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(o.data, "mode=755,size=65536k");
  EXPECT_TRUE(o.bind());
  auto rw = parse_mount_options({"ro", "rw"});
  EXPECT_EQ(rw.flags & MS_RDONLY, 0u);
}

TEST(MountPlan, BindWithReadOnlyNeedsRemount) {
  Spec s;
  s.mounts.push_back(Mount{"/data", "bind", "/tmp", {"rbind", "ro", "nosuid"}});
  s.mounts.push_back(Mount{"/proc", "proc", "proc", {}});
  auto plan = plan_mounts(s, "/bundle", {}, false);
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->size(), 2u);
  const auto& b = (*plan)[0];
  EXPECT_EQ(b.flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  EXPECT_EQ(b.remount_flags,
            static_cast<unsigned long>(MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID));
  EXPECT_TRUE((*plan)[1].fstype == "proc");
}

TEST(MountPlan, CgroupV1ExpandsToOneBindPerHierarchy) {
  Spec s;
  s.mounts.push_back(Mount{"/sys/fs/cgroup", "cgroup", "cgroup", {"ro", "nosuid"}});
  auto plan = plan_mounts(
      s, "/b", {{"memory", "/sys/fs/cgroup/memory/x"}, {"cpu", "/sys/fs/cgroup/cpu/x"}}, false);
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->size(), 4u);  // tmpfs, two binds, read-only remount of the tmpfs
  EXPECT_EQ((*plan)[0].fstype, "tmpfs");
  EXPECT_EQ((*plan)[1].target, "/sys/fs/cgroup/memory");
  EXPECT_EQ((*plan)[1].source, "/sys/fs/cgroup/memory/x");
  EXPECT_TRUE((*plan)[3].flags & MS_REMOUNT);
}

TEST(MountPlan, RelativeBindSourceIsUnderTheBundle) {
  Spec s;
  s.mounts.push_back(Mount{"/x", "none", "data", {"bind"}});
  auto plan = plan_mounts(s, "/bundle", {}, false);
  ASSERT_TRUE(plan);
  EXPECT_EQ((*plan)[0].source, "/bundle/data");
}

TEST(MountPlan, DotDotDestinationRejected) {
  Spec s;
  s.mounts.push_back(Mount{"/x/../../etc", "tmpfs", "tmpfs", {}});
  EXPECT_FALSE(plan_mounts(s, "/b", {}, false));
}

TEST(Propagation, Names) {
  EXPECT_EQ(*parse_propagation("rslave"), static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(*parse_propagation(""), 0u);
  EXPECT_FALSE(parse_propagation("sideways"));
}

TEST(State, StatusOfAMissingProcessIsStopped) {
  StateDir dir("/nonexistent");
  ContainerState st;
  st.id = "x";
  st.pid = 999999999;
  EXPECT_EQ(live_status(dir, st, false), ContainerStatus::Stopped);
  EXPECT_EQ(state_json(st, ContainerStatus::Stopped)["pid"], 0);
}

TEST(State, OwnProcessIsAliveAndStartTimeGuardsReuse) {
  pid_t me = ::getpid();
  auto start = process_start_time(me);
  EXPECT_GT(start, 0u);
  EXPECT_TRUE(process_alive(me, start));
  EXPECT_FALSE(process_alive(me, start + 1));
}

TEST(State, SaveLoadRoundTripAndConflict) {
  char tmp[] = "/tmp/silo-state-XXXXXX";
  ASSERT_NE(::mkdtemp(tmp), nullptr);
  StateDir dir(std::string(tmp) + "/root");
  ASSERT_TRUE(dir.reserve("c1"));
  auto again = dir.reserve("c1");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::Conflict);
  ContainerState st;
  st.id = "c1";
  st.bundle = "/b";
  st.pid = 42;
  st.config = Json{{"ociVersion", "1.0.2"}};
  ASSERT_TRUE(dir.save(st));
  auto back = dir.load("c1");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->pid, 42);
  EXPECT_EQ(back->bundle, "/b");
  EXPECT_EQ(dir.list(), std::vector<std::string>{"c1"});
  auto missing = dir.load("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "container nope does not exist");
  ASSERT_TRUE(sys::remove_all(tmp));
}

}  // namespace
}  // namespace silo::runtime
