// build_oci_spec: the spec parses with the runtime's own parser and carries Docker's
// defaults and the request's settings.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "engine/container_config.h"
#include "runtime/spec.h"
#include "temp_dir.h"

namespace silo::engine {
namespace {

using testing::TempDir;

class ContainerSpec : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.path() + "/rootfs/etc");
    std::ofstream(dir_.path() + "/rootfs/etc/passwd")
        << "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/sh\n"
           "app:x:1000:1000::/home/app:/bin/sh\n";
    std::ofstream(dir_.path() + "/rootfs/etc/group")
        << "root:x:0:\nwww:x:33:\napp:x:1000:\naudio:x:29:app\nstaff:x:50:\n";
    paths_.rootfs = dir_.path() + "/rootfs";
    paths_.cgroups_path = "silo/" + id_;
  }

  Result<Json> build(const std::string& body) {
    ImageConfig img;
    img.env = {"PATH=/bin"};
    img.cmd = {"sh"};
    auto req = parse_create_request(Json::parse(body), img);
    if (!req) return std::unexpected(req.error());
    return build_oci_spec(*req, id_, paths_);
  }

  static bool has_mount(const Json& spec, const std::string& dest) {
    for (const auto& m : spec["mounts"])
      if (m["destination"] == dest) return true;
    return false;
  }

  TempDir dir_;
  SpecPaths paths_;
  std::string id_ = std::string(64, 'a');
};

TEST_F(ContainerSpec, DefaultsParseWithTheRuntime) {
  auto spec = build(R"({"Image":"busybox"})");
  ASSERT_TRUE(spec) << spec.error().message;
  auto parsed = runtime::parse_spec(*spec);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->process.args, std::vector<std::string>{"sh"});
  EXPECT_EQ(parsed->hostname, "aaaaaaaaaaaa");
  EXPECT_EQ(parsed->root.path, paths_.rootfs);
  EXPECT_EQ(parsed->linux.cgroups_path, "silo/" + id_);
  ASSERT_TRUE(parsed->process.capabilities);
  EXPECT_EQ(parsed->process.capabilities->bounding.size(), 14u);
  for (const char* d :
       {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"})
    EXPECT_TRUE(has_mount(*spec, d)) << d;
  for (const char* ns : {"pid", "ipc", "uts", "mount", "network"})
    EXPECT_NE(parsed->linux.find_namespace(ns), nullptr) << ns;
  EXPECT_TRUE(parsed->linux.seccomp.has_value());
  EXPECT_FALSE(parsed->linux.masked_paths.empty());
  auto env = parsed->process.env;
  EXPECT_NE(std::find(env.begin(), env.end(), "PATH=/bin"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(), "HOSTNAME=aaaaaaaaaaaa"), env.end());
}

TEST_F(ContainerSpec, UserResolvedFromRootfs) {
  auto spec = build(R"({"User":"app"})");
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->at("process")["user"]["uid"], 1000);
  EXPECT_EQ(spec->at("process")["user"]["gid"], 1000);
  EXPECT_EQ(spec->at("process")["user"]["additionalGids"], Json::array({29}));
  auto num = build(R"({"User":"33:50"})");
  ASSERT_TRUE(num);
  EXPECT_EQ(num->at("process")["user"]["uid"], 33);
  EXPECT_EQ(num->at("process")["user"]["gid"], 50);
  auto bad = build(R"({"User":"nobody"})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "unable to find user nobody: no matching entries in passwd file");
}

TEST_F(ContainerSpec, ResourcesAndNetns) {
  paths_.netns = "/run/silo/netns/x";
  auto spec = build(
      R"({"HostConfig":{"Memory":67108864,"NanoCpus":1500000000,"CpuShares":512,"PidsLimit":50,"CpusetCpus":"0"}})");
  ASSERT_TRUE(spec) << spec.error().message;
  auto parsed = runtime::parse_spec(*spec);
  ASSERT_TRUE(parsed) << parsed.error().message;
  const auto& r = *parsed->linux.resources;
  EXPECT_EQ(*r.memory->limit, 67108864);
  EXPECT_EQ(*r.cpu->quota, 150000);
  EXPECT_EQ(*r.cpu->period, 100000u);
  EXPECT_EQ(*r.cpu->shares, 512u);
  EXPECT_EQ(r.cpu->cpus, "0");
  EXPECT_EQ(*r.pids_limit, 50);
  EXPECT_EQ(parsed->linux.find_namespace("network")->path, "/run/silo/netns/x");
}

TEST_F(ContainerSpec, PrivilegedHasAllCapsNoSeccompNoMasks) {
  auto spec = build(R"({"HostConfig":{"Privileged":true}})");
  ASSERT_TRUE(spec) << spec.error().message;
  auto parsed = runtime::parse_spec(*spec);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_GT(parsed->process.capabilities->bounding.size(), 30u);
  EXPECT_FALSE(parsed->linux.seccomp.has_value());
  EXPECT_TRUE(parsed->linux.masked_paths.empty());
}

TEST_F(ContainerSpec, NetworkHostHasNoNetworkNamespace) {
  auto spec = build(R"({"HostConfig":{"NetworkMode":"host"}})");
  ASSERT_TRUE(spec) << spec.error().message;
  auto parsed = runtime::parse_spec(*spec);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->linux.find_namespace("network"), nullptr);
}

}  // namespace
}  // namespace silo::engine
