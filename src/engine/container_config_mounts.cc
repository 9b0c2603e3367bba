// Binds ("-v src:dst:mode"), Mounts ("--mount") and Tmpfs ("--tmpfs") validation with
// dockerd's messages (volume/mounts/linux_parser.go).

#include <sys/stat.h>

#include <set>

#include "engine/container_config.h"
#include "engine/container_config_internal.h"

namespace silo::engine::detail {
namespace {

Status invalid(std::string msg) {
  return fail(Code::Invalid, std::move(msg));
}

const std::set<std::string>& propagation_modes() {
  static const std::set<std::string> m = {"private", "rprivate", "shared",
                                          "rshared", "slave",    "rslave"};
  return m;
}

// linuxParser.ValidMountMode: comma-separated, at most one of each kind.
bool valid_mount_mode(std::string_view mode, std::vector<std::string>* parts) {
  if (mode.empty()) return true;
  int rw = 0, label = 0, prop = 0, copy = 0, consistency = 0;
  size_t start = 0;
  while (true) {
    size_t comma = mode.find(',', start);
    std::string o(mode.substr(start, comma == std::string_view::npos ? mode.npos : comma - start));
    if (o == "rw" || o == "ro")
      ++rw;
    else if (o == "z" || o == "Z")
      ++label;
    else if (propagation_modes().count(o))
      ++prop;
    else if (o == "nocopy")
      ++copy;
    else if (o == "consistent" || o == "cached" || o == "delegated")
      ++consistency;
    else
      return false;
    if (parts) parts->push_back(o);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return rw <= 1 && label <= 1 && prop <= 1 && copy <= 1 && consistency <= 1;
}

std::string mount_error(std::string_view type, std::string_view err) {
  return "invalid mount config for type \"" + std::string(type) + "\": " + std::string(err);
}

Status check_target(std::string_view type, const std::string& target) {
  if (target.empty()) return invalid(mount_error(type, "field Target must not be empty"));
  if (target == "/")
    return invalid(mount_error(type, "invalid specification: destination can't be '/'"));
  if (target[0] != '/')
    return invalid(
        mount_error(type, "invalid mount path: '" + target + "' mount path must be absolute"));
  return {};
}

std::string str_field(const Json& m, const char* key) {
  auto it = m.find(key);
  return it != m.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool has(const Json& m, const char* key) {
  return m.contains(key) && !m[key].is_null();
}

// linuxParser.ConvertTmpfsOptions: SizeBytes >= 0, Mode.
Status check_tmpfs_options(const Json& m) {
  if (!has(m, "TmpfsOptions")) return {};
  Json o = m["TmpfsOptions"];
  SILO_TRY(
      check_type(o, "Mount.HostConfig.Mounts.TmpfsOptions", GoType::Object, "mount.TmpfsOptions"));
  Json size = o.value("SizeBytes", Json(0)), mode = o.value("Mode", Json(0));
  SILO_TRY(
      check_type(size, "TmpfsOptions.HostConfig.Mounts.TmpfsOptions.SizeBytes", GoType::Int64));
  SILO_TRY(check_type(mode, "TmpfsOptions.HostConfig.Mounts.TmpfsOptions.Mode", GoType::Uint64,
                      "fs.FileMode"));
  return {};
}

Status validate_mount(const Json& m) {
  if (!m.is_object())
    return std::unexpected(
        type_error(m, "HostConfig.HostConfig.Mounts", GoType::Object, "mount.Mount"));
  for (const char* k : {"Type", "Source", "Target", "Consistency"}) {
    Json v = m.value(k, Json(""));
    SILO_TRY(check_type(v, std::string("Mount.HostConfig.Mounts.") + k, GoType::String,
                        std::string_view(k) == "Type"          ? "mount.Type"
                        : k == std::string_view("Consistency") ? "mount.Consistency"
                                                               : nullptr));
  }
  Json ro = m.value("ReadOnly", Json(false));
  SILO_TRY(check_type(ro, "Mount.HostConfig.Mounts.ReadOnly", GoType::Bool));
  std::string type = str_field(m, "Type"), source = str_field(m, "Source"),
              target = str_field(m, "Target");
  SILO_TRY(check_target(type, target));
  if (type == "bind") {
    if (source.empty()) return invalid(mount_error(type, "field Source must not be empty"));
    if (has(m, "BindOptions")) {
      std::string prop =
          m["BindOptions"].is_object() ? str_field(m["BindOptions"], "Propagation") : "";
      if (!prop.empty() && !propagation_modes().count(prop))
        return invalid(mount_error(type, "invalid propagation mode: " + prop));
    }
    if (has(m, "VolumeOptions"))
      return invalid(mount_error(type, "field VolumeOptions must not be specified"));
    if (source[0] != '/')
      return invalid(
          mount_error(type, "invalid mount path: '" + source + "' mount path must be absolute"));
    struct stat st;
    if (::stat(source.c_str(), &st) != 0)
      return invalid(mount_error(type, "bind source path does not exist: " + source));
  } else if (type == "volume") {
    if (has(m, "BindOptions"))
      return invalid(mount_error(type, "field BindOptions must not be specified"));
    if (source.empty() && ro.is_boolean() && ro.get<bool>())
      return invalid(mount_error(type, "must not set ReadOnly mode when using anonymous volumes"));
  } else if (type == "tmpfs") {
    if (has(m, "BindOptions"))
      return invalid(mount_error(type, "field BindOptions must not be specified"));
    if (!source.empty()) return invalid(mount_error(type, "field Source must not be specified"));
    SILO_TRY(check_tmpfs_options(m));
  } else {
    return invalid(mount_error(type, "mount type unknown"));
  }
  return {};
}

// mount.ParseTmpfsOptions: the options the kernel's tmpfs and the VFS accept.
Status check_tmpfs_data(const std::string& dest, const std::string& data) {
  static const std::set<std::string> kFlags = {
      "defaults", "ro",         "rw",          "suid",          "nosuid",     "dev",      "nodev",
      "exec",     "noexec",     "sync",        "async",         "dirsync",    "remount",  "mand",
      "nomand",   "atime",      "noatime",     "diratime",      "nodiratime", "bind",     "rbind",
      "relatime", "norelatime", "strictatime", "nostrictatime", "private",    "rprivate", "shared",
      "rshared",  "slave",      "rslave",      "unbindable",    "runbindable"};
  static const std::set<std::string> kData = {"size",      "mode",      "uid",  "gid",
                                              "nr_inodes", "nr_blocks", "mpol", "huge"};
  size_t start = 0;
  while (!data.empty()) {
    size_t comma = data.find(',', start);
    std::string o =
        data.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::string key = o.substr(0, o.find('='));
    bool ok = o.find('=') == std::string::npos ? kFlags.count(o) > 0 : kData.count(key) > 0;
    if (!ok) return invalid("Invalid tmpfs option [\"" + o + "\"] for " + dest);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return {};
}

}  // namespace

Result<BindSpec> parse_bind(std::string_view raw_view) {
  std::string raw(raw_view);
  auto bad_spec = [&] {
    return fail(Code::Invalid, "invalid volume specification: '" + raw + "'");
  };
  if (std::count(raw.begin(), raw.end(), ':') > 2) return bad_spec();
  std::vector<std::string> arr;
  size_t start = 0;
  while (arr.size() < 2) {
    size_t colon = raw.find(':', start);
    if (colon == std::string::npos) break;
    arr.push_back(raw.substr(start, colon - start));
    start = colon + 1;
  }
  arr.push_back(raw.substr(start));
  if (arr[0].empty()) return bad_spec();
  BindSpec b;
  std::string mode;
  if (arr.size() == 1) {
    b.destination = arr[0];
  } else if (arr.size() == 2) {
    if (valid_mount_mode(arr[1], nullptr)) return bad_spec();
    b.source = arr[0];
    b.destination = arr[1];
  } else {
    b.source = arr[0];
    b.destination = arr[1];
    mode = arr[2];
  }
  if (!valid_mount_mode(mode, &b.modes)) return fail(Code::Invalid, "invalid mode: " + mode);
  b.is_volume = b.source.empty() || b.source[0] != '/';
  for (const auto& m : b.modes) {
    if (m == "ro") b.read_only = true;
    if (propagation_modes().count(m)) b.propagation = m;
  }
  std::string type = b.is_volume ? "volume" : "bind";
  SILO_TRY(check_target(type, b.destination));
  return b;
}

Status validate_mounts(const Json& hc) {
  if (hc["Mounts"].is_array())
    for (const auto& m : hc["Mounts"]) SILO_TRY(validate_mount(m));
  if (hc["Binds"].is_array())
    for (const auto& b : hc["Binds"]) SILO_TRY(parse_bind(b.get<std::string>()));
  if (hc.contains("Tmpfs") && hc["Tmpfs"].is_object()) {
    for (const auto& [dest, opts] : hc["Tmpfs"].items()) {
      if (dest == "/") return invalid("invalid specification: destination can't be '/'");
      if (dest.empty() || dest[0] != '/')
        return invalid("invalid mount path: '" + dest + "' mount path must be absolute");
      SILO_TRY(check_tmpfs_data(dest, opts.get<std::string>()));
    }
  }
  return {};
}

}  // namespace silo::engine::detail
