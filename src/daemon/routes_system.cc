// GET /info and GET /system/df, shaped as dockerd 20.10 returns them (types.Info,
// types.DiskUsage). Fields Silo has no notion of yet are sent as Docker's zero values:
// the docker CLI and SDKs read many of them without checking for absence.

#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "api/http.h"
#include "common/sys.h"
#include "daemon/daemon.h"

namespace silo::daemon {
namespace {

// One value of /etc/os-release (quotes removed), "" when absent.
std::string os_release(const std::string& text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == '=') {
      std::string_view v = line.substr(key.size() + 1);
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
        v = v.substr(1, v.size() - 2);
      return std::string(v);
    }
    pos = end + 1;
  }
  return "";
}

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

// As runtime::cgroup::detect(): a pure v2 host has cgroup.controllers at the root.
std::string cgroup_version() {
  return sys::path_exists("/sys/fs/cgroup/cgroup.controllers") ? "2" : "1";
}

// Read in the daemon's own network namespace, as dockerd does.
bool ip_forwarding() {
  auto v = sys::read_file("/proc/sys/net/ipv4/ip_forward");
  return v && v->starts_with("1");
}

int64_t mem_total() {
  struct sysinfo si = {};
  if (::sysinfo(&si) != 0) return 0;
  return static_cast<int64_t>(si.totalram) * si.mem_unit;
}

struct ContainerCounts {
  int64_t total = 0, running = 0, paused = 0, stopped = 0;
};

Result<ContainerCounts> count_containers(engine::Store& store) {
  auto list = store.list_containers();
  if (!list) return std::unexpected(list.error());
  ContainerCounts n;
  for (const auto& c : *list) {
    ++n.total;
    // As dockerd: a paused container is counted as paused, not running.
    if (c.state.status == "paused")
      ++n.paused;
    else if (c.state.status == "running" || c.state.status == "restarting")
      ++n.running;
    else
      ++n.stopped;
  }
  return n;
}

Json registry_config(const engine::DaemonConfig& cfg) {
  Json insecure = Json::array({"127.0.0.0/8"});
  for (const auto& r : cfg.insecure_registries) insecure.push_back(r);
  return {{"AllowNondistributableArtifactsCIDRs", Json::array()},
          {"AllowNondistributableArtifactsHostnames", Json::array()},
          {"InsecureRegistryCIDRs", insecure},
          {"IndexConfigs",
           {{"docker.io",
             {{"Name", "docker.io"},
              {"Mirrors", cfg.registry_mirrors},
              {"Secure", true},
              {"Official", true}}}}},
          {"Mirrors", cfg.registry_mirrors}};
}

Json commit(std::string_view id) {
  return {{"ID", id}, {"Expected", id}};
}

