// inspect_json: Docker's ContainerJSON for a stored container (GET /containers/{id}/json),
// with dockerd 20.10's field set and zero values.

#include <string>

#include "engine/container_config.h"
#include "engine/container_config_internal.h"
#include "engine/store.h"

namespace silo::engine {
namespace {

constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";

std::string dir_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? std::string() : p.substr(0, slash);
}

Json state_json(const ContainerState& s) {
  const std::string& st = s.status;
  return {
      {"Status", st},
      {"Running", st == "running" || st == "paused" || st == "restarting"},
      {"Paused", st == "paused"},
      {"Restarting", st == "restarting"},
      {"OOMKilled", s.oom_killed},
      {"Dead", st == "dead"},
      {"Pid", st == "running" || st == "paused" ? s.pid : 0},
      {"ExitCode", s.exit_code},
      {"Error", s.error},
      {"StartedAt", s.started_at.empty() ? kZeroTime : s.started_at},
      {"FinishedAt", s.finished_at.empty() ? kZeroTime : s.finished_at},
  };
}

std::vector<std::string> str_list(const Json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& e : j)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

// The Mounts array: binds, volumes and --mount entries (not --tmpfs), as dockerd lists
// its MountPoints.
Json mounts_json(const Json& hc, const std::string& volumes_dir) {
  Json out = Json::array();
  auto volume = [&](const std::string& name, const std::string& dest, bool rw,
                    const std::string& mode) {
    return Json{{"Type", "volume"},
                {"Name", name},
                {"Source", volumes_dir + "/" + name + "/_data"},
                {"Destination", dest},
                {"Driver", "local"},
                {"Mode", mode},
                {"RW", rw},
                {"Propagation", ""}};
  };
  for (const auto& raw : str_list(hc.value("Binds", Json(nullptr)))) {
    auto b = detail::parse_bind(raw);
    if (!b) continue;
    std::string mode;
    for (const auto& m : b->modes) mode += (mode.empty() ? "" : ",") + m;
    if (b->is_volume) {
      out.push_back(volume(b->source, b->destination, !b->read_only, mode.empty() ? "z" : mode));
    } else {
      out.push_back({{"Type", "bind"},
                     {"Source", b->source},
                     {"Destination", b->destination},
                     {"Mode", mode},
                     {"RW", !b->read_only},
                     {"Propagation", b->propagation.empty() ? "rprivate" : b->propagation}});
    }
  }
  const Json& mounts = hc.value("Mounts", Json(nullptr));
  if (mounts.is_array()) {
    for (const auto& m : mounts) {
      if (!m.is_object()) continue;
      std::string type = m.value("Type", ""), src = m.value("Source", ""),
                  dst = m.value("Target", "");
      bool rw = !m.value("ReadOnly", false);
      if (type == "volume") {
        out.push_back(volume(src, dst, rw, "z"));
      } else if (type == "tmpfs") {
        out.push_back({{"Type", "tmpfs"},
                       {"Source", ""},
                       {"Destination", dst},
                       {"Mode", ""},
                       {"RW", rw},
                       {"Propagation", ""}});
      } else {
        std::string prop = "rprivate";
        if (m.value("BindOptions", Json(nullptr)).is_object())
          prop = m["BindOptions"].value("Propagation", "rprivate");
        out.push_back({{"Type", "bind"},
                       {"Source", src},
                       {"Destination", dst},
                       {"Mode", ""},
                       {"RW", rw},
                       {"Propagation", prop.empty() ? "rprivate" : prop}});
      }
    }
  }
  return out;
}

Json network_settings(const ContainerRecord& rec) {
  Json ns = {
      {"Bridge", ""},
      {"SandboxID", ""},
      {"HairpinMode", false},
      {"LinkLocalIPv6Address", ""},
      {"LinkLocalIPv6PrefixLen", 0},
      {"Ports", Json::object()},
      {"SandboxKey", ""},
      {"SecondaryIPAddresses", nullptr},
      {"SecondaryIPv6Addresses", nullptr},
      {"EndpointID", ""},
      {"Gateway", ""},
      {"GlobalIPv6Address", ""},
      {"GlobalIPv6PrefixLen", 0},
      {"IPAddress", ""},
      {"IPPrefixLen", 0},
      {"IPv6Gateway", ""},
      {"MacAddress", ""},
      {"Networks", Json::object()},
  };
  // What the engine and the network service recorded wins over the zero values.
  if (rec.network_settings.is_object())
    for (const auto& [k, v] : rec.network_settings.items()) ns[k] = v;
  return ns;
}

}  // namespace

Json inspect_json(const ContainerRecord& rec, const std::string& log_path,
                  const std::string& rootfs) {
  std::vector<std::string> args = str_list(rec.config.value("Entrypoint", Json(nullptr)));
  for (auto& a : str_list(rec.config.value("Cmd", Json(nullptr)))) args.push_back(a);
  std::string path = args.empty() ? "" : args.front();
  if (!args.empty()) args.erase(args.begin());

  std::string dir = dir_of(log_path);
  std::string root = dir_of(dir_of(dir));  // <root>/containers/<id>/x.log -> <root>
  // dockerd writes resolv.conf, hostname and hosts and opens the log at the first start.
  bool never_started = rec.state.started_at.empty();
  Json hc = rec.host_config;
  Json config = rec.config;
  // dockerd fills in the default hostname at create: the short id.
  if (config.is_object() && config.value("Hostname", Json("")) == "" &&
      hc.value("NetworkMode", Json("")) != "host")
    config["Hostname"] = rec.id.substr(0, 12);
  auto file = [&](const char* name) {
    return dir.empty() || never_started ? "" : dir + "/" + name;
  };
  Json j = {
      {"Id", rec.id},
      {"Created", rec.created},
      {"Path", path},
      {"Args", args},
      {"State", state_json(rec.state)},
      {"Image", rec.image_id},
      {"ResolvConfPath", file("resolv.conf")},
      {"HostnamePath", file("hostname")},
      {"HostsPath", file("hosts")},
      {"LogPath", never_started ? "" : log_path},
      {"Name", "/" + rec.name},
      {"RestartCount", rec.state.restart_count},
      {"Driver", "overlay2"},
      {"Platform", "linux"},
      {"MountLabel", ""},
      {"ProcessLabel", ""},
      {"AppArmorProfile", ""},
      {"ExecIDs", nullptr},
      {"HostConfig", hc},
      {"GraphDriver",
       {{"Data",
         {{"LowerDir", rec.shim.is_object() ? rec.shim.value("lower_dir", "") : ""},
          {"MergedDir", rootfs},
          {"UpperDir", dir.empty() ? "" : dir + "/upper"},
          {"WorkDir", dir.empty() ? "" : dir + "/work"}}},
        {"Name", "overlay2"}}},
      {"Mounts", mounts_json(hc, root.empty() ? "" : root + "/volumes")},
      {"Config", config},
      {"NetworkSettings", network_settings(rec)},
  };
  if (rec.shim.is_object() && rec.shim.contains("exec_ids") && rec.shim["exec_ids"].is_array() &&
      !rec.shim["exec_ids"].empty())
    j["ExecIDs"] = rec.shim["exec_ids"];
  return j;
}

}  // namespace silo::engine
