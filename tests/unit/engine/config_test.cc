// DaemonConfig: defaults, daemon.json, overrides, errors.

#include "engine/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "temp_dir.h"

namespace silo::engine {
namespace {

using testing::TempDir;

std::string write(const TempDir& dir, const std::string& text) {
  std::string path = dir.file("daemon.json");
  std::ofstream(path) << text;
  return path;
}

TEST(Config, DefaultsWhenTheDefaultFileIsMissing) {
  TempDir dir;
  auto cfg = load_daemon_config(dir.file("absent.json"), false);
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->root, "/var/lib/silo");
  EXPECT_EQ(cfg->exec_root, "/run/silo");
  EXPECT_EQ(cfg->hosts, std::vector<std::string>{"unix:///run/silo/silo.sock"});
  EXPECT_EQ(cfg->log_level, "info");
  EXPECT_EQ(cfg->log_driver, "json-file");
  EXPECT_TRUE(cfg->live_restore);
  EXPECT_EQ(cfg->log_max_size(), -1);
  EXPECT_EQ(cfg->log_max_file(), 1);
  EXPECT_TRUE(cfg->config_file.empty());
  EXPECT_EQ(cfg->db_path(), "/var/lib/silo/silo.db");
  EXPECT_EQ(cfg->containers_dir(), "/var/lib/silo/containers");
  EXPECT_EQ(cfg->volumes_dir(), "/var/lib/silo/volumes");
  EXPECT_EQ(cfg->run_dir(), "/run/silo");
}

TEST(Config, MissingFileNamedOnTheCommandLineIsAnError) {
  TempDir dir;
  auto cfg = load_daemon_config(dir.file("absent.json"), true);
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.error().message.find("absent.json"), std::string::npos);
}

TEST(Config, FileValues) {
  TempDir dir;
  std::string path = write(dir, R"({
    "data-root": "/srv/silo", "exec-root": "/run/silo2",
    "hosts": ["unix:///run/silo2/s.sock", "tcp://0.0.0.0:2376"],
    "log-level": "debug", "log-driver": "json-file",
    "log-opts": {"max-size": "10m", "max-file": "3"},
    "storage-driver": "vfs",
    "default-ulimits": {"nofile": {"Name": "nofile", "Soft": 1024, "Hard": 4096}},
    "bridge": "none", "fixed-cidr": "172.16.0.0/12",
    "insecure-registries": ["reg.local:5000"], "registry-mirrors": ["https://mirror.example"],
    "live-restore": false, "default-runtime": "runc"
  })");
  auto cfg = load_daemon_config(path, true);
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->root, "/srv/silo");
  EXPECT_EQ(cfg->db_path(), "/srv/silo/silo.db");
  EXPECT_EQ(cfg->run_dir(), "/run/silo2");
  EXPECT_EQ(cfg->hosts.size(), 2u);
  EXPECT_EQ(cfg->log_level, "debug");
  EXPECT_EQ(cfg->log_max_size(), 10000000);  // decimal, as dockerd's json-file
  EXPECT_EQ(cfg->log_max_file(), 3);
  EXPECT_EQ(cfg->storage_driver, "vfs");
  EXPECT_EQ(cfg->default_ulimits.at("nofile").soft, 1024);
  EXPECT_EQ(cfg->default_ulimits.at("nofile").hard, 4096);
  EXPECT_EQ(cfg->bridge, "none");
  EXPECT_EQ(cfg->fixed_cidr, "172.16.0.0/12");
  EXPECT_EQ(cfg->insecure_registries, std::vector<std::string>{"reg.local:5000"});
  EXPECT_EQ(cfg->registry_mirrors, std::vector<std::string>{"https://mirror.example"});
  EXPECT_FALSE(cfg->live_restore);
  EXPECT_EQ(cfg->default_runtime, "runc");
  EXPECT_EQ(cfg->config_file, path);
}

TEST(Config, UnknownKeysAreNamedWithTheFile) {
  TempDir dir;
  std::string path = write(dir, R"({"log-level": "info", "foo": 1, "bar": true})");
  auto cfg = load_daemon_config(path, true);
  ASSERT_FALSE(cfg);
  EXPECT_EQ(cfg.error().code, Code::Invalid);
  EXPECT_EQ(cfg.error().message, "unable to configure the Silo daemon with file " + path +
                                     ": the following directives don't match any configuration "
                                     "option: bar, foo");
}

