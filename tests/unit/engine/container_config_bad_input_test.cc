// parse_create_request refuses every bad create option with dockerd 20.10's message
// (checked against a real dockerd) and the matching status code.

#include <gtest/gtest.h>

#include <unistd.h>

#include "engine/container_config.h"

namespace silo::engine {
namespace {

struct BadCase {
  const char* name;
  const char* body;
  Code code;
  std::string message;
};

std::ostream& operator<<(std::ostream& os, const BadCase& c) {
  return os << c.name;
}

int host_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof(set), &set);
  return CPU_COUNT(&set);
}

std::vector<BadCase> cases() {
  const std::string n = std::to_string(host_cpus());
  return {
      // Wrong JSON types: Go's json messages, with Go's error context.
      {"memory_string", R"({"HostConfig":{"Memory":"x"}})", Code::Invalid,
       "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type "
       "int64"},
      {"memory_float", R"({"HostConfig":{"Memory":1.5}})", Code::Invalid,
       "json: cannot unmarshal number 1.5 into Go struct field HostConfig.HostConfig.Memory of "
       "type "
       "int64"},
      {"env_string", R"({"Env":"x"})", Code::Invalid,
       "json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Env of type "
       "[]string"},
      {"env_number_item", R"({"Env":[1]})", Code::Invalid,
       "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Env of type "
       "string"},
      {"cmd_number", R"({"Cmd":5})", Code::Invalid,
       "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Cmd of type "
       "string"},
      {"cmd_number_item", R"({"Cmd":[1]})", Code::Invalid,
       "json: cannot unmarshal array into Go struct field ContainerConfigWrapper.Cmd of type "
       "string"},
      {"entrypoint_object", R"({"Entrypoint":{}})", Code::Invalid,
       "json: cannot unmarshal object into Go struct field ContainerConfigWrapper.Entrypoint of "
       "type "
       "string"},
      {"tty_string", R"({"Tty":"yes"})", Code::Invalid,
       "json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Tty of type "
       "bool"},
      {"openstdin_number", R"({"OpenStdin":1})", Code::Invalid,
       "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.OpenStdin of "
       "type "
       "bool"},
      {"user_number", R"({"User":0})", Code::Invalid,
       "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.User of type "
       "string"},
      {"labels_number", R"({"Labels":{"a":1}})", Code::Invalid,
       "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Labels of type "
       "string"},
      {"labels_array", R"({"Labels":["a"]})", Code::Invalid,
       "json: cannot unmarshal array into Go struct field ContainerConfigWrapper.Labels of type "
       "map[string]string"},
      {"hostconfig_string", R"({"HostConfig":"x"})", Code::Invalid,
       "json: cannot unmarshal string into Go struct field ContainerConfigWrapper.HostConfig of "
       "type "
       "container.HostConfig"},
      {"networkingconfig_string", R"({"NetworkingConfig":"x"})", Code::Invalid,
       "json: cannot unmarshal string into Go struct field ContainerConfigWrapper.NetworkingConfig "
       "of type network.NetworkingConfig"},
      {"restart_name_number", R"({"HostConfig":{"RestartPolicy":{"Name":5}}})", Code::Invalid,
       "json: cannot unmarshal number into Go struct field "
       "RestartPolicy.HostConfig.RestartPolicy.Name of type string"},
      {"restart_string", R"({"HostConfig":{"RestartPolicy":"x"}})", Code::Invalid,
       "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.RestartPolicy of "
       "type container.RestartPolicy"},
      {"ulimits_string", R"({"HostConfig":{"Ulimits":"x"}})", Code::Invalid,
       "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Ulimits of type "
       "[]*units.Ulimit"},
      {"ulimit_number", R"({"HostConfig":{"Ulimits":[5]}})", Code::Invalid,
       "json: cannot unmarshal number into Go struct field HostConfig.HostConfig.Ulimits of type "
       "units.Ulimit"},
      {"ulimit_name_number", R"({"HostConfig":{"Ulimits":[{"Name":5}]}})", Code::Invalid,
       "json: cannot unmarshal number into Go struct field Ulimit.HostConfig.Ulimits.Name of type "
       "string"},
      {"logconfig_type_number", R"({"HostConfig":{"LogConfig":{"Type":5}}})", Code::Invalid,
       "json: cannot unmarshal number into Go struct field LogConfig.HostConfig.LogConfig.Type of "
       "type string"},
      {"mounts_string", R"({"HostConfig":{"Mounts":"x"}})", Code::Invalid,
       "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Mounts of type "
       "[]mount.Mount"},
      {"mount_type_number", R"({"HostConfig":{"Mounts":[{"Type":5}]}})", Code::Invalid,
       "json: cannot unmarshal number into Go struct field Mount.HostConfig.Mounts.Type of type "
       "mount.Type"},
      {"binds_string", R"({"HostConfig":{"Binds":"x"}})", Code::Invalid,
       "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Binds of type "
       "[]string"},
      {"tmpfs_number", R"({"HostConfig":{"Tmpfs":{"/x":5}}})", Code::Invalid,
       "json: cannot unmarshal number into Go struct field HostConfig.HostConfig.Tmpfs of type "
       "string"},
      {"capadd_number_item", R"({"HostConfig":{"CapAdd":[5]}})", Code::Invalid,
       "json: cannot unmarshal array into Go struct field HostConfig.HostConfig.CapAdd of type "
       "string"},
      {"privileged_string", R"({"HostConfig":{"Privileged":"x"}})", Code::Invalid,
       "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Privileged of "
       "type "
       "bool"},
      {"readonly_string", R"({"HostConfig":{"ReadonlyRootfs":"x"}})", Code::Invalid,
       "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.ReadonlyRootfs of "
       "type bool"},
      {"init_string", R"({"HostConfig":{"Init":"x"}})", Code::Invalid,
       "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Init of type "
       "bool"},
      {"pidslimit_string", R"({"HostConfig":{"PidsLimit":"x"}})", Code::Invalid,
       "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.PidsLimit of type "
       "int64"},
      {"blkio_negative", R"({"HostConfig":{"BlkioWeight":-1}})", Code::Invalid,
       "json: cannot unmarshal number -1 into Go struct field HostConfig.HostConfig.BlkioWeight of "
       "type uint16"},
      {"stoptimeout_string", R"({"StopTimeout":"x"})", Code::Invalid,
       "json: cannot unmarshal string into Go struct field ContainerConfigWrapper.StopTimeout of "
       "type int"},
      {"portbindings_string", R"({"HostConfig":{"PortBindings":"x"}})", Code::Invalid,
       "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.PortBindings of "
       "type nat.PortMap"},
      {"volumes_array", R"({"Volumes":[]})", Code::Invalid,
       "json: cannot unmarshal array into Go struct field ContainerConfigWrapper.Volumes of type "
       "map[string]struct {}"},
      // Config checks.
      {"env_empty_name", R"({"Env":["=x"]})", Code::Invalid, "invalid environment variable: =x"},
      {"env_empty", R"({"Env":[""]})", Code::Invalid, "invalid environment variable: "},
      {"workdir_relative", R"({"WorkingDir":"rel"})", Code::Invalid,
       "the working directory 'rel' is invalid, it needs to be an absolute path"},
      {"stop_signal", R"({"StopSignal":"SIGFOO"})", Code::Invalid, "Invalid signal: SIGFOO"},
      {"hostname_bad", R"({"Hostname":"-bad"})", Code::Invalid, "invalid hostname format: -bad"},
      {"hostname_long",
       R"({"Hostname":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})",
       Code::Invalid,
       "invalid hostname format: "
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
      // Restart policy.
      {"restart_unknown", R"({"HostConfig":{"RestartPolicy":{"Name":"sometimes"}}})", Code::Invalid,
       "invalid restart policy 'sometimes'"},
      {"restart_count_always",
       R"({"HostConfig":{"RestartPolicy":{"Name":"always","MaximumRetryCount":3}}})", Code::Invalid,
       "maximum retry count cannot be used with restart policy 'always'"},
      {"restart_count_negative",
       R"({"HostConfig":{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":-3}}})",
       Code::Invalid, "maximum retry count cannot be negative"},
      {"autoremove_restart",
       R"({"HostConfig":{"AutoRemove":true,"RestartPolicy":{"Name":"always"}}})", Code::Invalid,
       "can't create 'AutoRemove' container with restart policy"},
      // Memory.
      {"memory_small", R"({"HostConfig":{"Memory":1000}})", Code::Invalid,
       "Minimum memory limit allowed is 6MB"},
      {"memoryswap_small", R"({"HostConfig":{"Memory":10000000,"MemorySwap":9000000}})",
       Code::Invalid, "Minimum memoryswap limit should be larger than memory limit, see usage"},
      {"memoryswap_without_memory", R"({"HostConfig":{"MemorySwap":9000000}})", Code::Invalid,
       "You should always set the Memory limit when using Memoryswap limit, see usage"},
      {"swappiness", R"({"HostConfig":{"MemorySwappiness":200}})", Code::Invalid,
       "Invalid value: 200, valid memory swappiness range is 0-100"},
      {"reservation_small", R"({"HostConfig":{"MemoryReservation":1000}})", Code::Invalid,
       "Minimum memory reservation allowed is 6MB"},
      {"shm_negative", R"({"HostConfig":{"ShmSize":-1}})", Code::Invalid,
       "SHM size can not be less than 0"},
      {"oom_score", R"({"HostConfig":{"OomScoreAdj":5000}})", Code::Invalid,
       "Invalid value 5000, range for oom score adj is [-1000, 1000]"},
      // CPU.
      {"nanocpus_and_period", R"({"HostConfig":{"NanoCpus":1000000000,"CpuPeriod":100000}})",
       Code::Invalid, "Conflicting options: Nano CPUs and CPU Period cannot both be set"},
      {"nanocpus_and_quota", R"({"HostConfig":{"NanoCpus":1000000000,"CpuQuota":100000}})",
       Code::Invalid, "Conflicting options: Nano CPUs and CPU Quota cannot both be set"},
      {"nanocpus_range", R"({"HostConfig":{"NanoCpus":100000000000}})", Code::Invalid,
       "Range of CPUs is from 0.01 to " + n + ".00, as there are only " + n + " CPUs available"},
      {"cpu_quota_small", R"({"HostConfig":{"CpuQuota":500}})", Code::Invalid,
       "CPU cfs quota can not be less than 1ms (i.e. 1000)"},
      {"cpu_period_small", R"({"HostConfig":{"CpuPeriod":500}})", Code::Invalid,
       "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"},
      {"cpu_shares_negative", R"({"HostConfig":{"CpuShares":-5}})", Code::Invalid,
       "Invalid value -5 for cpu shares: must be 0 (the default) or 2 to 262144"},
      {"cpuset_format", R"({"HostConfig":{"CpusetCpus":"abc"}})", Code::Invalid,
       "Invalid value abc for cpuset cpus: invalid format: abc"},
      {"cpuset_unavailable", R"({"HostConfig":{"CpusetCpus":"0-4095"}})", Code::Invalid,
       "Requested CPUs are not available - requested 0-4095, available: "},
      {"cpuset_mems", R"({"HostConfig":{"CpusetMems":"5"}})", Code::Invalid,
       "Requested memory nodes are not available - requested 5, available: 0"},
      {"blkio_range", R"({"HostConfig":{"BlkioWeight":5}})", Code::Invalid,
       "Range of blkio weight is from 10 to 1000"},
      // Ulimits.
      {"ulimit_unknown", R"({"HostConfig":{"Ulimits":[{"Name":"foo","Soft":1,"Hard":2}]}})",
       Code::Invalid, "invalid ulimit type: foo"},
      {"ulimit_soft_hard", R"({"HostConfig":{"Ulimits":[{"Name":"nofile","Soft":10,"Hard":2}]}})",
       Code::Invalid, "ulimit soft limit must be less than or equal to hard limit: 10 > 2"},
      // Capabilities.
      {"capadd_unknown", R"({"HostConfig":{"CapAdd":["FOO"]}})", Code::Invalid,
       "invalid CapAdd: unknown capability: \"CAP_FOO\""},
      {"capdrop_unknown", R"({"HostConfig":{"CapDrop":["cap_bar"]}})", Code::Invalid,
       "invalid CapDrop: unknown capability: \"CAP_BAR\""},
      // Binds.
      {"bind_too_many", R"({"HostConfig":{"Binds":["/a:/b:/c:/d"]}})", Code::Invalid,
       "invalid volume specification: '/a:/b:/c:/d'"},
      {"bind_empty_source", R"({"HostConfig":{"Binds":[":/b"]}})", Code::Invalid,
       "invalid volume specification: ':/b'"},
      {"bind_relative_dest", R"({"HostConfig":{"Binds":["/tmp:rel"]}})", Code::Invalid,
       "invalid volume specification: '/tmp:rel': invalid mount config for type \"bind\": invalid "
       "mount path: 'rel' mount path must be absolute"},
      {"bind_root_dest", R"({"HostConfig":{"Binds":["/tmp:/"]}})", Code::Invalid,
       "invalid volume specification: '/tmp:/': invalid mount config for type \"bind\": invalid "
       "specification: destination can't be '/'"},
      {"bind_volume_relative", R"({"HostConfig":{"Binds":["vol:rel"]}})", Code::Invalid,
       "invalid volume specification: 'vol:rel': invalid mount config for type \"volume\": invalid "
       "mount path: 'rel' mount path must be absolute"},
      {"bind_mode", R"({"HostConfig":{"Binds":["/tmp:/b:xyz"]}})", Code::Invalid,
       "invalid mode: xyz"},
      {"bind_mode_twice", R"({"HostConfig":{"Binds":["/tmp:/b:ro,rw"]}})", Code::Invalid,
       "invalid mode: ro,rw"},
      {"bind_dest_mode_only", R"({"HostConfig":{"Binds":["/b:ro"]}})", Code::Invalid,
       "invalid volume specification: '/b:ro'"},
      // Mounts.
      {"mount_bind_missing_source",
       R"({"HostConfig":{"Mounts":[{"Type":"bind","Source":"/nonexist","Target":"/x"}]}})",
       Code::Invalid,
       "invalid mount config for type \"bind\": bind source path does not exist: /nonexist"},
      {"mount_bind_no_source", R"({"HostConfig":{"Mounts":[{"Type":"bind","Target":"/x"}]}})",
       Code::Invalid, "invalid mount config for type \"bind\": field Source must not be empty"},
      {"mount_bind_relative_source",
       R"({"HostConfig":{"Mounts":[{"Type":"bind","Source":"rel","Target":"/x"}]}})", Code::Invalid,
       "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be "
       "absolute"},
      {"mount_relative_target",
       R"({"HostConfig":{"Mounts":[{"Type":"bind","Source":"/tmp","Target":"x"}]}})", Code::Invalid,
       "invalid mount config for type \"bind\": invalid mount path: 'x' mount path must be "
       "absolute"},
      {"mount_no_target", R"({"HostConfig":{"Mounts":[{"Type":"bind","Source":"/tmp"}]}})",
       Code::Invalid, "invalid mount config for type \"bind\": field Target must not be empty"},
      {"mount_type_unknown",
       R"({"HostConfig":{"Mounts":[{"Type":"foo","Source":"/tmp","Target":"/x"}]}})", Code::Invalid,
       "invalid mount config for type \"foo\": mount type unknown"},
      {"mount_tmpfs_source",
       R"({"HostConfig":{"Mounts":[{"Type":"tmpfs","Source":"/tmp","Target":"/x"}]}})",
       Code::Invalid,
       "invalid mount config for type \"tmpfs\": field Source must not be specified"},
      {"mount_anon_volume_ro",
       R"({"HostConfig":{"Mounts":[{"Type":"volume","Target":"/x","ReadOnly":true}]}})",
       Code::Invalid,
       "invalid mount config for type \"volume\": must not set ReadOnly mode when using anonymous "
       "volumes"},
      {"mount_volume_bindoptions",
       R"({"HostConfig":{"Mounts":[{"Type":"volume","Source":"v","Target":"/x","BindOptions":{}}]}})",
       Code::Invalid,
       "invalid mount config for type \"volume\": field BindOptions must not be specified"},
      {"mount_propagation",
       R"({"HostConfig":{"Mounts":[{"Type":"bind","Source":"/tmp","Target":"/x","BindOptions":{"Propagation":"weird"}}]}})",
       Code::Invalid, "invalid mount config for type \"bind\": invalid propagation mode: weird"},
      // Tmpfs.
      {"tmpfs_relative", R"({"HostConfig":{"Tmpfs":{"rel":""}}})", Code::Invalid,
       "invalid mount path: 'rel' mount path must be absolute"},
      {"tmpfs_root", R"({"HostConfig":{"Tmpfs":{"/":""}}})", Code::Invalid,
       "invalid specification: destination can't be '/'"},
      {"tmpfs_option", R"({"HostConfig":{"Tmpfs":{"/x":"weird"}}})", Code::Invalid,
       "invalid tmpfs option [\"weird\"]"},
      {"tmpfs_data_option", R"({"HostConfig":{"Tmpfs":{"/x":"bogus=1"}}})", Code::Invalid,
       "invalid tmpfs option [\"bogus\" \"1\"]"},
      // Log config.
      {"log_opt_unknown",
       R"({"HostConfig":{"LogConfig":{"Type":"json-file","Config":{"foo":"1"}}}})", Code::Invalid,
       "unknown log opt 'foo' for json-file log driver"},
      {"log_max_size",
       R"({"HostConfig":{"LogConfig":{"Type":"json-file","Config":{"max-size":"abc"}}}})",
       Code::Invalid, "failed to initialize logging driver: invalid size: 'abc'"},
      {"log_max_file_zero",
       R"({"HostConfig":{"LogConfig":{"Type":"json-file","Config":{"max-file":"0"}}}})",
       Code::Invalid, "failed to initialize logging driver: max-file cannot be less than 1"},
      {"log_max_file_text",
       R"({"HostConfig":{"LogConfig":{"Type":"json-file","Config":{"max-file":"x"}}}})",
       Code::Invalid,
       "failed to initialize logging driver: strconv.Atoi: parsing \"x\": invalid syntax"},
      {"log_compress",
       R"({"HostConfig":{"LogConfig":{"Type":"json-file","Config":{"compress":"maybe"}}}})",
       Code::Invalid,
       "failed to initialize logging driver: strconv.ParseBool: parsing \"maybe\": invalid syntax"},
      {"log_driver_unknown", R"({"HostConfig":{"LogConfig":{"Type":"bogus"}}})", Code::Invalid,
       "error looking up logging plugin bogus: plugin \"bogus\" not found"},
      // Network mode, ports and the rest of HostConfig.
      // An unknown network is the network service's to refuse (e2e: bad_input.bats).
      {"port_key", R"({"HostConfig":{"PortBindings":{"abc":[{"HostPort":"80"}]}}})", Code::Invalid,
       "invalid port specification: \"abc\""},
      {"port_host", R"({"HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"70000"}]}}})",
       Code::Invalid, "invalid port specification: \"70000\""},
      {"cgroupns", R"({"HostConfig":{"CgroupnsMode":"x"}})", Code::Invalid,
       "invalid cgroup namespace mode: x"},
      {"runtime", R"({"HostConfig":{"Runtime":"x"}})", Code::Invalid,
       "Unknown runtime specified x"},
      {"extra_hosts", R"({"HostConfig":{"ExtraHosts":["x"]}})", Code::Invalid,
       "bad format for add-host: \"x\""},
      {"isolation", R"({"HostConfig":{"Isolation":"hyperv"}})", Code::Invalid,
       "Invalid isolation: \"hyperv\" - linux only supports 'default'"},
  };
}

class BadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadInput, RefusedWithDockerdsMessage) {
  const BadCase& c = GetParam();
  ImageConfig img;
  img.cmd = {"sh"};
  auto r = parse_create_request(Json::parse(c.body), img);
  ASSERT_FALSE(r) << c.body << " was accepted";
  EXPECT_EQ(r.error().code, c.code) << r.error().message;
  if (std::string(c.name) == "cpuset_unavailable")
    EXPECT_TRUE(r.error().message.starts_with(c.message)) << r.error().message;
  else
    EXPECT_EQ(r.error().message, c.message);
}

INSTANTIATE_TEST_SUITE_P(ContainerConfig, BadInput, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<BadCase>& i) { return i.param.name; });

TEST(ContainerConfigBadInput, TopLevelNotAnObject) {
  auto r = parse_create_request(Json::array({1}), ImageConfig{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "json: cannot unmarshal array into Go value of type runconfig.ContainerConfigWrapper");
}

// Values dockerd accepts that a too strict check would refuse.
TEST(ContainerConfigBadInput, AcceptedEdgeValues) {
  ImageConfig img;
  img.cmd = {"sh"};
  for (
      const char* body : {
          R"({"HostConfig":{"AutoRemove":true,"RestartPolicy":{"Name":"no"}}})",
          R"({"HostConfig":{"RestartPolicy":{"Name":""}}})",
          R"({"HostConfig":{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":5}}})",
          R"({"HostConfig":{"Memory":10000000,"MemorySwap":-1}})",
          R"({"HostConfig":{"Memory":6291456}})",
          R"({"HostConfig":{"NanoCpus":10000000}})",
          R"({"HostConfig":{"CpusetCpus":"0"}})",
          R"({"HostConfig":{"PidsLimit":-1}})",
          R"({"HostConfig":{"CapAdd":["ALL"],"CapDrop":["cap_net_raw","Mknod"]}})",
          R"({"HostConfig":{"CapAdd":"NET_ADMIN"}})",
          R"({"HostConfig":{"Binds":["/nonexist/x:/b","vol:/data:ro","/tmp:/t:ro,Z,rslave"]}})",
          R"({"HostConfig":{"Tmpfs":{"/run":"rw,exec,size=64m,mode=1777"}}})",
          R"({"HostConfig":{"Mounts":[{"Type":"tmpfs","Target":"/x"},{"Type":"volume","Target":"/v"}]}})",
          R"({"HostConfig":{"LogConfig":{"Type":"json-file","Config":{"max-size":"10m","max-file":"3"}}}})",
          R"({"HostConfig":{"LogConfig":{"Type":"none"}}})",
          R"({"HostConfig":{"NetworkMode":"host"}})",
          R"({"HostConfig":{"NetworkMode":"none"}})",
          R"({"HostConfig":{"NetworkMode":"bridge"}})",
          R"({"HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"8000-8010"}],"53/udp":[{"HostPort":""}]}}})",
          R"({"StopSignal":"SIGRTMIN+3","StopTimeout":-5,"Hostname":"web.example"})",
          R"({"Entrypoint":"/bin/sh -c","Cmd":null,"Env":null,"Labels":null})",
      }) {
    auto r = parse_create_request(Json::parse(body), img);
    EXPECT_TRUE(r) << body << ": " << r.error().message;
  }
}

}  // namespace
}  // namespace silo::engine
