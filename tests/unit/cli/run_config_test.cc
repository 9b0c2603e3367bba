// `silo run` flags into the POST /containers/create body, as the docker CLI builds it.
#include <gtest/gtest.h>

#include "cli/flags.h"
#include "cli/run_config.h"

namespace silo::cli {
namespace {

Json body_for(const std::vector<std::string>& argv) {
  auto p = parse_flags(run_flag_specs(), argv, false);
  EXPECT_TRUE(p) << (p ? "" : p.error().message);
  auto plan = build_create(*p);
  EXPECT_TRUE(plan) << (plan ? "" : plan.error().message);
  return plan ? plan->body : Json();
}

TEST(Flags, OptionsStopAtTheImage) {
  auto p = parse_flags(run_flag_specs(), {"-it", "--rm", "busybox", "ls", "-l"}, false);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->on("interactive"));
  EXPECT_TRUE(p->on("tty"));
  EXPECT_TRUE(p->on("rm"));
  EXPECT_EQ(p->args, (std::vector<std::string>{"busybox", "ls", "-l"}));
}

TEST(Flags, CombinedShortFlagsAndGluedValues) {
  auto p = parse_flags(run_flag_specs(),
                       {"-itd", "-p80:80", "-eA=1", "-e", "B=2", "--name=web", "img"}, false);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->on("detach"));
  EXPECT_EQ(p->all("publish"), std::vector<std::string>{"80:80"});
  EXPECT_EQ(p->all("env"), (std::vector<std::string>{"A=1", "B=2"}));
  EXPECT_EQ(p->get("name"), "web");
}

TEST(Flags, UnknownFlagsAndMissingValues) {
  auto p = parse_flags(run_flag_specs(), {"--bogus", "img"}, false);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "unknown flag: --bogus");
  p = parse_flags(run_flag_specs(), {"-Z", "img"}, false);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "unknown shorthand flag: 'Z' in -Z");
  p = parse_flags(run_flag_specs(), {"--name"}, false);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "flag needs an argument: --name");
}

TEST(Flags, InterspersedForOtherCommands) {
  std::vector<FlagSpec> specs = {{"f,force"}};
  auto p = parse_flags(specs, {"a", "-f", "b", "--", "-c"}, true);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->on("force"));
  EXPECT_EQ(p->args, (std::vector<std::string>{"a", "b", "-c"}));
}

TEST(RunConfig, ForegroundAttachesStdoutAndStderr) {
  Json b = body_for({"busybox", "echo", "hi"});
  EXPECT_EQ(b["Image"], "busybox");
  EXPECT_EQ(b["Cmd"], Json({"echo", "hi"}));
  EXPECT_EQ(b["AttachStdout"], true);
  EXPECT_EQ(b["AttachStderr"], true);
  EXPECT_EQ(b["AttachStdin"], false);
  EXPECT_EQ(b["HostConfig"]["NetworkMode"], "default");
}

TEST(RunConfig, InteractiveTty) {
  Json b = body_for({"-it", "busybox", "sh"});
  EXPECT_EQ(b["Tty"], true);
  EXPECT_EQ(b["OpenStdin"], true);
  EXPECT_EQ(b["AttachStdin"], true);
  EXPECT_EQ(b["StdinOnce"], true);
}

TEST(RunConfig, DetachAttachesNothing) {
  Json b = body_for({"-d", "busybox"});
  EXPECT_EQ(b["AttachStdout"], false);
  EXPECT_EQ(b["AttachStdin"], false);
  EXPECT_FALSE(b.contains("Cmd"));
}

TEST(RunConfig, EnvLabelsHostnameUserWorkdirEntrypoint) {
  setenv("SILO_TEST_FROM_ENV", "yes", 1);
  Json b =
      body_for({"-e", "A=1", "--env", "SILO_TEST_FROM_ENV", "-l", "k=v", "--label", "flag", "-h",
                "box", "-u", "1000:1000", "-w", "/tmp", "--entrypoint", "/bin/sh", "img"});
  EXPECT_EQ(b["Env"], Json({"A=1", "SILO_TEST_FROM_ENV=yes"}));
  EXPECT_EQ(b["Labels"], Json({{"k", "v"}, {"flag", ""}}));
  EXPECT_EQ(b["Hostname"], "box");
  EXPECT_EQ(b["User"], "1000:1000");
  EXPECT_EQ(b["WorkingDir"], "/tmp");
  EXPECT_EQ(b["Entrypoint"], Json({"/bin/sh"}));
}

