#include "image/config.h"

#include "common/json.h"
#include "image/json_fields.h"

namespace silo::image {

using detail::field;
using detail::object_at;

namespace {

// ExposedPorts and Volumes are Go map[string]struct{}: only the keys carry meaning.
Status keys_of(const Json& j, const char* key, std::set<std::string>& out, std::string_view where) {
  auto obj = object_at(j, key, where);
  if (!obj) return std::unexpected(obj.error());
  for (const auto& [k, v] : (*obj)->items()) out.insert(k);
  return {};
}

Status parse_int64(const Json& j, const char* key, int64_t& out, std::string_view where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_number_integer())
    return fail(Code::Invalid, field(where, key) + ": expected an integer (nanoseconds)");
  out = it->get<int64_t>();
  return {};
}

Result<std::optional<Healthcheck>> parse_healthcheck(const Json& c) {
  auto it = c.find("Healthcheck");
  if (it == c.end() || it->is_null()) return std::nullopt;
  auto obj = object_at(c, "Healthcheck", "config.config");
  if (!obj) return std::unexpected(obj.error());
  const Json& h = **obj;
  constexpr std::string_view where = "config.config.Healthcheck";
  Healthcheck hc;
  SILO_TRY(get_opt(h, "Test", hc.test, where));
  SILO_TRY(parse_int64(h, "Interval", hc.interval_ns, where));
  SILO_TRY(parse_int64(h, "Timeout", hc.timeout_ns, where));
  SILO_TRY(parse_int64(h, "StartPeriod", hc.start_period_ns, where));
  SILO_TRY(parse_int64(h, "StartInterval", hc.start_interval_ns, where));
  int64_t retries = 0;
  SILO_TRY(parse_int64(h, "Retries", retries, where));
  if (retries < 0 || retries > 1'000'000)
    return fail(Code::Invalid, std::string(where) + ".Retries: out of range");
  hc.retries = static_cast<int>(retries);
  return hc;
}

Result<RunConfig> parse_run_config(const Json& root) {
  auto obj = object_at(root, "config", "config");
  if (!obj) return std::unexpected(obj.error());
  const Json& c = **obj;
  constexpr std::string_view where = "config.config";
  RunConfig rc;
  SILO_TRY(get_opt(c, "User", rc.user, where));
  SILO_TRY(get_opt(c, "Env", rc.env, where));
  SILO_TRY(get_opt(c, "Cmd", rc.cmd, where));
  SILO_TRY(get_opt(c, "Entrypoint", rc.entrypoint, where));
  SILO_TRY(get_opt(c, "WorkingDir", rc.working_dir, where));
  SILO_TRY(keys_of(c, "ExposedPorts", rc.exposed_ports, where));
  SILO_TRY(keys_of(c, "Volumes", rc.volumes, where));
  SILO_TRY(get_opt(c, "Labels", rc.labels, where));
  SILO_TRY(get_opt(c, "StopSignal", rc.stop_signal, where));
  SILO_TRY(get_opt(c, "Shell", rc.shell, where));
  SILO_TRY(get_opt(c, "OnBuild", rc.on_build, where));
  SILO_TRY(get_opt(c, "ArgsEscaped", rc.args_escaped, where));
  auto hc = parse_healthcheck(c);
  if (!hc) return std::unexpected(hc.error());
  rc.healthcheck = std::move(*hc);
  return rc;
}

Result<std::vector<Digest>> parse_rootfs(const Json& root) {
  auto obj = object_at(root, "rootfs", "config");
  if (!obj) return std::unexpected(obj.error());
  const Json& r = **obj;
  std::string type;
  SILO_TRY(get_opt(r, "type", type, "config.rootfs"));
  if (type != "layers")
    return fail(Code::Invalid, "config.rootfs.type: expected \"layers\", got \"" + type + "\"");
  std::vector<std::string> ids;
  SILO_TRY(get_opt(r, "diff_ids", ids, "config.rootfs"));
  std::vector<Digest> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto d = Digest::parse(ids[i]);
    if (!d) return wrap(d.error(), "config.rootfs.diff_ids[" + std::to_string(i) + "]");
    out.push_back(std::move(*d));
  }
  return out;
}

