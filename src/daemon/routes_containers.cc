// GET /containers/json: the container list in Docker's summary shape (types.Container),
// newest first, with dockerd's `all`, `limit`, `size` and `filters` semantics.

#include <ctime>
#include <regex>

#include "api/http.h"
#include "daemon/daemon.h"
#include "engine/units.h"

namespace silo::daemon {
namespace {

using engine::ContainerRecord;

// go-units' HumanDuration, which `docker ps` shows in STATUS.
std::string human_duration(int64_t seconds) {
  auto n = [](int64_t v, const char* unit) { return std::to_string(v) + " " + unit; };
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return n(seconds, "seconds");
  int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return n(minutes, "minutes");
  int64_t hours = (seconds + 1800) / 3600;
  if (hours == 1) return "About an hour";
  if (hours < 48) return n(hours, "hours");
  if (hours < 24 * 7 * 2) return n(hours / 24, "days");
  if (hours < 24 * 30 * 2) return n(hours / 24 / 7, "weeks");
  if (hours < 24 * 365 * 2) return n(hours / 24 / 30, "months");
  return n(seconds / 3600 / 24 / 365, "years");
}

// The STATUS column, as dockerd's State.String().
std::string status_text(const engine::ContainerState& s) {
  int64_t now = std::time(nullptr);
  auto since = [&](const std::string& t) {
    return human_duration(now - engine::rfc3339_seconds(t));
  };
  const std::string code = "(" + std::to_string(s.exit_code) + ")";
  if (s.status == "running") return "Up " + since(s.started_at);
  if (s.status == "paused") return "Up " + since(s.started_at) + " (Paused)";
  if (s.status == "restarting") return "Restarting " + code + " " + since(s.finished_at) + " ago";
  if (s.status == "removing") return "Removal In Progress";
  if (s.status == "dead") return "Dead";
  if (s.status == "exited" && !s.finished_at.empty())
    return "Exited " + code + " " + since(s.finished_at) + " ago";
  if (s.status == "exited") return "Exited " + code;
  return "Created";
}

// Entrypoint and Cmd joined by spaces; either may be a string or an array in Config.
std::string command_text(const Json& config) {
  std::string out;
  auto add = [&](const Json& part) {
    if (part.is_string()) out += (out.empty() ? "" : " ") + part.get<std::string>();
    if (!part.is_array()) return;
    for (const auto& a : part)
      if (a.is_string()) out += (out.empty() ? "" : " ") + a.get<std::string>();
  };
  if (config.is_object()) {
    add(config.value("Entrypoint", Json()));
    add(config.value("Cmd", Json()));
  }
  return out;
}

// NetworkSettings.Ports ({"80/tcp": [{"HostIp","HostPort"}]}) as the summary's Ports list.
Json port_list(const Json& settings) {
  Json out = Json::array();
  if (!settings.is_object() || !settings.contains("Ports") || !settings["Ports"].is_object())
    return out;
  for (const auto& [key, bindings] : settings["Ports"].items()) {
    size_t slash = key.find('/');
    std::string type = slash == std::string::npos ? "tcp" : key.substr(slash + 1);
    int priv = std::atoi(key.substr(0, slash).c_str());
    if (!bindings.is_array() || bindings.empty()) {
      out.push_back({{"PrivatePort", priv}, {"Type", type}});
      continue;
    }
    for (const auto& b : bindings) {
      Json p = {{"PrivatePort", priv}, {"Type", type}};
      if (b.is_object()) {
        p["IP"] = b.value("HostIp", "");
        p["PublicPort"] = std::atoi(b.value("HostPort", "0").c_str());
      }
      out.push_back(std::move(p));
    }
  }
  return out;
}

bool regex_matches(const std::string& pattern, const std::string& text) {
  try {
    return std::regex_search(text, std::regex(pattern));
  } catch (const std::regex_error&) {
    return false;  // dockerd's filters.Match skips a pattern that does not compile
  }
}

bool label_matches(const engine::Labels& labels, const std::string& want) {
  size_t eq = want.find('=');
  auto it = labels.find(want.substr(0, eq));
  if (it == labels.end()) return false;
  return eq == std::string::npos || it->second == want.substr(eq + 1);
}

constexpr std::string_view kStates[] = {"created", "restarting", "running", "removing",
                                        "paused",  "exited",     "dead"};
constexpr std::string_view kSupported[] = {"id",     "name",  "status",  "label",  "exited",
                                           "before", "since", "network", "publish", "expose"};
constexpr std::string_view kDockerOnly[] = {"ancestor", "health", "isolation", "is-task",
                                            "volume"};

template <size_t N>
bool one_of(const std::string_view (&set)[N], std::string_view v) {
  for (auto s : set)
    if (s == v) return true;
  return false;
}

Status check_filters(const api::Filters& f) {
  for (const auto& [key, values] : f) {
    if (one_of(kDockerOnly, key))
      return fail(Code::Invalid, "filter '" + key + "' is not supported by silod yet");
    if (!one_of(kSupported, key)) return fail(Code::Invalid, "invalid filter '" + key + "'");
    for (const auto& v : values) {
      if (key == "status" && !one_of(kStates, v))
        return fail(Code::Invalid, "invalid filter 'status=" + v + "'");
      if (key == "exited" && (v.empty() || v.find_first_not_of("-0123456789") != std::string::npos))
        return fail(Code::Invalid, "invalid filter 'exited=" + v + "'");
    }
  }
  return {};
}

// The list position (oldest first) of the container a before/since filter names.
Result<size_t> position_of(const std::vector<ContainerRecord>& all, engine::Store& store,
                           const std::string& ref) {
  auto c = store.get_container(ref);
  if (!c) return std::unexpected(c.error());
  for (size_t i = 0; i < all.size(); ++i)
    if (all[i].id == c->id) return i;
  return fail(Code::NotFound, "No such container: " + ref);
}

// True when some value of filter `key` matches (or the filter is absent).
template <class Pred>
bool any_value(const api::Filters& f, const std::string& key, Pred pred) {
  auto it = f.find(key);
  if (it == f.end()) return true;
  for (const auto& v : it->second)
    if (pred(v)) return true;
  return false;
}

// dockerd's network filter: a network name or id (prefix) the container is on.
bool on_network(const ContainerRecord& c, const std::string& v) {
  auto nets = c.network_settings.value("Networks", Json::object());
  for (const auto& [name, es] : nets.items())
    if (name == v || (!v.empty() && es.is_object() && es.value("NetworkID", "").starts_with(v)))
      return true;
  return false;
}

// publish=8080[/tcp] (a host port) and expose=80[/tcp] (a container port).
bool has_port(const ContainerRecord& c, std::string v, bool published) {
  if (v.find('/') == std::string::npos) v += "/tcp";
  std::string port = v.substr(0, v.find('/')), proto = v.substr(v.find('/') + 1);
  if (!published) return c.config.value("ExposedPorts", Json::object()).contains(v);
  auto ports = c.network_settings.value("Ports", Json::object());
  for (const auto& [key, list] : ports.items()) {
    if (!key.ends_with("/" + proto) || !list.is_array()) continue;
    for (const auto& b : list)
      if (b.is_object() && b.value("HostPort", "") == port) return true;
  }
  return false;
}

bool matches(const ContainerRecord& c, const api::Filters& f) {
  const auto& st = c.state.status;
  return any_value(f, "id", [&](const std::string& v) { return regex_matches(v, c.id); }) &&
         any_value(f, "name",
                   [&](const std::string& v) { return regex_matches(v, "/" + c.name); }) &&
         any_value(f, "status", [&](const std::string& v) { return v == st; }) &&
         any_value(f, "label", [&](const std::string& v) { return label_matches(c.labels, v); }) &&
         any_value(f, "exited", [&](const std::string& v) {
           return st == "exited" && std::to_string(c.state.exit_code) == v;
         }) &&
         any_value(f, "network", [&](const std::string& v) { return on_network(c, v); }) &&
         any_value(f, "publish", [&](const std::string& v) { return has_port(c, v, true); }) &&
         any_value(f, "expose", [&](const std::string& v) { return has_port(c, v, false); });
}

// Running in dockerd's sense, which includes paused and restarting containers.
bool is_running(const ContainerRecord& c) {
  const auto& s = c.state.status;
  return s == "running" || s == "paused" || s == "restarting";
}

Result<Json> list_json(const Context& ctx, const api::Request& req) {
  auto filters = req.query.filters();
  if (!filters) return std::unexpected(filters.error());
  SILO_TRY(check_filters(*filters));
  auto limit = req.query.get_int("limit", -1);
  if (!limit) return std::unexpected(limit.error());
  // As dockerd: a status filter or a limit shows stopped containers too.
  bool all = req.query.get_bool("all") || filters->contains("status") || *limit > 0;
  bool with_size = req.query.get_bool("size");
  auto list = ctx.store->list_containers();
  if (!list) return std::unexpected(list.error());
  size_t lo = 0, hi = list->size();  // positions allowed by since / before
  for (const auto& ref :
       filters->contains("since") ? filters->at("since") : std::vector<std::string>{}) {
    auto pos = position_of(*list, *ctx.store, ref);
    if (!pos) return std::unexpected(pos.error());
    lo = std::max(lo, *pos + 1);
  }
  for (const auto& ref :
       filters->contains("before") ? filters->at("before") : std::vector<std::string>{}) {
    auto pos = position_of(*list, *ctx.store, ref);
    if (!pos) return std::unexpected(pos.error());
    hi = std::min(hi, *pos);
  }
  Json out = Json::array();
  for (size_t i = hi; i > lo; --i) {
    const auto& c = (*list)[i - 1];
    if (*limit > 0 && static_cast<int64_t>(out.size()) >= *limit) break;
    if ((!all && !is_running(c)) || !matches(c, *filters)) continue;
    out.push_back(container_summary(c, with_size));
  }
  return out;
}

}  // namespace

Json container_summary(const ContainerRecord& c, bool with_size) {
  Json labels = Json::object();
  for (const auto& [k, v] : c.labels) labels[k] = v;
  std::string mode = c.host_config.is_object() ? c.host_config.value("NetworkMode", "") : "";
  Json networks = Json::object();
  if (c.network_settings.is_object() && c.network_settings.contains("Networks") &&
      c.network_settings["Networks"].is_object())
    networks = c.network_settings["Networks"];
  Json j = {{"Id", c.id},
            {"Names", {"/" + c.name}},
            {"Image", c.image},
            {"ImageID", c.image_id},
            {"Command", command_text(c.config)},
            {"Created", engine::rfc3339_seconds(c.created)},
            {"Ports", port_list(c.network_settings)},
            {"Labels", std::move(labels)},
            {"State", c.state.status},
            {"Status", status_text(c.state)},
            {"HostConfig", {{"NetworkMode", mode.empty() ? "default" : mode}}},
            {"NetworkSettings", {{"Networks", std::move(networks)}}},
            {"Mounts", Json::array()}};
  if (with_size) {
    // No image layers yet, so nothing to measure: Docker's zero values.
    j["SizeRw"] = 0;
    j["SizeRootFs"] = 0;
  }
  return j;
}

Status add_container_list_routes(api::Router& router, const Context& ctx) {
  return router.add("GET", "/containers/json", [&ctx](api::Call& call) -> Result<api::Response> {
    auto j = list_json(ctx, call.req);
    if (!j) return std::unexpected(j.error());
    return api::Response::json(*j);
  });
}

}  // namespace silo::daemon