TEST(RunConfig, VolumesBindsAndMounts) {
  Json b = body_for({"-v", "/data", "-v", "/host:/ctr:ro", "--mount",
                     "type=bind,source=/a,target=/b,readonly", "--tmpfs", "/run:size=64m", "img"});
  EXPECT_EQ(b["Volumes"], Json({{"/data", Json::object()}}));
  EXPECT_EQ(b["HostConfig"]["Binds"], Json({"/host:/ctr:ro"}));
  EXPECT_EQ(b["HostConfig"]["Mounts"][0]["Type"], "bind");
  EXPECT_EQ(b["HostConfig"]["Mounts"][0]["Source"], "/a");
  EXPECT_EQ(b["HostConfig"]["Mounts"][0]["Target"], "/b");
  EXPECT_EQ(b["HostConfig"]["Mounts"][0]["ReadOnly"], true);
  EXPECT_EQ(b["HostConfig"]["Tmpfs"], Json({{"/run", "size=64m"}}));
}

TEST(RunConfig, PublishMakesPortBindingsAndExposedPorts) {
  Json b = body_for({"-p", "8080:80", "-p", "127.0.0.1:5353:53/udp", "-p", "9000", "img"});
  EXPECT_EQ(
      b["ExposedPorts"],
      Json({{"80/tcp", Json::object()}, {"53/udp", Json::object()}, {"9000/tcp", Json::object()}}));
  auto& pb = b["HostConfig"]["PortBindings"];
  EXPECT_EQ(pb["80/tcp"][0]["HostPort"], "8080");
  EXPECT_EQ(pb["80/tcp"][0]["HostIp"], "");
  EXPECT_EQ(pb["53/udp"][0]["HostIp"], "127.0.0.1");
  EXPECT_EQ(pb["53/udp"][0]["HostPort"], "5353");
  EXPECT_EQ(pb["9000/tcp"][0]["HostPort"], "");
}

TEST(RunConfig, PublishRangeAndErrors) {
  auto r = parse_publish("8000-8001:80-81");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].container_port, "81/tcp");
  EXPECT_EQ((*r)[1].host_port, "8001");
  EXPECT_FALSE(parse_publish("80:abc"));
  EXPECT_FALSE(parse_publish("80/bogus"));
}

TEST(RunConfig, Resources) {
  Json b =
      body_for({"-m", "512m", "--memory-swap", "1g", "--cpus", "1.5", "-c", "512", "--cpuset-cpus",
                "0-1", "--pids-limit", "100", "--ulimit", "nofile=1024:2048", "img"});
  auto& h = b["HostConfig"];
  EXPECT_EQ(h["Memory"], 512LL * 1024 * 1024);
  EXPECT_EQ(h["MemorySwap"], 1024LL * 1024 * 1024);
  EXPECT_EQ(h["NanoCpus"], 1500000000LL);
  EXPECT_EQ(h["CpuShares"], 512);
  EXPECT_EQ(h["CpusetCpus"], "0-1");
  EXPECT_EQ(h["PidsLimit"], 100);
  EXPECT_EQ(h["Ulimits"][0], Json({{"Name", "nofile"}, {"Soft", 1024}, {"Hard", 2048}}));
}

TEST(RunConfig, SecurityRestartInitAndLogging) {
  Json b = body_for(
      {"--cap-add", "NET_ADMIN",    "--cap-drop", "ALL",           "--privileged", "--read-only",
       "--restart", "on-failure:3", "--init",     "--stop-signal", "SIGUSR1",      "--stop-timeout",
       "5",         "--log-driver", "json-file",  "--log-opt",     "max-size=10m", "--network",
       "none",      "img"});
  auto& h = b["HostConfig"];
  EXPECT_EQ(h["CapAdd"], Json({"NET_ADMIN"}));
  EXPECT_EQ(h["CapDrop"], Json({"ALL"}));
  EXPECT_EQ(h["Privileged"], true);
  EXPECT_EQ(h["ReadonlyRootfs"], true);
  EXPECT_EQ(h["RestartPolicy"], Json({{"Name", "on-failure"}, {"MaximumRetryCount", 3}}));
  EXPECT_EQ(h["Init"], true);
  EXPECT_EQ(h["NetworkMode"], "none");
  EXPECT_EQ(h["LogConfig"], Json({{"Type", "json-file"}, {"Config", {{"max-size", "10m"}}}}));
  EXPECT_EQ(b["StopSignal"], "SIGUSR1");
  EXPECT_EQ(b["StopTimeout"], 5);
}

TEST(RunConfig, AttachFlagPicksStreams) {
  Json b = body_for({"-a", "stdout", "img"});
  EXPECT_EQ(b["AttachStdout"], true);
  EXPECT_EQ(b["AttachStderr"], false);
  auto p = parse_flags(run_flag_specs(), {"-d", "-a", "stdout", "img"}, false);
  ASSERT_TRUE(p);
  auto plan = build_create(*p);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message, "Conflicting options: -a and -d");
}

TEST(RunConfig, BadValuesNameTheFlag) {
  auto p = parse_flags(run_flag_specs(), {"-m", "lots", "img"}, false);
  ASSERT_TRUE(p);
  auto plan = build_create(*p);
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message.find("\"-m, --memory\""), std::string::npos);
  p = parse_flags(run_flag_specs(), {"--rm", "--restart", "always", "img"}, false);
  ASSERT_FALSE(build_create(*p));
}

}  // namespace
}  // namespace silo::cli