Result<std::vector<HistoryEntry>> parse_history(const Json& root) {
  std::vector<HistoryEntry> out;
  auto it = root.find("history");
  if (it == root.end() || it->is_null()) return out;
  if (!it->is_array()) return fail(Code::Invalid, "config.history: expected an array");
  for (size_t i = 0; i < it->size(); ++i) {
    std::string where = "config.history[" + std::to_string(i) + "]";
    const Json& h = (*it)[i];
    if (!h.is_object()) return fail(Code::Invalid, where + ": expected an object");
    HistoryEntry e;
    SILO_TRY(get_opt(h, "created", e.created, where));
    SILO_TRY(get_opt(h, "created_by", e.created_by, where));
    SILO_TRY(get_opt(h, "author", e.author, where));
    SILO_TRY(get_opt(h, "comment", e.comment, where));
    SILO_TRY(get_opt(h, "empty_layer", e.empty_layer, where));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

Result<ImageConfig> parse_image_config(std::string_view body) {
  auto parsed = parse_json(body, "image config");
  if (!parsed) return std::unexpected(parsed.error());
  const Json& j = *parsed;
  if (!j.is_object())
    return fail(Code::Invalid,
                "image config: expected a JSON object, got " + std::string(j.type_name()));
  ImageConfig ic;
  SILO_TRY(get_opt(j, "os", ic.platform.os, "config"));
  SILO_TRY(get_opt(j, "architecture", ic.platform.architecture, "config"));
  SILO_TRY(get_opt(j, "variant", ic.platform.variant, "config"));
  SILO_TRY(get_opt(j, "os.version", ic.platform.os_version, "config"));
  SILO_TRY(get_opt(j, "os.features", ic.platform.os_features, "config"));
  if (ic.platform.architecture.empty())
    return fail(Code::Invalid, "config.architecture: missing; the image config names no platform");
  SILO_TRY(get_opt(j, "created", ic.created, "config"));
  SILO_TRY(get_opt(j, "author", ic.author, "config"));
  auto rc = parse_run_config(j);
  if (!rc) return std::unexpected(rc.error());
  ic.config = std::move(*rc);
  auto ids = parse_rootfs(j);
  if (!ids) return std::unexpected(ids.error());
  ic.diff_ids = std::move(*ids);
  auto history = parse_history(j);
  if (!history) return std::unexpected(history.error());
  ic.history = std::move(*history);
  return ic;
}

Json run_config_json(const RunConfig& c) {
  Json j = Json::object();
  auto put = [&j](const char* key, const auto& v) {
    if (!v.empty()) j[key] = v;
  };
  put("User", c.user);
  put("Env", c.env);
  put("Cmd", c.cmd);
  put("Entrypoint", c.entrypoint);
  put("WorkingDir", c.working_dir);
  auto set_of = [&j](const char* key, const std::set<std::string>& keys) {
    if (keys.empty()) return;
    Json o = Json::object();
    for (const auto& k : keys) o[k] = Json::object();
    j[key] = std::move(o);
  };
  set_of("ExposedPorts", c.exposed_ports);
  set_of("Volumes", c.volumes);
  put("Labels", c.labels);
  put("StopSignal", c.stop_signal);
  put("Shell", c.shell);
  put("OnBuild", c.on_build);
  if (c.healthcheck) {
    const Healthcheck& h = *c.healthcheck;
    Json hc{{"Test", h.test}};
    if (h.interval_ns) hc["Interval"] = h.interval_ns;
    if (h.timeout_ns) hc["Timeout"] = h.timeout_ns;
    if (h.start_period_ns) hc["StartPeriod"] = h.start_period_ns;
    if (h.start_interval_ns) hc["StartInterval"] = h.start_interval_ns;
    if (h.retries) hc["Retries"] = h.retries;
    j["Healthcheck"] = std::move(hc);
  }
  if (c.args_escaped) j["ArgsEscaped"] = true;
  return j;
}

Status check_layers_match(const Manifest& m, const ImageConfig& c) {
  if (m.layers.size() == c.diff_ids.size()) return {};
  return fail(Code::Invalid, "image config " + m.config.digest.short_str() + " lists " +
                                 std::to_string(c.diff_ids.size()) +
                                 " diff_ids but its manifest has " +
                                 std::to_string(m.layers.size()) +
                                 " layers; the image is broken, rebuild or re-push it");
}

}  // namespace silo::image
