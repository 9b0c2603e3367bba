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

const Json* find_mount(const Json& spec, const std::string& dest) {
  for (const auto& m : spec["mounts"])
    if (m["destination"] == dest) return &m;
  return nullptr;
}

TEST_F(ContainerSpec, BindsVolumesTmpfsAndInit) {
  paths_.volumes = {
      {"named", "/vols/named/_data"}, {"/anon", "/vols/123/_data"}, {"/cfgvol", "/vols/456/_data"}};
  paths_.init_path = "/usr/libexec/silo-init";
  paths_.hosts_file = "/c/hosts";
  auto spec = build(
      R"({"Cmd":["top"],"Volumes":{"/cfgvol":{}},"HostConfig":{"Init":true,"Binds":["/tmp:/src:ro","named:/data","/anon"],
          "Tmpfs":{"/run":"exec,size=1m"},"Mounts":[{"Type":"tmpfs","Target":"/x","TmpfsOptions":{"SizeBytes":1000}},
          {"Type":"bind","Source":"/tmp","Target":"/b","BindOptions":{"Propagation":"rslave"}}]}})");
  ASSERT_TRUE(spec) << spec.error().message;
  ASSERT_TRUE(runtime::parse_spec(*spec));
  EXPECT_EQ(spec->at("process")["args"], Json::array({"/sbin/docker-init", "--", "top"}));
  auto opts = [&](const char* d) {
    const Json* m = find_mount(*spec, d);
    return m ? (*m)["options"] : Json("missing");
  };
  EXPECT_EQ(opts("/src"), Json::array({"rbind", "ro", "rprivate"}));
  EXPECT_EQ((*find_mount(*spec, "/data"))["source"], "/vols/named/_data");
  EXPECT_EQ(opts("/data"), Json::array({"rbind"}));
  EXPECT_EQ((*find_mount(*spec, "/anon"))["source"], "/vols/123/_data");
  EXPECT_EQ((*find_mount(*spec, "/cfgvol"))["source"], "/vols/456/_data");
  EXPECT_EQ(opts("/run"), Json::array({"nosuid", "nodev", "rprivate", "exec", "size=1m"}));
  EXPECT_EQ(opts("/x"), Json::array({"noexec", "nosuid", "nodev", "rprivate", "size=1000"}));
  EXPECT_EQ(opts("/b"), Json::array({"rbind", "rslave"}));
  EXPECT_EQ(opts("/etc/hosts"), Json::array({"rbind", "rprivate"}));
  EXPECT_EQ((*find_mount(*spec, "/sbin/docker-init"))["source"], "/usr/libexec/silo-init");
  EXPECT_EQ(opts("/dev/shm"),
            Json::array({"nosuid", "noexec", "nodev", "mode=1777", "size=67108864"}));
}

TEST_F(ContainerSpec, UnpreparedVolumeIsAnError) {
  auto spec = build(R"({"HostConfig":{"Binds":["missing:/data"]}})");
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().code, Code::Invalid);
}

TEST_F(ContainerSpec, UserMountReplacesDefault) {
  auto spec = build(R"({"HostConfig":{"Tmpfs":{"/dev/shm":"size=1m"},"ShmSize":1048576}})");
  ASSERT_TRUE(spec) << spec.error().message;
  int n = 0;
  for (const auto& m : spec->at("mounts")) n += m["destination"] == "/dev/shm";
  EXPECT_EQ(n, 1);
  EXPECT_EQ((*find_mount(*spec, "/dev/shm"))["source"], "tmpfs");
}

TEST_F(ContainerSpec, CapAddDropAndAll) {
  auto caps = [&](const std::string& hc) {
    auto spec = build(R"({"HostConfig":)" + hc + "}");
    EXPECT_TRUE(spec) << spec.error().message;
    return spec ? spec->at("process")["capabilities"]["bounding"] : Json();
  };
  auto has = [](const Json& list, const char* c) {
    return std::find(list.begin(), list.end(), Json(c)) != list.end();
  };
  Json a = caps(R"({"CapAdd":["net_admin"],"CapDrop":["CAP_MKNOD"]})");
  EXPECT_TRUE(has(a, "CAP_NET_ADMIN"));
  EXPECT_FALSE(has(a, "CAP_MKNOD"));
  EXPECT_TRUE(has(a, "CAP_CHOWN"));
  Json b = caps(R"({"CapDrop":["ALL"],"CapAdd":["CHOWN"]})");
  EXPECT_EQ(b, Json::array({"CAP_CHOWN"}));
  Json c = caps(R"({"CapAdd":["ALL"],"CapDrop":["NET_RAW"]})");
  EXPECT_TRUE(has(c, "CAP_SYS_ADMIN"));
  EXPECT_FALSE(has(c, "CAP_NET_RAW"));
}

TEST_F(ContainerSpec, RlimitsReadonlySysctlsAndSecurityOpts) {
  auto spec = build(
      R"({"Tty":true,"WorkingDir":"/srv","Env":["A=1"],"HostConfig":{"Ulimits":[{"Name":"nofile","Soft":100,"Hard":200}],
          "ReadonlyRootfs":true,"Sysctls":{"net.core.somaxconn":"1024"},"OomScoreAdj":-100,
          "SecurityOpt":["no-new-privileges","seccomp=unconfined"],"MemorySwappiness":10,"CpuPeriod":50000,"CpuQuota":25000}})");
  ASSERT_TRUE(spec) << spec.error().message;
  auto parsed = runtime::parse_spec(*spec);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->process.rlimits.size(), 1u);
  EXPECT_EQ(parsed->process.rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(parsed->process.rlimits[0].soft, 100u);
  EXPECT_EQ(parsed->process.rlimits[0].hard, 200u);
  EXPECT_TRUE(parsed->root.readonly);
  EXPECT_TRUE(parsed->process.terminal);
  EXPECT_EQ(parsed->process.cwd, "/srv");
  EXPECT_EQ(parsed->linux.sysctl.at("net.core.somaxconn"), "1024");
  EXPECT_EQ(*parsed->process.oom_score_adj, -100);
  EXPECT_TRUE(parsed->process.no_new_privileges);
  EXPECT_FALSE(parsed->linux.seccomp.has_value());
  EXPECT_EQ(*parsed->linux.resources->memory->swappiness, 10u);
  EXPECT_EQ(*parsed->linux.resources->cpu->period, 50000u);
  EXPECT_EQ(*parsed->linux.resources->cpu->quota, 25000);
  auto env = parsed->process.env;
  EXPECT_NE(std::find(env.begin(), env.end(), "TERM=xterm"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(), "A=1"), env.end());
}

TEST_F(ContainerSpec, HostModesDropNamespaces) {
  auto spec = build(R"({"HostConfig":{"PidMode":"host","IpcMode":"host","UTSMode":"host"}})");
  ASSERT_TRUE(spec) << spec.error().message;
  auto parsed = runtime::parse_spec(*spec);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->linux.find_namespace("pid"), nullptr);
  EXPECT_EQ(parsed->linux.find_namespace("ipc"), nullptr);
  EXPECT_EQ(parsed->linux.find_namespace("uts"), nullptr);
  EXPECT_EQ(parsed->hostname, "");
  EXPECT_EQ((*find_mount(*spec, "/dev/shm"))["source"], "/dev/shm");
}

}  // namespace
}  // namespace silo::engine
