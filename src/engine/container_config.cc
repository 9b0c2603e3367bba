// parse_create_request: Docker's create body normalised (every Config and HostConfig
// field present with Go's zero value, as dockerd's inspect shows them), type-checked with
// Go's json messages, merged with the image's defaults and validated.

#include <algorithm>
#include <cmath>
#include <limits>

#include <unistd.h>

#include "engine/container_config.h"
#include "engine/container_config_internal.h"

namespace silo::engine {
namespace detail {
namespace {

const char* go_type_name(GoType t) {
  switch (t) {
    case GoType::String:
      return "string";
    case GoType::Bool:
      return "bool";
    case GoType::Int64:
      return "int64";
    case GoType::Int:
      return "int";
    case GoType::Uint16:
      return "uint16";
    case GoType::Uint64:
      return "uint64";
    case GoType::PtrInt64:
      return "int64";
    case GoType::PtrBool:
      return "bool";
    case GoType::StrList:
      return "[]string";
    case GoType::StrSlice:
      return "string";
    case GoType::StrMap:
      return "map[string]string";
    case GoType::Object:
      return "map[string]interface {}";
    case GoType::Array:
      return "[]interface {}";
    case GoType::IntArray2:
      return "[2]uint";
  }
  return "interface {}";
}

// Go's name for a JSON value in an UnmarshalTypeError ("number 1.5" for a number that
// does not fit the integer type).
std::string go_value_name(const Json& v, GoType t) {
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "bool";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  if (v.is_number()) {
    bool integer_target = t == GoType::Int64 || t == GoType::Int || t == GoType::Uint16 ||
                          t == GoType::Uint64 || t == GoType::PtrInt64;
    if (integer_target) return "number " + v.dump();
    return "number";
  }
  return "null";
}

bool fits_integer(const Json& v, GoType t) {
  if (!v.is_number()) return false;
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::trunc(d) != d) return false;
    // Go rejects any float literal with a fraction or exponent for int fields; a JSON
    // number such as 1.0 parses as float here, which Go also refuses ("number 1.0").
    return false;
  }
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    switch (t) {
      case GoType::Uint16:
        return u <= 65535;
      case GoType::Uint64:
        return true;
      case GoType::Int:
      case GoType::Int64:
      case GoType::PtrInt64:
        return u <= uint64_t(std::numeric_limits<int64_t>::max());
      default:
        return false;
    }
  }
  int64_t i = v.get<int64_t>();
  if (t == GoType::Uint16 || t == GoType::Uint64)
    return i >= 0 && (t == GoType::Uint64 || i <= 65535);
  return true;
}

}  // namespace

Error type_error(const Json& value, std::string_view path, GoType type, const char* go) {
  std::string msg = "json: cannot unmarshal " + go_value_name(value, type) +
                    " into Go struct field " + std::string(path) + " of type " +
                    (go ? go : go_type_name(type));
  return Error{0, Code::Invalid, std::move(msg)};
}

Status check_type(Json& v, std::string_view path, GoType t, const char* go) {
  if (v.is_null()) return {};
  auto bad = [&](const Json& what, GoType as) {
    return std::unexpected(type_error(what, path, as, as == t ? go : nullptr));
  };
  switch (t) {
    case GoType::String:
      if (!v.is_string()) return bad(v, t);
      return {};
    case GoType::Bool:
    case GoType::PtrBool:
      if (!v.is_boolean()) return bad(v, t);
      return {};
    case GoType::Int64:
    case GoType::Int:
    case GoType::Uint16:
    case GoType::Uint64:
    case GoType::PtrInt64:
      if (!fits_integer(v, t)) return bad(v, t);
      return {};
    case GoType::StrSlice:
      // strslice.StrSlice tries []string, then string: Go reports the whole value.
      if (v.is_string()) {
        v = Json::array({v.get<std::string>()});
        return {};
      }
      if (!v.is_array()) return bad(v, GoType::String);
      for (auto& e : v)
        if (!e.is_string()) return bad(v, GoType::String);
      return {};
    case GoType::StrList:
      if (!v.is_array()) return bad(v, t);
      for (auto& e : v)
        if (!e.is_string()) return bad(e, GoType::String);
      return {};
    case GoType::StrMap:
      if (!v.is_object()) return bad(v, t);
      for (auto& [k, e] : v.items())
        if (!e.is_string()) return bad(e, GoType::String);
      return {};
    case GoType::Object:
      if (!v.is_object()) return bad(v, t);
      return {};
    case GoType::Array:
      if (!v.is_array()) return bad(v, t);
      return {};
    case GoType::IntArray2:
      if (!v.is_array()) return bad(v, t);
      for (auto& e : v)
        if (!fits_integer(e, GoType::Uint64)) return bad(e, GoType::Uint64);
      return {};
  }
  return {};
}