Result<Json> info_json(const Context& ctx) {
  auto n = count_containers(*ctx.store);
  if (!n) return std::unexpected(n.error());
  struct utsname u = {};
  ::uname(&u);
  auto rel = sys::read_file("/etc/os-release");
  std::string os = rel ? os_release(*rel, "PRETTY_NAME") : "";
  const auto& cfg = ctx.config;
  // "silo" in daemon.json is the short name of the one runtime, silo-runc.
  std::string default_runtime = cfg.default_runtime == "silo" ? "silo-runc" : cfg.default_runtime;
  return Json{
      {"ID", ctx.daemon_id},
      {"Containers", n->total},
      {"ContainersRunning", n->running},
      {"ContainersPaused", n->paused},
      {"ContainersStopped", n->stopped},
      {"Images", 0},
      {"Driver", cfg.storage_driver},
      {"DriverStatus", Json::array()},
      {"SystemStatus", nullptr},
      {"Plugins",
       {{"Volume", {"local"}},
        {"Network", Json::array()},
        {"Authorization", nullptr},
        {"Log", {"json-file", "local"}}}},
      {"MemoryLimit", true},
      {"SwapLimit", true},
      {"KernelMemory", false},
      {"KernelMemoryTCP", false},
      {"CpuCfsPeriod", true},
      {"CpuCfsQuota", true},
      {"CPUShares", true},
      {"CPUSet", true},
      {"PidsLimit", true},
      {"IPv4Forwarding", ip_forwarding()},
      {"BridgeNfIptables", false},
      {"BridgeNfIp6tables", false},
      {"Debug", cfg.log_level == "debug"},
      {"NFd", 0},
      {"OomKillDisable", false},
      {"NGoroutines", 0},
      {"SystemTime", engine::now_rfc3339()},
      {"LoggingDriver", cfg.log_driver},
      {"CgroupDriver", "cgroupfs"},
      {"CgroupVersion", cgroup_version()},
      {"NEventsListener", 0},
      {"KernelVersion", u.release},
      {"OperatingSystem", os.empty() ? "Linux" : os},
      {"OSVersion", rel ? os_release(*rel, "VERSION_ID") : ""},
      {"OSType", "linux"},
      {"Architecture", u.machine},
      {"IndexServerAddress", "https://index.docker.io/v1/"},
      {"RegistryConfig", registry_config(cfg)},
      {"NCPU", ::sysconf(_SC_NPROCESSORS_ONLN)},
      {"MemTotal", mem_total()},
      {"GenericResources", nullptr},
      {"DockerRootDir", cfg.root},
      {"HttpProxy", ""},
      {"HttpsProxy", ""},
      {"NoProxy", ""},
      {"Name", hostname()},
      {"Labels", Json::array()},
      {"ExperimentalBuild", false},
      {"ServerVersion", ctx.version.engine_version},
      {"Runtimes", {{"silo-runc", {{"path", ctx.runtime_path}}}}},
      {"DefaultRuntime", default_runtime},
      {"Swarm",
       {{"NodeID", ""},
        {"NodeAddr", ""},
        {"LocalNodeState", "inactive"},
        {"ControlAvailable", false},
        {"Error", ""},
        {"RemoteManagers", nullptr}}},
      {"LiveRestoreEnabled", cfg.live_restore},
      {"Isolation", ""},
      {"InitBinary", ""},
      {"ContainerdCommit", commit("")},
      {"RuncCommit", commit("")},
      {"InitCommit", commit("")},
      {"SecurityOptions", {"name=seccomp,profile=default"}},
      {"Warnings", nullptr},
  };
}

// Docker's volume usage: Size -1 means "not computed" (the CLI prints N/A).
Result<Json> volumes_with_usage(engine::Store& store) {
  auto vols = store.list_volumes();
  if (!vols) return std::unexpected(vols.error());
  Json out = Json::array();
  for (const auto& v : *vols) {
    auto users = store.volume_users(v.name);
    if (!users) return std::unexpected(users.error());
    Json j = volume_json(v);
    j["UsageData"] = {{"Size", -1}, {"RefCount", users->size()}};
    out.push_back(std::move(j));
  }
  return out;
}

Result<Json> disk_usage_json(const Context& ctx) {
  auto containers = ctx.store->list_containers();
  if (!containers) return std::unexpected(containers.error());
  Json list = Json::array();
  for (auto it = containers->rbegin(); it != containers->rend(); ++it)
    list.push_back(container_summary(*it, true));
  auto vols = volumes_with_usage(*ctx.store);
  if (!vols) return std::unexpected(vols.error());
  return Json{{"LayersSize", 0},
              {"Images", Json::array()},
              {"Containers", std::move(list)},
              {"Volumes", std::move(*vols)},
              {"BuildCache", Json::array()}};
}

}  // namespace

Status add_system_info_routes(api::Router& router, const Context& ctx) {
  SILO_TRY(router.add("GET", "/info", [&ctx](api::Call&) -> Result<api::Response> {
    auto j = info_json(ctx);
    if (!j) return wrap(j.error(), "info");
    return api::Response::json(*j);
  }));
  return router.add("GET", "/system/df", [&ctx](api::Call&) -> Result<api::Response> {
    auto j = disk_usage_json(ctx);
    if (!j) return wrap(j.error(), "system df");
    return api::Response::json(*j);
  });
}

}  // namespace silo::daemon
