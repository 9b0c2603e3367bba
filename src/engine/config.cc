#include "engine/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

#include "common/sys.h"
#include "engine/units.h"

namespace silo::engine {
namespace {

using Setter = Status (*)(DaemonConfig&, const Json&, std::string_view key);

// --- typed readers: each names the key and the type it wanted ---

std::unexpected<Error> wrong_type(std::string_view key, std::string_view want, const Json& v) {
  return fail(Code::Invalid,
              std::string(key) + ": want " + std::string(want) + ", got " + v.type_name());
}

Result<std::string> as_string(const Json& v, std::string_view key) {
  if (!v.is_string()) return wrong_type(key, "a string", v);
  return v.get<std::string>();
}

Result<std::vector<std::string>> as_strings(const Json& v, std::string_view key) {
  if (!v.is_array()) return wrong_type(key, "an array of strings", v);
  std::vector<std::string> out;
  for (const auto& item : v) {
    if (!item.is_string()) return wrong_type(key, "an array of strings", item);
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<std::map<std::string, std::string>> as_string_map(const Json& v, std::string_view key) {
  if (!v.is_object()) return wrong_type(key, "an object of strings", v);
  std::map<std::string, std::string> out;
  for (const auto& [k, item] : v.items()) {
    if (!item.is_string()) return wrong_type(std::string(key) + "." + k, "a string", item);
    out[k] = item.get<std::string>();
  }
  return out;
}

// --- one setter per daemon.json key ---

template <std::string DaemonConfig::*Field>
Status set_string(DaemonConfig& c, const Json& v, std::string_view key) {
  auto s = as_string(v, key);
  if (!s) return std::unexpected(s.error());
  c.*Field = std::move(*s);
  return {};
}

template <std::vector<std::string> DaemonConfig::*Field>
Status set_strings(DaemonConfig& c, const Json& v, std::string_view key) {
  auto s = as_strings(v, key);
  if (!s) return std::unexpected(s.error());
  c.*Field = std::move(*s);
  return {};
}

Status set_live_restore(DaemonConfig& c, const Json& v, std::string_view key) {
  if (!v.is_boolean()) return wrong_type(key, "a boolean", v);
  c.live_restore = v.get<bool>();
  return {};
}

// dockerd's "debug": true is log-level debug.
Status set_debug(DaemonConfig& c, const Json& v, std::string_view key) {
  if (!v.is_boolean()) return wrong_type(key, "a boolean", v);
  if (v.get<bool>()) c.log_level = "debug";
  return {};
}

Status set_log_opts(DaemonConfig& c, const Json& v, std::string_view key) {
  auto m = as_string_map(v, key);
  if (!m) return std::unexpected(m.error());
  c.log_opts = std::move(*m);
  return {};
}

Result<Ulimit> parse_ulimit(const Json& v, const std::string& where) {
  if (!v.is_object()) return wrong_type(where, "an object", v);
  Ulimit u;
  for (const auto& [k, item] : v.items()) {
    if (k == "Name" && item.is_string()) {
      u.name = item.get<std::string>();
    } else if ((k == "Soft" || k == "Hard") && item.is_number_integer()) {
      (k == "Soft" ? u.soft : u.hard) = item.get<int64_t>();
    } else if (k == "Name" || k == "Soft" || k == "Hard") {
      return wrong_type(where + "." + k, k == "Name" ? "a string" : "an integer", item);
    } else {
      return fail(Code::Invalid, where + ": unknown field " + k + " (want Name, Soft, Hard)");
    }
  }
  return u;
}

Status set_ulimits(DaemonConfig& c, const Json& v, std::string_view key) {
  if (!v.is_object()) return wrong_type(key, "an object", v);
  std::map<std::string, Ulimit> out;
  for (const auto& [name, item] : v.items()) {
    auto u = parse_ulimit(item, std::string(key) + "." + name);
    if (!u) return std::unexpected(u.error());
    if (u->name.empty()) u->name = name;
    out[name] = *u;
  }
  c.default_ulimits = std::move(out);
  return {};
}

struct Key {
  std::string_view name;
  Setter set;
};

constexpr std::array<Key, 16> kKeys = {{
    {"data-root", set_string<&DaemonConfig::root>},
    {"root", set_string<&DaemonConfig::root>},
    {"exec-root", set_string<&DaemonConfig::exec_root>},
    {"hosts", set_strings<&DaemonConfig::hosts>},
    {"log-level", set_string<&DaemonConfig::log_level>},
    {"debug", set_debug},
    {"log-driver", set_string<&DaemonConfig::log_driver>},
    {"log-opts", set_log_opts},
    {"storage-driver", set_string<&DaemonConfig::storage_driver>},
    {"default-ulimits", set_ulimits},
    {"bridge", set_string<&DaemonConfig::bridge>},
    {"fixed-cidr", set_string<&DaemonConfig::fixed_cidr>},
    {"insecure-registries", set_strings<&DaemonConfig::insecure_registries>},
    {"registry-mirrors", set_strings<&DaemonConfig::registry_mirrors>},
    {"live-restore", set_live_restore},
    {"default-runtime", set_string<&DaemonConfig::default_runtime>},
}};

const Key* find_key(std::string_view name) {
  auto it = std::find_if(kKeys.begin(), kKeys.end(), [&](const Key& k) { return k.name == name; });
  return it == kKeys.end() ? nullptr : &*it;
}

std::string prefix(std::string_view source) {
  if (source == "flags") return "unable to configure the Silo daemon from flags: ";
  return "unable to configure the Silo daemon with file " + std::string(source) + ": ";
}

// --- validation ---

constexpr std::array<std::string_view, 5> kLogLevels = {"debug", "info", "warn", "error", "fatal"};
constexpr std::array<std::string_view, 3> kLogDrivers = {"json-file", "local", "none"};
constexpr std::array<std::string_view, 10> kJsonFileOpts = {
    "max-size", "max-file",  "compress", "labels", "labels-regex",
    "env",      "env-regex", "tag",      "mode",   "max-buffer-size"};
constexpr std::array<std::string_view, 15> kUlimitNames = {
    "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
    "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};

template <size_t N>
bool one_of(const std::array<std::string_view, N>& set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

// A decimal integer of at most 9 digits, or -1 when `s` is not one.
int64_t positive_int(std::string_view s) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string_view::npos)
    return -1;
  return std::stoll(std::string(s));
}

Status validate_log(const DaemonConfig& c) {
  if (!one_of(kLogLevels, c.log_level))
    return fail(Code::Invalid, "log-level: invalid level \"" + c.log_level +
                                   "\" (want debug, info, warn, error or fatal)");
  if (!one_of(kLogDrivers, c.log_driver))
    return fail(Code::Invalid, "log-driver: unsupported driver \"" + c.log_driver +
                                   "\" (want json-file, local or none)");
  for (const auto& [k, v] : c.log_opts) {
    if (c.log_driver == "json-file" && !one_of(kJsonFileOpts, k))
      return fail(Code::Invalid, "unknown log opt '" + k + "' for json-file log driver");
  }
  if (auto it = c.log_opts.find("max-size"); it != c.log_opts.end() && it->second != "-1")
    SILO_TRY_CTX(from_human_size(it->second), "log-opts max-size");
  if (auto it = c.log_opts.find("max-file"); it != c.log_opts.end() && positive_int(it->second) < 1)
    return fail(Code::Invalid,
                "log-opts max-file: want an integer >= 1, got \"" + it->second + "\"");
  return {};
}

Status validate_cidr(std::string_view cidr) {
  auto bad = [&] {
    return fail(Code::Invalid, "fixed-cidr: invalid CIDR address: " + std::string(cidr));
  };
  size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) return bad();
  std::string addr(cidr.substr(0, slash));
  std::string bits(cidr.substr(slash + 1));
  if (bits.empty() || bits.size() > 2 || bits.find_first_not_of("0123456789") != std::string::npos)
    return bad();
  in_addr a{};
  if (inet_pton(AF_INET, addr.c_str(), &a) != 1 || std::stoi(bits) > 32) return bad();
  return {};
}

Status validate_other(const DaemonConfig& c) {
  if (c.root.empty() || c.root.front() != '/')
    return fail(Code::Invalid, "data-root: must be an absolute path, got \"" + c.root + "\"");
  if (c.exec_root.empty() || c.exec_root.front() != '/')
    return fail(Code::Invalid, "exec-root: must be an absolute path, got \"" + c.exec_root + "\"");
  for (const auto& h : c.hosts) {
    if (!h.starts_with("unix://") && !h.starts_with("tcp://") && !h.starts_with("fd://"))
      return fail(Code::Invalid, "hosts: invalid bind address format: " + h);
  }
  for (const auto& m : c.registry_mirrors) {
    if (!m.starts_with("http://") && !m.starts_with("https://"))
      return fail(Code::Invalid, "registry-mirrors: invalid mirror: unsupported scheme in " + m);
  }
  for (const auto& [name, u] : c.default_ulimits) {
    if (!one_of(kUlimitNames, u.name))
      return fail(Code::Invalid, "default-ulimits: invalid ulimit type: " + u.name);
    if (u.soft > u.hard)
      return fail(Code::Invalid,
                  "default-ulimits: ulimit soft limit must be less than or equal to hard limit: " +
                      std::to_string(u.soft) + " > " + std::to_string(u.hard));
  }
  if (c.storage_driver.empty()) return fail(Code::Invalid, "storage-driver: must not be empty");
  if (!c.fixed_cidr.empty()) SILO_TRY(validate_cidr(c.fixed_cidr));
  return {};
}

}  // namespace

int64_t DaemonConfig::log_max_size() const {
  auto it = log_opts.find("max-size");
  if (it == log_opts.end() || it->second == "-1") return -1;
  auto n = from_human_size(it->second);
  return n ? *n : -1;
}

int64_t DaemonConfig::log_max_file() const {
  auto it = log_opts.find("max-file");
  if (it == log_opts.end()) return 1;
  int64_t n = positive_int(it->second);
  return n >= 1 ? n : 1;
}

Status apply_daemon_json(DaemonConfig& cfg, const Json& doc, std::string_view source) {
  if (!doc.is_object())
    return fail(Code::Invalid, prefix(source) + "want a JSON object, got " + doc.type_name());
  // All unknown keys are reported together, sorted, like dockerd.
  std::vector<std::string> unknown;
  for (const auto& [k, v] : doc.items())
    if (!find_key(k)) unknown.push_back(k);
  if (!unknown.empty()) {
    std::string list;
    for (const auto& k : unknown) list += (list.empty() ? "" : ", ") + k;
    return fail(
        Code::Invalid,
        prefix(source) + "the following directives don't match any configuration option: " + list);
  }
  for (const auto& [k, v] : doc.items()) {
    auto st = find_key(k)->set(cfg, v, k);
    if (!st) return fail(Code::Invalid, prefix(source) + st.error().message);
  }
  return {};
}

Status validate_config(const DaemonConfig& cfg) {
  SILO_TRY(validate_log(cfg));
  return validate_other(cfg);
}

namespace {

// dockerd refuses a directive given both as a flag and in the file rather than pick one.
Status check_no_conflicts(const Json& file, const Json& flags, std::string_view path) {
  if (!file.is_object() || !flags.is_object()) return {};
  auto show = [](const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  std::string both;
  for (const auto& [key, flag_value] : flags.items()) {
    auto it = file.find(key);
    if (it == file.end()) continue;
    if (!both.empty()) both += ", ";
    both += key + ": (from flag: " + show(flag_value) + ", from file: " + show(*it) + ")";
  }
  if (both.empty()) return {};
  return fail(Code::Invalid, prefix(path) +
                                 "the following directives are specified both as a flag and in the "
                                 "configuration file: " +
                                 both);
}

}  // namespace

Result<DaemonConfig> load_daemon_config(const std::string& path, bool required,
                                        const Json& overrides) {
  DaemonConfig cfg;
  if (!path.empty() && (required || sys::path_exists(path))) {
    auto text = sys::read_file(path);
    if (!text) return fail(text.error().code, prefix(path) + text.error().message);
    auto doc = parse_json(*text, path);
    if (!doc) return fail(Code::Invalid, prefix(path) + doc.error().message);
    SILO_TRY(check_no_conflicts(*doc, overrides, path));
    SILO_TRY(apply_daemon_json(cfg, *doc, path));
    cfg.config_file = path;
  }
  if (!overrides.is_null()) SILO_TRY(apply_daemon_json(cfg, overrides, "flags"));
  auto valid = validate_config(cfg);
  if (!valid)
    return fail(Code::Invalid, prefix(cfg.config_file.empty() ? "flags" : cfg.config_file) +
                                   valid.error().message);
  return cfg;
}

}  // namespace silo::engine