Status normalise_fields(const Json& in, Json& out, const std::vector<Field>& fields,
                        std::string_view prefix) {
  if (!out.is_object()) out = Json::object();
  for (const auto& f : fields) {
    auto it = in.is_object() ? in.find(f.name) : in.end();
    if (in.is_object() && it != in.end() && !it->is_null()) {
      Json v = *it;
      std::string path = prefix.empty() ? std::string(f.name) : std::string(prefix) + "." + f.name;
      SILO_TRY(check_type(v, path, f.type, f.go));
      out[f.name] = std::move(v);
    } else if (!f.omitempty) {
      out[f.name] = f.zero;
    }
  }
  return {};
}

void apply_host_defaults(Json& hc, std::vector<std::string>& warnings) {
  auto set_if_empty = [&](const char* key, const char* value) {
    if (hc[key].is_string() && hc[key].get<std::string>().empty()) hc[key] = value;
  };
  set_if_empty("NetworkMode", "default");
  set_if_empty("IpcMode", "private");
  // cgroup v1 host: dockerd's default cgroupns mode is "host"; v2: "private".
  set_if_empty("CgroupnsMode",
               ::access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? "private" : "host");
  set_if_empty("Runtime", "runc");
  if (hc["ShmSize"].get<int64_t>() == 0) hc["ShmSize"] = int64_t(64) * 1024 * 1024;
  if (hc["LogConfig"]["Type"].get<std::string>().empty()) hc["LogConfig"]["Type"] = "json-file";
  int64_t mem = hc["Memory"].get<int64_t>();
  if (mem > 0 && hc["MemorySwap"].get<int64_t>() == 0) {
    if (::access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0 ||
        ::access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
      // dockerd doubles the limit; past half of int64 that would overflow: unlimited.
      hc["MemorySwap"] = mem <= std::numeric_limits<int64_t>::max() / 2 ? mem * 2 : int64_t(-1);
    } else {
      warnings.push_back(
          "Your kernel does not support swap limit capabilities or the cgroup is not mounted. "
          "Memory limited without swap.");
      hc["MemorySwap"] = -1;
    }
  }
  bool privileged = hc["Privileged"].get<bool>();
  if (hc["MaskedPaths"].is_null())
    hc["MaskedPaths"] = privileged ? Json(nullptr) : Json(default_masked_paths());
  if (hc["ReadonlyPaths"].is_null())
    hc["ReadonlyPaths"] = privileged ? Json(nullptr) : Json(default_readonly_paths());
}

}  // namespace detail