TEST(Config, WrongTypeNamesTheKey) {
  TempDir dir;
  std::string path = write(dir, R"({"live-restore": "yes"})");
  auto cfg = load_daemon_config(path, true);
  ASSERT_FALSE(cfg);
  EXPECT_EQ(cfg.error().message, "unable to configure the Silo daemon with file " + path +
                                     ": live-restore: want a boolean, got string");
  path = write(dir, R"({"log-opts": {"max-file": 3}})");
  cfg = load_daemon_config(path, true);
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.error().message.find("log-opts.max-file: want a string, got number"),
            std::string::npos);
  path = write(dir, R"({"hosts": "unix:///x"})");
  EXPECT_NE(load_daemon_config(path, true).error().message.find("hosts: want an array of strings"),
            std::string::npos);
}

TEST(Config, InvalidJsonAndNonObject) {
  TempDir dir;
  std::string path = write(dir, "{\"log-level\": ");
  auto cfg = load_daemon_config(path, true);
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.error().message.find("unable to configure the Silo daemon with file " + path),
            std::string::npos);
  path = write(dir, "[1]");
  EXPECT_NE(load_daemon_config(path, true).error().message.find("want a JSON object"),
            std::string::npos);
}

TEST(Config, ValuesAreValidated) {
  TempDir dir;
  struct Case {
    const char* json;
    const char* needle;
  } cases[] = {
      {R"({"log-opts": {"max-size": "10q"}})", "log-opts max-size: invalid size: '10q'"},
      {R"({"log-opts": {"max-file": "0"}})", "max-file: want an integer >= 1"},
      {R"({"log-opts": {"colour": "red"}})", "unknown log opt 'colour' for json-file log driver"},
      {R"({"log-level": "loud"})", "log-level: invalid level \"loud\""},
      {R"({"log-driver": "syslog"})", "unsupported driver \"syslog\""},
      {R"({"fixed-cidr": "10.0.0.0/33"})", "fixed-cidr: invalid CIDR address: 10.0.0.0/33"},
      {R"({"data-root": "relative"})", "data-root: must be an absolute path"},
      {R"({"hosts": ["http://x"]})", "invalid bind address format: http://x"},
      {R"({"default-ulimits": {"nofile": {"Name": "nofile", "Soft": 9, "Hard": 1}}})",
       "soft limit"},
      {R"({"default-ulimits": {"bogus": {"Soft": 1, "Hard": 1}}})", "invalid ulimit type: bogus"},
      {R"({"default-ulimits": {"nofile": {"Soft": "1"}}})",
       "default-ulimits.nofile.Soft: want an integer"},
  };
  for (const auto& c : cases) {
    std::string path = write(dir, c.json);
    auto cfg = load_daemon_config(path, true);
    ASSERT_FALSE(cfg) << c.json;
    EXPECT_NE(cfg.error().message.find(c.needle), std::string::npos) << cfg.error().message;
  }
}

TEST(Config, FlagsAddToTheFile) {
  TempDir dir;
  std::string path = write(dir, R"({"log-level": "warn", "data-root": "/a"})");
  auto cfg = load_daemon_config(path, true, Json{{"exec-root", "/run/t"}});
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->log_level, "warn");
  EXPECT_EQ(cfg->root, "/a");
  EXPECT_EQ(cfg->exec_root, "/run/t");
  auto bad = load_daemon_config(path, true, Json{{"nope", 1}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "unable to configure the Silo daemon from flags: the following directives don't match "
            "any configuration option: nope");
}

TEST(Config, ADirectiveInBothTheFileAndTheFlagsIsRefused) {
  TempDir dir;
  std::string path = write(dir, R"({"log-level": "warn", "data-root": "/a"})");
  auto cfg = load_daemon_config(path, true, Json{{"log-level", "error"}, {"exec-root", "/run/t"}});
  ASSERT_FALSE(cfg);
  EXPECT_EQ(cfg.error().message,
            "unable to configure the Silo daemon with file " + path +
                ": the following directives are specified both as a flag and in the configuration "
                "file: log-level: (from flag: error, from file: warn)");
}

TEST(Config, DebugSetsLogLevel) {
  DaemonConfig cfg;
  ASSERT_TRUE(apply_daemon_json(cfg, Json{{"debug", true}}, "x.json"));
  EXPECT_EQ(cfg.log_level, "debug");
}

}  // namespace
}  // namespace silo::engine
