#pragma once
// The OCI runtime spec (config.json) as plain data, and its parser.
// Only what Silo honours is modelled; unknown fields are ignored as runc does.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace silo::runtime {

struct User {
  uid_t uid = 0;
  gid_t gid = 0;
  std::optional<mode_t> umask;
  std::vector<gid_t> additional_gids;
};

struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;  // "CAP_NET_RAW"
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"
  uint64_t soft = 0;
  uint64_t hard = 0;
};

struct ConsoleSize {
  unsigned height = 0, width = 0;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;  // "KEY=value"
  std::string cwd = "/";
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  std::string apparmor_profile, selinux_label;  // accepted, not applied
};

struct Root {
  std::string path;  // absolute, or relative to the bundle (resolved by load_spec)
  bool readonly = false;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;  // seconds
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart,
      poststop;
};

struct Namespace {
  std::string type;  // pid, network, mount, ipc, uts, user, cgroup, time
  std::string path;  // join this one when set
};

struct IdMapping {
  uint32_t container_id = 0, host_id = 0, size = 0;
};

struct Device {
  std::string path;
  std::string type;  // c, b, u, p
  int64_t major = 0, minor = 0;
  std::optional<mode_t> file_mode;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

struct DeviceRule {
  bool allow = false;
  std::string type;  // a, c, b ("" = all)
  std::optional<int64_t> major, minor;
  std::string access;  // rwm
};

struct MemoryResources {
  std::optional<int64_t> limit, reservation, swap, kernel;
  std::optional<uint64_t> swappiness;
  bool disable_oom_killer = false;
};

struct CpuResources {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> period;
  std::string cpus, mems;  // cpuset lists, "" = inherit
};

struct Resources {
  std::vector<DeviceRule> devices;
  std::optional<MemoryResources> memory;
  std::optional<CpuResources> cpu;
  std::optional<int64_t> pids_limit;
  std::map<std::string, std::string> unified;  // cgroup v2 key -> value
};

struct SeccompArg {
  unsigned index = 0;
  uint64_t value = 0, value_two = 0;
  std::string op;  // SCMP_CMP_EQ ...
};

struct SeccompRule {
  std::vector<std::string> names;
  std::string action;  // SCMP_ACT_ALLOW ...
  std::optional<unsigned> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string default_action = "SCMP_ACT_ALLOW";
  std::optional<unsigned> default_errno_ret;
  std::vector<std::string> architectures;  // SCMP_ARCH_X86_64 ...
  std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_*
  std::vector<SeccompRule> syscalls;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings, gid_mappings;
  std::vector<Device> devices;
  std::string cgroups_path;
  std::optional<Resources> resources;
  std::map<std::string, std::string> sysctl;
  std::optional<Seccomp> seccomp;
  std::string rootfs_propagation;  // "", private, rprivate, slave, rslave, shared, rshared
  std::vector<std::string> masked_paths, readonly_paths;
  std::string mount_label;

  // The namespace entry of `type`, or nullptr when the spec does not ask for it.
  const Namespace* find_namespace(const std::string& type) const;
};

struct Spec {
  std::string oci_version;
  std::string hostname, domainname;
  Process process;
  Root root;
  std::vector<Mount> mounts;
  Hooks hooks;
  Linux linux;
  std::map<std::string, std::string> annotations;
};

// Parses a config.json document. Errors name the field ("process.args: wrong type").
[[nodiscard]] Result<Spec> parse_spec(const Json& doc);
// Reads <bundle>/config.json, parses it, and makes root.path absolute. With `doc`, also
// hands back the parsed document (kept in the container's state).
[[nodiscard]] Result<Spec> load_spec(const std::string& bundle, Json* doc = nullptr);
// The default spec `silo-runc spec` writes (runc's default shape: sh, busybox-friendly).
Json default_spec_json(bool rootless);
// Parsing of a Process alone (for `exec --process`).
[[nodiscard]] Result<Process> parse_process(const Json& doc);
// Serialises hook state for hooks' stdin and `state`.
}  // namespace silo::runtime