namespace {

using detail::Field;
using detail::GoType;

const Json kNull = nullptr;

// container.Config, in dockerd's field order.
const std::vector<Field>& config_fields() {
  static const std::vector<Field> f = {
      {"Hostname", GoType::String, ""},
      {"Domainname", GoType::String, ""},
      {"User", GoType::String, ""},
      {"AttachStdin", GoType::Bool, false},
      {"AttachStdout", GoType::Bool, false},
      {"AttachStderr", GoType::Bool, false},
      {"ExposedPorts", GoType::Object, kNull, true, "nat.PortSet"},
      {"Tty", GoType::Bool, false},
      {"OpenStdin", GoType::Bool, false},
      {"StdinOnce", GoType::Bool, false},
      {"Env", GoType::StrList, kNull},
      {"Cmd", GoType::StrSlice, kNull},
      {"Healthcheck", GoType::Object, kNull, true, "container.HealthConfig"},
      {"ArgsEscaped", GoType::Bool, false, true},
      {"Image", GoType::String, ""},
      {"Volumes", GoType::Object, kNull, false, "map[string]struct {}"},
      {"WorkingDir", GoType::String, ""},
      {"Entrypoint", GoType::StrSlice, kNull},
      {"NetworkDisabled", GoType::Bool, false, true},
      {"MacAddress", GoType::String, "", true},
      {"OnBuild", GoType::StrList, kNull},
      {"Labels", GoType::StrMap, Json::object()},
      {"StopSignal", GoType::String, "", true},
      {"StopTimeout", GoType::Int, kNull, true},
      {"Shell", GoType::StrSlice, kNull, true},
  };
  return f;
}

// container.HostConfig (with its embedded Resources), in dockerd's field order.
const std::vector<Field>& host_config_fields() {
  static const std::vector<Field> f = {
      {"Binds", GoType::StrList, kNull},
      {"ContainerIDFile", GoType::String, ""},
      {"LogConfig", GoType::Object, Json{{"Type", ""}, {"Config", Json::object()}}, false,
       "container.LogConfig"},
      {"NetworkMode", GoType::String, ""},
      {"PortBindings", GoType::Object, Json::object(), false, "nat.PortMap"},
      {"RestartPolicy", GoType::Object, Json{{"Name", ""}, {"MaximumRetryCount", 0}}, false,
       "container.RestartPolicy"},
      {"AutoRemove", GoType::Bool, false},
      {"VolumeDriver", GoType::String, ""},
      {"VolumesFrom", GoType::StrList, kNull},
      {"CapAdd", GoType::StrSlice, kNull},
      {"CapDrop", GoType::StrSlice, kNull},
      {"CgroupnsMode", GoType::String, ""},
      {"Dns", GoType::StrList, Json::array()},
      {"DnsOptions", GoType::StrList, Json::array()},
      {"DnsSearch", GoType::StrList, Json::array()},
      {"ExtraHosts", GoType::StrList, kNull},
      {"GroupAdd", GoType::StrList, kNull},
      {"IpcMode", GoType::String, ""},
      {"Cgroup", GoType::String, ""},
      {"Links", GoType::StrList, kNull},
      {"OomScoreAdj", GoType::Int, 0},
      {"PidMode", GoType::String, ""},
      {"Privileged", GoType::Bool, false},
      {"PublishAllPorts", GoType::Bool, false},
      {"ReadonlyRootfs", GoType::Bool, false},
      {"SecurityOpt", GoType::StrList, kNull},
      {"StorageOpt", GoType::StrMap, kNull, true},
      {"Tmpfs", GoType::StrMap, kNull, true},
      {"UTSMode", GoType::String, ""},
      {"UsernsMode", GoType::String, ""},
      {"ShmSize", GoType::Int64, 0},
      {"Sysctls", GoType::StrMap, kNull, true},
      {"Runtime", GoType::String, ""},
      {"ConsoleSize", GoType::IntArray2, Json::array({0, 0})},
      {"Isolation", GoType::String, ""},
      {"CpuShares", GoType::Int64, 0},
      {"Memory", GoType::Int64, 0},
      {"NanoCpus", GoType::Int64, 0},
      {"CgroupParent", GoType::String, ""},
      {"BlkioWeight", GoType::Uint16, 0},
      {"BlkioWeightDevice", GoType::Array, Json::array(), false, "[]*blkiodev.WeightDevice"},
      {"BlkioDeviceReadBps", GoType::Array, kNull, false, "[]*blkiodev.ThrottleDevice"},
      {"BlkioDeviceWriteBps", GoType::Array, kNull, false, "[]*blkiodev.ThrottleDevice"},
      {"BlkioDeviceReadIOps", GoType::Array, kNull, false, "[]*blkiodev.ThrottleDevice"},
      {"BlkioDeviceWriteIOps", GoType::Array, kNull, false, "[]*blkiodev.ThrottleDevice"},
      {"CpuPeriod", GoType::Int64, 0},
      {"CpuQuota", GoType::Int64, 0},
      {"CpuRealtimePeriod", GoType::Int64, 0},
      {"CpuRealtimeRuntime", GoType::Int64, 0},
      {"CpusetCpus", GoType::String, ""},
      {"CpusetMems", GoType::String, ""},
      {"Devices", GoType::Array, Json::array(), false, "[]container.DeviceMapping"},
      {"DeviceCgroupRules", GoType::StrList, kNull},
      {"DeviceRequests", GoType::Array, kNull, false, "[]container.DeviceRequest"},
      {"KernelMemory", GoType::Int64, 0},
      {"KernelMemoryTCP", GoType::Int64, 0},
      {"MemoryReservation", GoType::Int64, 0},
      {"MemorySwap", GoType::Int64, 0},
      {"MemorySwappiness", GoType::PtrInt64, kNull},
      {"OomKillDisable", GoType::PtrBool, false},
      {"PidsLimit", GoType::PtrInt64, kNull},
      {"Ulimits", GoType::Array, kNull, false, "[]*units.Ulimit"},
      {"CpuCount", GoType::Int64, 0},
      {"CpuPercent", GoType::Int64, 0},
      {"IOMaximumIOps", GoType::Uint64, 0},
      {"IOMaximumBandwidth", GoType::Uint64, 0},
      {"Mounts", GoType::Array, kNull, true, "[]mount.Mount"},
      {"MaskedPaths", GoType::StrList, kNull},
      {"ReadonlyPaths", GoType::StrList, kNull},
      {"Init", GoType::PtrBool, kNull, true},
  };
  return f;
}

std::string env_key(const std::string& kv) {
  return kv.substr(0, kv.find('='));
}

// dockerd's merge(userConf, imageConf) (daemon/commit.go).
void merge_image(Json& c, const ImageConfig& image) {
  if (c["User"].get<std::string>().empty()) c["User"] = image.user;
  if (c["Env"].is_null() || c["Env"].empty()) {
    c["Env"] = image.env;
  } else {
    for (const auto& kv : image.env) {
      std::string key = env_key(kv);
      bool found = std::any_of(c["Env"].begin(), c["Env"].end(),
                               [&](const Json& e) { return env_key(e.get<std::string>()) == key; });
      if (!found) c["Env"].push_back(kv);
    }
  }
  Json labels = c["Labels"].is_object() ? c["Labels"] : Json::object();
  for (const auto& [k, v] : image.labels)
    if (!labels.contains(k)) labels[k] = v;
  c["Labels"] = labels;
  bool no_entrypoint = c["Entrypoint"].is_null() || c["Entrypoint"].empty();
  bool cleared_entrypoint =
      c["Entrypoint"].is_array() && c["Entrypoint"].size() == 1 && c["Entrypoint"][0] == "";
  if (no_entrypoint || cleared_entrypoint) {
    if (c["Cmd"].is_null() || c["Cmd"].empty())
      c["Cmd"] = image.cmd.empty() ? kNull : Json(image.cmd);
    // `--entrypoint ""` clears the image's entrypoint (the CLI sends [""]).
    if (cleared_entrypoint)
      c["Entrypoint"] = kNull;
    else if (c["Entrypoint"].is_null() && !image.entrypoint.empty())
      c["Entrypoint"] = image.entrypoint;
  }
  if (c["WorkingDir"].get<std::string>().empty()) c["WorkingDir"] = image.working_dir;
  if (!image.exposed_ports.empty()) {
    Json ports = c["ExposedPorts"].is_object() ? c["ExposedPorts"] : Json::object();
    for (const auto& p : image.exposed_ports)
      if (!ports.contains(p)) ports[p] = Json::object();
    c["ExposedPorts"] = ports;
  }
  if (!c.contains("StopSignal") && !image.stop_signal.empty()) c["StopSignal"] = image.stop_signal;
  if (c["Env"].is_array() && c["Env"].empty()) c["Env"] = kNull;
}

// validateContainerConfig (daemon/container.go) plus the command check of create.
Status validate_config(Json& c) {
  const Json& env = c["Env"];
  if (env.is_array()) {
    for (const auto& e : env) {
      std::string kv = e.get<std::string>();
      if (kv.empty() || kv[0] == '=')
        return fail(Code::Invalid, "invalid environment variable: " + kv);
    }
  }
  std::string wd = c["WorkingDir"].get<std::string>();
  if (!wd.empty() && wd[0] != '/')
    return fail(Code::Invalid,
                "the working directory '" + wd + "' is invalid, it needs to be an absolute path");
  bool no_cmd = c["Cmd"].is_null() || c["Cmd"].empty();
  bool no_ep = c["Entrypoint"].is_null() || c["Entrypoint"].empty();
  if (no_cmd && no_ep) return fail(Code::Invalid, "No command specified");
  return {};
}

}  // namespace

