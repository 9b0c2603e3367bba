// parse_create_request: normalisation, image merge rules and the basic checks.

#include <gtest/gtest.h>

#include "engine/container_config.h"

namespace silo::engine {
namespace {

ImageConfig busybox() {
  ImageConfig img;
  img.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=image"};
  img.cmd = {"sh"};
  img.labels = {{"from", "image"}, {"both", "image"}};
  return img;
}

Result<CreateRequest> parse(const std::string& body, const ImageConfig& img = busybox()) {
  return parse_create_request(Json::parse(body), img);
}

TEST(ContainerConfig, EveryFieldHasItsZeroValue) {
  auto r = parse(R"({"Image":"busybox"})");
  ASSERT_TRUE(r) << r.error().message;
  const Json& c = r->config;
  EXPECT_EQ(c["Hostname"], "");
  EXPECT_EQ(c["Tty"], false);
  EXPECT_EQ(c["Cmd"], Json::array({"sh"}));
  EXPECT_TRUE(c["Entrypoint"].is_null());
  EXPECT_TRUE(c["Volumes"].is_null());
  EXPECT_FALSE(c.contains("StopSignal"));
  const Json& hc = r->host_config;
  EXPECT_TRUE(hc["Binds"].is_null());
  EXPECT_EQ(hc["NetworkMode"], "default");
  EXPECT_EQ(hc["IpcMode"], "private");
  EXPECT_EQ(hc["ShmSize"], 67108864);
  EXPECT_EQ(hc["LogConfig"]["Type"], "json-file");
  EXPECT_EQ(hc["ConsoleSize"], Json::array({0, 0}));
  EXPECT_EQ(hc["Memory"], 0);
  EXPECT_TRUE(hc["PidsLimit"].is_null());
  EXPECT_TRUE(hc["MaskedPaths"].is_array());
  EXPECT_TRUE(r->networking_config.contains("EndpointsConfig"));
}

TEST(ContainerConfig, EnvMergedByKey) {
  auto r = parse(R"({"Env":["A=user","B=2"]})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->config["Env"],
            Json::array({"A=user", "B=2",
                         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}));
}

TEST(ContainerConfig, CmdFromImageOnlyWithoutCmdAndEntrypoint) {
  auto a = parse(R"({"Cmd":"echo hi"})");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->config["Cmd"], Json::array({"echo hi"}));
  auto b = parse(R"({"Entrypoint":["top"]})");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->config["Cmd"].is_null());
  EXPECT_EQ(b->config["Entrypoint"], Json::array({"top"}));
  ImageConfig img = busybox();
  img.entrypoint = {"/entry"};
  auto c = parse(R"({"Cmd":["x"]})", img);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->config["Entrypoint"], Json::array({"/entry"}));
  EXPECT_EQ(c->config["Cmd"], Json::array({"x"}));
  auto d = parse(R"({"Entrypoint":[""]})", img);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->config["Entrypoint"].is_null());
  EXPECT_EQ(d->config["Cmd"], Json::array({"sh"}));
}

TEST(ContainerConfig, LabelsWorkingDirUserStopSignalFromImage) {
  ImageConfig img = busybox();
  img.working_dir = "/srv";
  img.user = "nobody";
  img.stop_signal = "SIGQUIT";
  auto r = parse(R"({"Labels":{"both":"user","mine":"1"}})", img);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->config["Labels"], (Json{{"both", "user"}, {"mine", "1"}, {"from", "image"}}));
  EXPECT_EQ(r->config["WorkingDir"], "/srv");
  EXPECT_EQ(r->config["User"], "nobody");
  EXPECT_EQ(r->config["StopSignal"], "SIGQUIT");
  auto u = parse(R"({"User":"1000","WorkingDir":"/w","StopSignal":"SIGUSR1"})", img);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->config["User"], "1000");
  EXPECT_EQ(u->config["WorkingDir"], "/w");
  EXPECT_EQ(u->config["StopSignal"], "SIGUSR1");
}

TEST(ContainerConfig, NoCommand) {
  auto r = parse(R"({})", ImageConfig{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Invalid);
  EXPECT_EQ(r.error().message, "No command specified");
}

TEST(ContainerConfig, UnknownFieldsIgnored) {
  auto r = parse(R"({"Bogus":1,"HostConfig":{"Whatever":true}})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->config.contains("Bogus"));
  EXPECT_FALSE(r->host_config.contains("Whatever"));
}

}  // namespace
}  // namespace silo::engine
