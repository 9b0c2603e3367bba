#include "image/config.h"

#include <gtest/gtest.h>

namespace silo::image {
namespace {

const std::string kL1 = "sha256:" + std::string(64, '1');
const std::string kL2 = "sha256:" + std::string(64, '2');

// The shape `docker image inspect` shows for a real image (nginx-like, trimmed).
std::string config_json() {
  return R"({
  "architecture": "arm64", "variant": "v8", "os": "linux",
  "created": "2024-02-01T00:00:00Z", "author": "ops",
  "config": {
    "User": "101:101",
    "Env": ["PATH=/usr/local/sbin:/usr/bin", "NGINX_VERSION=1.25.3"],
    "Entrypoint": ["/docker-entrypoint.sh"],
    "Cmd": ["nginx", "-g", "daemon off;"],
    "WorkingDir": "/srv",
    "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
    "Volumes": {"/var/cache/nginx": {}},
    "Labels": {"maintainer": "NGINX Docker Maintainers"},
    "StopSignal": "SIGQUIT",
    "Healthcheck": {"Test": ["CMD-SHELL", "curl -f http://localhost/"], "Interval": 30000000000,
                    "Timeout": 5000000000, "StartPeriod": 1000000000, "Retries": 3},
    "ArgsEscaped": true,
    "OnBuild": null
  },
  "rootfs": {"type": "layers", "diff_ids": [")" +
         kL1 + R"(", ")" + kL2 + R"("]},
  "history": [
    {"created": "2024-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
    {"created": "2024-01-01T00:00:01Z", "created_by": "/bin/sh -c #(nop)  CMD [\"bash\"]", "empty_layer": true},
    {"created": "2024-01-01T00:00:02Z", "created_by": "RUN apt-get install nginx", "comment": "buildkit.dockerfile.v0"}
  ]})";
}

TEST(ImageConfig, ParsesEveryField) {
  auto c = parse_image_config(config_json());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->platform.str(), "linux/arm64/v8");
  EXPECT_EQ(c->created, "2024-02-01T00:00:00Z");
  EXPECT_EQ(c->author, "ops");
  const RunConfig& r = c->config;
  EXPECT_EQ(r.user, "101:101");
  EXPECT_EQ(r.env.size(), 2u);
  EXPECT_EQ(r.entrypoint, std::vector<std::string>{"/docker-entrypoint.sh"});
  EXPECT_EQ(r.cmd.size(), 3u);
  EXPECT_EQ(r.working_dir, "/srv");
  EXPECT_EQ(r.exposed_ports, (std::set<std::string>{"443/tcp", "80/tcp"}));
  EXPECT_EQ(r.volumes, std::set<std::string>{"/var/cache/nginx"});
  EXPECT_EQ(r.labels.at("maintainer"), "NGINX Docker Maintainers");
  EXPECT_EQ(r.stop_signal, "SIGQUIT");
  EXPECT_TRUE(r.args_escaped);
  ASSERT_TRUE(r.healthcheck);
  EXPECT_EQ(r.healthcheck->test.at(0), "CMD-SHELL");
  EXPECT_EQ(r.healthcheck->interval_ns, 30000000000);
  EXPECT_EQ(r.healthcheck->timeout_ns, 5000000000);
  EXPECT_EQ(r.healthcheck->start_period_ns, 1000000000);
  EXPECT_EQ(r.healthcheck->retries, 3);
  ASSERT_EQ(c->diff_ids.size(), 2u);
  EXPECT_EQ(c->diff_ids[1].str(), kL2);
  ASSERT_EQ(c->history.size(), 3u);
  EXPECT_TRUE(c->history[1].empty_layer);
  EXPECT_EQ(c->history[2].comment, "buildkit.dockerfile.v0");
}

TEST(ImageConfig, MinimalConfigWithNulls) {
  auto c = parse_image_config(
      R"({"architecture": "amd64", "os": "linux", "config": {"Env": null, "Cmd": null},
          "rootfs": {"type": "layers", "diff_ids": []}})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->config.cmd.empty());
  EXPECT_FALSE(c->config.healthcheck);
  EXPECT_TRUE(c->history.empty());
}

TEST(ImageConfig, ErrorsNameTheField) {
  auto msg = [](const std::string& body) {
    auto r = parse_image_config(body);
    return r ? std::string("parsed") : r.error().message;
  };
  const std::string rootfs = R"("rootfs": {"type": "layers", "diff_ids": []})";
  EXPECT_EQ(msg(R"({"os": "linux", )" + rootfs + "}"),
            "config.architecture: missing; the image config names no platform");
  EXPECT_EQ(msg(R"({"architecture": "amd64", "config": {"Env": "A=1"}, )" + rootfs + "}"),
            "config.config.Env: wrong type (string)");
  EXPECT_EQ(
      msg(R"({"architecture": "amd64", "config": {"ExposedPorts": ["80/tcp"]}, )" + rootfs + "}"),
      "config.config.ExposedPorts: expected an object, got array");
  EXPECT_EQ(msg(R"({"architecture": "amd64", "config": {"Healthcheck": {"Interval": "30s"}}, )" +
                rootfs + "}"),
            "config.config.Healthcheck.Interval: expected an integer (nanoseconds)");
  EXPECT_EQ(msg(R"({"architecture": "amd64", "rootfs": {"type": "zfs"}})"),
            "config.rootfs.type: expected \"layers\", got \"zfs\"");
  EXPECT_EQ(
      msg(R"({"architecture": "amd64", "rootfs": {"type": "layers", "diff_ids": ["sha256:1"]}})"),
      "config.rootfs.diff_ids[0]: invalid digest \"sha256:1\": invalid checksum digest length");
  EXPECT_EQ(msg(R"({"architecture": "amd64", "history": [1], )" + rootfs + "}"),
            "config.history[0]: expected an object");
  EXPECT_EQ(msg("3"), "image config: expected a JSON object, got number");
}

TEST(ImageConfig, LayersMustMatchTheManifest) {
  auto c = parse_image_config(config_json());
  ASSERT_TRUE(c);
  Manifest m;
  m.config.digest = *Digest::parse("sha256:" + std::string(64, 'f'));
  m.layers.resize(2);
  EXPECT_TRUE(check_layers_match(m, *c));
  m.layers.resize(3);
  auto r = check_layers_match(m, *c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "image config sha256:ffffffffffff… lists 2 diff_ids but its manifest has 3 layers; "
            "the image is broken, rebuild or re-push it");
}

}  // namespace
}  // namespace silo::image
