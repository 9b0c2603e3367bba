#pragma once
// Internals shared by container_config*.cc and container_spec*.cc: Go-style JSON type
// checks and the HostConfig validators. Not a contract; only the engine's own sources
// include it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace silo::engine::detail {

// The Go type a Docker API field is decoded into; decides what JSON it accepts and the
// zero value inspect shows.
enum class GoType {
  String,     // string
  Bool,       // bool
  Int64,      // int64
  Int,        // int
  Uint16,     // uint16
  Uint64,     // uint64
  PtrInt64,   // *int64 (null allowed, zero null)
  PtrBool,    // *bool (null allowed, zero null)
  StrList,    // []string (zero null)
  StrSlice,   // strslice.StrSlice: a string or an array of strings (zero null)
  StrMap,     // map[string]string (zero {} or null, see Field::zero)
  Object,     // any object (zero null)
  Array,      // any array (zero null)
  IntArray2,  // [2]uint (ConsoleSize)
};

// One field of a Go struct as the API decodes it.
struct Field {
  const char* name;
  GoType type;
  Json zero;                 // what inspect shows when the request leaves it out
  bool omitempty = false;    // left out of the normalised result when absent
  const char* go = nullptr;  // Go's type name in errors when not the GoType's own
};

// Go's json.Unmarshal type error for `value` decoded into field `path` of Go type `type`:
// "json: cannot unmarshal string into Go struct field HostConfig.Memory of type int64".
// `go` overrides the type's name ("nat.PortMap").
Error type_error(const Json& value, std::string_view path, GoType type, const char* go = nullptr);

// Checks `value` against `type` (null is accepted everywhere, as Go leaves the zero
// value); StrSlice given as a string becomes a one-element array.
[[nodiscard]] Status check_type(Json& value, std::string_view path, GoType type,
                                const char* go = nullptr);

// Copies the fields of `fields` from `in` into `out` (type-checked), filling in zero
// values for absent ones. `prefix` is Go's error context for the struct's fields
// ("ContainerConfigWrapper", "HostConfig.HostConfig").
[[nodiscard]] Status normalise_fields(const Json& in, Json& out, const std::vector<Field>& fields,
                                      std::string_view prefix);

// The HostConfig checks dockerd makes at create (verifyContainerSettings), after
// normalisation; may adjust values as dockerd does (cpu-shares clamped, PidsLimit <= 0
// to null). Appends dockerd's warnings.
[[nodiscard]] Status validate_host_config(Json& hc, std::vector<std::string>& warnings);

// Binds ("-v"), Mounts ("--mount") and Tmpfs ("--tmpfs") checks with dockerd's messages.
[[nodiscard]] Status validate_mounts(const Json& hc);

// One parsed "-v src:dst[:mode]" entry.
struct BindSpec {
  std::string source;       // absolute host path, or a volume name ("" = anonymous)
  std::string destination;  // absolute path in the container
  bool read_only = false;
  bool is_volume = false;          // source is a volume name
  std::string propagation;         // "" = rprivate
  std::vector<std::string> modes;  // the raw mode list
};

// Parses one HostConfig.Binds entry. Errors: Invalid "invalid volume specification: 'x'",
// "invalid mode: x", "invalid mount config for type \"bind\": ...".
[[nodiscard]] Result<BindSpec> parse_bind(std::string_view raw);

// Signal names and numbers as dockerd's signal.ParseSignal: "SIGTERM", "TERM", "15",
// "SIGRTMIN+3". Errors: Invalid "Invalid signal: x".
[[nodiscard]] Result<int> parse_signal(std::string_view sig);

// Config.Hostname: an RFC 1123 host name (labels of letters, digits and '-'), at most 63
// characters per label. Errors: Invalid naming the hostname.
[[nodiscard]] Status validate_hostname(std::string_view hostname);

// Host CPUs usable by this process (Go's runtime.NumCPU: the affinity mask's count).
int num_cpus();
// The host's online CPU list ("0-1"), as dockerd's sysinfo reports it.
std::string online_cpus();

// Capability names as dockerd normalises them: upper case, "CAP_" prefixed, "ALL" kept.
// Errors: Invalid "unknown capability: \"CAP_FOO\"".
[[nodiscard]] Result<std::vector<std::string>> normalise_caps(const Json& list);

// A container user resolved against its root filesystem.
struct ResolvedUser {
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;
};

// Resolves Config.User ("", "name", "uid", "name:group", "uid:gid") with the rootfs's
// /etc/passwd and /etc/group, plus HostConfig.GroupAdd. Errors: Invalid, dockerd's
// "unable to find user x: no matching entries in passwd file".
[[nodiscard]] Result<ResolvedUser> resolve_user(const std::string& user, const std::string& rootfs,
                                                const std::vector<std::string>& group_add);

// The Docker defaults dockerd fills in at create (adaptContainerSettings and friends):
// NetworkMode "default", IpcMode "private", CgroupnsMode, ShmSize 64 MiB, Runtime "runc",
// LogConfig json-file, MemorySwap 2x Memory, masked and read-only paths.
void apply_host_defaults(Json& hc, std::vector<std::string>& warnings);

// Docker's default masked and read-only paths.
const std::vector<std::string>& default_masked_paths();
const std::vector<std::string>& default_readonly_paths();

}  // namespace silo::engine::detail
