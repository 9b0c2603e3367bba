// inspect_json: Docker's ContainerJSON shape and zero values for a stored container.

#include <gtest/gtest.h>

#include "engine/container_config.h"
#include "engine/store.h"

namespace silo::engine {
namespace {

ContainerRecord record(const std::string& body) {
  ImageConfig img;
  img.cmd = {"sh"};
  auto req = parse_create_request(Json::parse(body), img);
  EXPECT_TRUE(req) << req.error().message;
  ContainerRecord rec;
  rec.id = std::string(64, 'b');
  rec.name = "web";
  rec.image = "busybox";
  rec.image_id = "sha256:" + std::string(64, 'c');
  rec.created = "2026-11-23T10:00:00.000000001Z";
  if (req) {
    rec.config = req->config;
    rec.host_config = req->host_config;
  }
  return rec;
}

const std::string kLog = "/var/lib/silo/containers/bbb/bbb-json.log";

TEST(ContainerInspect, CreatedContainerHasDockersZeroValues) {
  auto rec = record(R"({"Image":"busybox","Entrypoint":["/bin/echo"],"Cmd":["a","b"]})");
  Json j = inspect_json(rec, kLog, "/var/lib/silo/containers/bbb/rootfs");
  EXPECT_EQ(j["Id"], rec.id);
  EXPECT_EQ(j["Name"], "/web");
  EXPECT_EQ(j["Path"], "/bin/echo");
  EXPECT_EQ(j["Args"], Json::array({"a", "b"}));
  EXPECT_EQ(j["Image"], rec.image_id);
  EXPECT_EQ(j["Driver"], "overlay2");
  EXPECT_EQ(j["Platform"], "linux");
  EXPECT_TRUE(j["ExecIDs"].is_null());
  const Json& s = j["State"];
  EXPECT_EQ(s["Status"], "created");
  EXPECT_EQ(s["Running"], false);
  EXPECT_EQ(s["Pid"], 0);
  EXPECT_EQ(s["StartedAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(s["FinishedAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(j["LogPath"], "");
  EXPECT_EQ(j["Config"]["Hostname"], "bbbbbbbbbbbb");
  EXPECT_EQ(j["GraphDriver"]["Name"], "overlay2");
  EXPECT_EQ(j["GraphDriver"]["Data"]["MergedDir"], "/var/lib/silo/containers/bbb/rootfs");
  EXPECT_EQ(j["GraphDriver"]["Data"]["UpperDir"], "/var/lib/silo/containers/bbb/upper");
  EXPECT_EQ(j["Mounts"], Json::array());
  EXPECT_TRUE(j["NetworkSettings"].contains("Networks"));
  EXPECT_EQ(j["HostConfig"]["NetworkMode"], "default");
  for (const char* k : {"ResolvConfPath", "HostnamePath", "HostsPath", "MountLabel", "ProcessLabel",
                        "AppArmorProfile", "RestartCount"})
    EXPECT_TRUE(j.contains(k)) << k;
}

TEST(ContainerInspect, RunningStateAndPaths) {
  auto rec = record(R"({"Image":"busybox"})");
  rec.state.status = "running";
  rec.state.pid = 4242;
  rec.state.started_at = "2026-11-23T10:00:01Z";
  Json j = inspect_json(rec, kLog, "/r");
  EXPECT_EQ(j["State"]["Running"], true);
  EXPECT_EQ(j["State"]["Pid"], 4242);
  EXPECT_EQ(j["State"]["StartedAt"], "2026-11-23T10:00:01Z");
  EXPECT_EQ(j["LogPath"], kLog);
  EXPECT_EQ(j["HostsPath"], "/var/lib/silo/containers/bbb/hosts");
  rec.state.status = "exited";
  rec.state.exit_code = 3;
  j = inspect_json(rec, kLog, "/r");
  EXPECT_EQ(j["State"]["Running"], false);
  EXPECT_EQ(j["State"]["Pid"], 0);
  EXPECT_EQ(j["State"]["ExitCode"], 3);
}

TEST(ContainerInspect, MountsFromBindsVolumesAndMounts) {
  auto rec = record(
      R"({"Image":"busybox","HostConfig":{"Binds":["/tmp:/src:ro","named:/data"],"Mounts":[{"Type":"tmpfs","Target":"/x"}]}})");
  Json j = inspect_json(rec, kLog, "/r");
  ASSERT_EQ(j["Mounts"].size(), 3u) << j["Mounts"].dump();
  EXPECT_EQ(j["Mounts"][0], (Json{{"Type", "bind"},
                                  {"Source", "/tmp"},
                                  {"Destination", "/src"},
                                  {"Mode", "ro"},
                                  {"RW", false},
                                  {"Propagation", "rprivate"}}));
  EXPECT_EQ(j["Mounts"][1], (Json{{"Type", "volume"},
                                  {"Name", "named"},
                                  {"Source", "/var/lib/silo/volumes/named/_data"},
                                  {"Destination", "/data"},
                                  {"Driver", "local"},
                                  {"Mode", "z"},
                                  {"RW", true},
                                  {"Propagation", ""}}));
  EXPECT_EQ(j["Mounts"][2]["Type"], "tmpfs");
  EXPECT_EQ(j["Mounts"][2]["Destination"], "/x");
}

}  // namespace
}  // namespace silo::engine