Result<CreateRequest> parse_create_request(const Json& body, const ImageConfig& image) {
  if (!body.is_object()) {
    return fail(Code::Invalid, "json: cannot unmarshal " +
                                   std::string(body.is_array() ? "array" : body.type_name()) +
                                   " into Go value of type runconfig.ContainerConfigWrapper");
  }
  CreateRequest req;
  SILO_TRY(detail::normalise_fields(body, req.config, config_fields(), "ContainerConfigWrapper"));
  Json hc_in = body.contains("HostConfig") ? body["HostConfig"] : Json(nullptr);
  if (!hc_in.is_null() && !hc_in.is_object())
    return std::unexpected(detail::type_error(hc_in, "ContainerConfigWrapper.HostConfig",
                                              GoType::Object, "container.HostConfig"));
  SILO_TRY(detail::normalise_fields(hc_in, req.host_config, host_config_fields(),
                                    "HostConfig.HostConfig"));
  Json nc = body.contains("NetworkingConfig") ? body["NetworkingConfig"] : Json(nullptr);
  if (!nc.is_null() && !nc.is_object())
    return std::unexpected(detail::type_error(nc, "ContainerConfigWrapper.NetworkingConfig",
                                              GoType::Object, "network.NetworkingConfig"));
  req.networking_config = nc.is_object() ? nc : Json::object();
  if (!req.networking_config.contains("EndpointsConfig"))
    req.networking_config["EndpointsConfig"] = Json::object();

  merge_image(req.config, image);
  SILO_TRY(validate_config(req.config));
  if (req.config.contains("StopSignal")) {
    SILO_TRY(detail::parse_signal(req.config["StopSignal"].get<std::string>()));
  }
  SILO_TRY(detail::validate_hostname(req.config["Hostname"].get<std::string>()));
  SILO_TRY(detail::validate_host_config(req.host_config, req.warnings));
  detail::apply_host_defaults(req.host_config, req.warnings);
  return req;
}

}  // namespace silo::engine
