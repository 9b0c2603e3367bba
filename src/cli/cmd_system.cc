// Observation and system commands: stats, events, version, info, system, volume.
#include <sys/utsname.h>

#include <chrono>
#include <iostream>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/gotemplate.h"

namespace silo::cli {
namespace {

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double num(const Json& j, std::initializer_list<const char*> path) {
  const Json* v = &j;
  for (const char* k : path) {
    if (!v->is_object() || !v->contains(k)) return 0;
    v = &(*v)[k];
  }
  return v->is_number() ? v->get<double>() : 0;
}

char pct_buf[32];
std::string pct(double v) {
  std::snprintf(pct_buf, sizeof pct_buf, "%.2f%%", v);
  return pct_buf;
}

// One stats row as docker's stats formatter computes it (cgroup v1 and v2 fields).
Json stats_row(const Json& s, const std::string& name_or_id) {
  double cpu_delta = num(s, {"cpu_stats", "cpu_usage", "total_usage"}) -
                     num(s, {"precpu_stats", "cpu_usage", "total_usage"});
  double sys_delta =
      num(s, {"cpu_stats", "system_cpu_usage"}) - num(s, {"precpu_stats", "system_cpu_usage"});
  double online = num(s, {"cpu_stats", "online_cpus"});
  if (online == 0 && s["cpu_stats"]["cpu_usage"].contains("percpu_usage"))
    online = static_cast<double>(s["cpu_stats"]["cpu_usage"]["percpu_usage"].size());
  if (online == 0) online = 1;
  double cpu = sys_delta > 0 && cpu_delta > 0 ? cpu_delta / sys_delta * online * 100.0 : 0;
  double usage = num(s, {"memory_stats", "usage"});
  // docker subtracts the page cache: total_inactive_file (v1) or inactive_file (v2).
  double cache = num(s, {"memory_stats", "stats", "total_inactive_file"});
  if (cache == 0) cache = num(s, {"memory_stats", "stats", "inactive_file"});
  if (cache < usage) usage -= cache;
  double limit = num(s, {"memory_stats", "limit"});
  double rx = 0, tx = 0;
  if (s.contains("networks") && s["networks"].is_object())
    for (const auto& [k, v] : s["networks"].items()) {
      rx += num(v, {"rx_bytes"});
      tx += num(v, {"tx_bytes"});
    }
  double rd = 0, wr = 0;
  auto blk = s.value("blkio_stats", Json::object());
  if (blk.contains("io_service_bytes_recursive") && blk["io_service_bytes_recursive"].is_array())
    for (const auto& e : blk["io_service_bytes_recursive"]) {
      std::string op = e.value("op", "");
      if (op == "Read" || op == "read") rd += num(e, {"value"});
      if (op == "Write" || op == "write") wr += num(e, {"value"});
    }
  std::string id = s.value("id", "");
  std::string name = s.value("name", "");
  if (name.starts_with("/")) name = name.substr(1);
  Json r = Json::object();
  r["Container"] = name_or_id;
  r["ID"] = id.substr(0, 12);
  r["Name"] = name.empty() ? "--" : name;
  r["CPUPerc"] = pct(cpu);
  r["MemUsage"] = bytes_size(usage) + " / " + bytes_size(limit);
  r["MemPerc"] = pct(limit > 0 ? usage / limit * 100.0 : 0);
  r["NetIO"] = human_size(rx) + " / " + human_size(tx);
  r["BlockIO"] = human_size(rd) + " / " + human_size(wr);
  r["PIDs"] = std::to_string(static_cast<int64_t>(num(s, {"pids_stats", "current"})));
  return r;
}

const Json& stats_headers() {
  static const Json h = {{"Container", "CONTAINER"},
                         {"ID", "CONTAINER ID"},
                         {"Name", "NAME"},
                         {"CPUPerc", "CPU %"},
                         {"MemUsage", "MEM USAGE / LIMIT"},
                         {"MemPerc", "MEM %"},
                         {"NetIO", "NET I/O"},
                         {"BlockIO", "BLOCK I/O"},
                         {"PIDs", "PIDS"}};
  return h;
}

constexpr const char* kStatsTable =
    "table "
    "{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{."
    "PIDs}}";

std::string event_time(const Json& e) {
  int64_t ns = e.value("timeNano", int64_t{0});
  if (ns == 0) ns = e.value("time", int64_t{0}) * 1000000000;
  time_t t = static_cast<time_t>(ns / 1000000000);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[64], frac[16], zone[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(ns % 1000000000));
  std::strftime(zone, sizeof zone, "%z", &tm);
  std::string z = zone;
  z = z == "+0000" ? "Z" : z.substr(0, 3) + ":" + z.substr(3);
  return std::string(buf) + frac + z;
}

// docker's default event line: time type action id (k=v, ...).
std::string event_line(const Json& e) {
  std::string actor = e["Actor"].value("ID", "");
  std::string attrs;
  if (e["Actor"].contains("Attributes") && e["Actor"]["Attributes"].is_object())
    for (const auto& [k, v] : e["Actor"]["Attributes"].items())
      attrs += (attrs.empty() ? "" : ", ") + k + "=" + go_print(v);
  return event_time(e) + " " + e.value("Type", "") + " " + e.value("Action", "") + " " + actor +
         (attrs.empty() ? "" : " (" + attrs + ")");
}

int volume_cmd(Client& c, const Args& a) {
  if (a.empty()) {
    std::cerr << "Usage:  silo volume COMMAND\n\nCommands:\n  create  ls  inspect  rm  prune\n";
    return 1;
  }
  std::string sub = a[0];
  Args rest(a.begin() + 1, a.end());
  if (sub == "create") {
    static const std::vector<FlagSpec> specs = {
        {"d,driver", true}, {"o,opt", true}, {"label", true}, {"name", true}};
    auto p = parse_or_usage("volume create", specs, rest);
    if (!p) return 125;
    Json body = {{"Driver", p->get("driver", "local")},
                 {"DriverOpts", Json::object()},
                 {"Labels", Json::object()}};
    std::string name = p->args.empty() ? p->get("name") : p->args[0];
    if (!name.empty()) body["Name"] = name;
    for (const auto& o : p->all("opt")) {
      auto eq = o.find('=');
      body["DriverOpts"][o.substr(0, eq)] = eq == std::string::npos ? "" : o.substr(eq + 1);
    }
    for (const auto& l : p->all("label")) {
      auto eq = l.find('=');
      body["Labels"][l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
    }
    auto r = c.call("POST", "/volumes/create", body);
    if (!r) return print_error(r.error());
    auto j = parse_json(r->body, "volume");
    if (!j) return print_error(j.error());
    std::cout << j->value("Name", "") << "\n";
    return 0;
  }
  if (sub == "ls" || sub == "list") {
    static const std::vector<FlagSpec> specs = {{"q,quiet"}, {"f,filter", true}, {"format", true}};
    auto p = parse_or_usage("volume ls", specs, rest);
    if (!p) return 125;
    auto r = c.call("GET", "/volumes" + query({{"filters", filters_json(p->all("filter"))}}));
    if (!r) return print_error(r.error());
    auto j = parse_json(r->body, "volume list");
    if (!j) return print_error(j.error());
    std::vector<Json> rows;
    for (const auto& v : j->value("Volumes", Json::array())) {
      Json row = v;
      row["Labels"] = "";
      if (v.contains("Labels") && v["Labels"].is_object())
        for (const auto& [k, val] : v["Labels"].items())
          row["Labels"] = row["Labels"].get<std::string>() +
                          (row["Labels"].get<std::string>().empty() ? "" : ",") + k + "=" +
                          go_print(val);
      row["Label"] = v.value("Labels", Json::object());
      rows.push_back(row);
    }
    std::string def = p->on("quiet") ? "{{.Name}}" : "table {{.Driver}}\t{{.Name}}";
    static const Json headers = {{"Name", "VOLUME NAME"},
                                 {"Driver", "DRIVER"},
                                 {"Scope", "SCOPE"},
                                 {"Mountpoint", "MOUNTPOINT"},
                                 {"Labels", "LABELS"}};
    auto s = render_rows(p->get("format"), def, rows, headers);
    if (!s) return print_error(s.error());
    std::cout << *s;
    return 0;
  }
  if (sub == "inspect") {
    auto p = parse_or_usage("volume inspect", {{"f,format", true}}, rest);
    if (!p) return 125;
    if (!need_args("volume inspect", *p, 1, "[OPTIONS] VOLUME [VOLUME...]")) return 1;
    Json all = Json::array();
    int rc = 0;
    for (const auto& n : p->args) {
      auto r = c.call("GET", "/volumes/" + url_encode(n));
      if (!r) {
        rc = print_error(r.error());
        continue;
      }
      auto j = parse_json(r->body, "volume");
      if (!j) return print_error(j.error());
      if (p->has("format")) {
        auto s = render_template(p->get("format"), *j);
        if (!s) return print_error(s.error());
        std::cout << *s << "\n";
      } else {
        all.push_back(*j);
      }
    }
    if (!p->has("format")) std::cout << all.dump(4) << "\n";
    return rc;
  }
  if (sub == "rm" || sub == "remove") {
    auto p = parse_or_usage("volume rm", {{"f,force"}}, rest);
    if (!p) return 125;
    if (!need_args("volume rm", *p, 1, "[OPTIONS] VOLUME [VOLUME...]")) return 1;
    std::string q = query({{"force", p->on("force") ? "1" : ""}});
    return for_each_container(p->args, [&](const std::string& n) -> Status {
      auto r = c.call("DELETE", "/volumes/" + url_encode(n) + q);
      if (!r) return std::unexpected(r.error());
      return {};
    });
  }
  if (sub == "prune") {
    auto p = parse_or_usage("volume prune", {{"f,force"}, {"a,all"}, {"filter", true}}, rest);
    if (!p) return 125;
    std::vector<std::string> filters = p->all("filter");
    // API 1.41 prunes named volumes too; the "all" filter exists only from 1.42 on.
    if (p->on("all") && c.prefix().value_or("/v1.41") > "/v1.41") filters.push_back("all=true");
    auto r = c.call("POST", "/volumes/prune" + query({{"filters", filters_json(filters)}}));
    if (!r) return print_error(r.error());
    auto j = parse_json(r->body, "prune report");
    if (!j) return print_error(j.error());
    auto deleted = j->value("VolumesDeleted", Json::array());
    if (deleted.is_array() && !deleted.empty()) {
      std::cout << "Deleted Volumes:\n";
      for (const auto& v : deleted) std::cout << v.get<std::string>() << "\n";
      std::cout << "\n";
    }
    std::cout << "Total reclaimed space: " << human_size(num(*j, {"SpaceReclaimed"})) << "\n";
    return 0;
  }
  std::cerr << "silo: 'volume " << sub << "' is not a silo command.\nSee 'silo volume --help'\n";
  return 1;
}

int system_df(Client& c, const Args& a) {
  auto p = parse_or_usage("system df", {{"v,verbose"}, {"format", true}}, a);
  if (!p) return 125;
  auto r = c.call("GET", "/system/df");
  if (!r) return print_error(r.error());
  auto j = parse_json(r->body, "disk usage");
  if (!j) return print_error(j.error());
  std::vector<Json> rows;
  auto add = [&](const std::string& type, const Json& items, const char* size_key,
                 bool active_by_refs) {
    int64_t total = items.is_array() ? static_cast<int64_t>(items.size()) : 0, active = 0;
    double size = 0, reclaim = 0;
    if (items.is_array())
      for (const auto& it : items) {
        double s = it.contains(size_key) ? num(it, {size_key}) : num(it, {"UsageData", "Size"});
        bool in_use = active_by_refs
                          ? (it.contains("UsageData") ? num(it, {"UsageData", "RefCount"}) > 0
                                                      : num(it, {"Containers"}) > 0)
                          : it.value("State", "") == "running";
        if (in_use)
          ++active;
        else
          reclaim += s;
        size += s;
      }
    char rec[64];
    std::snprintf(rec, sizeof rec, "%s (%d%%)", human_size(reclaim).c_str(),
                  size > 0 ? static_cast<int>(reclaim * 100 / size) : 0);
    rows.push_back({{"Type", type},
                    {"TotalCount", std::to_string(total)},
                    {"Active", std::to_string(active)},
                    {"Size", human_size(size)},
                    {"Reclaimable", rec}});
  };
  add("Images", j->value("Images", Json::array()), "Size", true);
  add("Containers", j->value("Containers", Json::array()), "SizeRw", false);
  add("Local Volumes", j->value("Volumes", Json::array()), "Size", true);
  add("Build Cache", j->value("BuildCache", Json::array()), "Size", true);
  static const Json headers = {{"Type", "TYPE"},
                               {"TotalCount", "TOTAL"},
                               {"Active", "ACTIVE"},
                               {"Size", "SIZE"},
                               {"Reclaimable", "RECLAIMABLE"}};
  auto s = render_rows(p->get("format"),
                       "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                       rows, headers);
  if (!s) return print_error(s.error());
  std::cout << *s;
  return 0;
}

int system_prune(Client& c, const Args& a) {
  auto p =
      parse_or_usage("system prune", {{"a,all"}, {"f,force"}, {"volumes"}, {"filter", true}}, a);
  if (!p) return 125;
  std::string f = filters_json(p->all("filter"));
  double reclaimed = 0;
  auto prune = [&](const std::string& path, const char* key, const char* title) -> Status {
    auto r = c.call("POST", path + query({{"filters", f}}));
    if (!r) return std::unexpected(r.error());
    auto j = parse_json(r->body, "prune report");
    if (!j) return std::unexpected(j.error());
    reclaimed += num(*j, {"SpaceReclaimed"});
    auto del = j->value(key, Json::array());
    if (del.is_array() && !del.empty()) {
      std::cout << title << ":\n";
      for (const auto& d : del) std::cout << go_print(d) << "\n";
      std::cout << "\n";
    }
    return {};
  };
  if (auto s = prune("/containers/prune", "ContainersDeleted", "Deleted Containers"); !s)
    return print_error(s.error());
  if (p->on("volumes"))
    if (auto s = prune("/volumes/prune", "VolumesDeleted", "Deleted Volumes"); !s)
      return print_error(s.error());
  auto images = prune_images(c, p->on("all"), p->all("filter"));
  if (!images) return print_error(images.error());
  reclaimed += *images;
  std::cout << "Total reclaimed space: " << human_size(reclaimed) << "\n";
  return 0;
}

}  // namespace

int cmd_stats(Client& c, const Args& a) {
  static const std::vector<FlagSpec> specs = {
      {"a,all"}, {"no-stream"}, {"no-trunc"}, {"format", true}};
  auto p = parse_or_usage("stats", specs, a);
  if (!p) return 125;
  std::vector<std::string> names = p->args;
  if (names.empty()) {
    auto r = c.call("GET", "/containers/json" + query({{"all", p->on("all") ? "1" : ""}}));
    if (!r) return print_error(r.error());
    auto j = parse_json(r->body, "container list");
    if (!j) return print_error(j.error());
    for (const auto& ctr : *j) names.push_back(ctr.value("Id", ""));
  }
  // One sample per container (also for a live view: each refresh redraws all rows).
  bool stream = !p->on("no-stream");
  do {
    std::vector<Json> rows;
    int rc = 0;
    for (const auto& n : names) {
      auto r =
          c.call("GET", "/containers/" + url_encode(n) + "/stats" + query({{"stream", "false"}}));
      if (!r) {
        rc = print_error(r.error());
        continue;
      }
      auto j = parse_json(r->body, "stats");
      if (!j) return print_error(j.error());
      rows.push_back(stats_row(*j, n));
    }
    auto s = render_rows(p->get("format"), kStatsTable, rows, stats_headers());
    if (!s) return print_error(s.error());
    if (stream) std::cout << "\x1b[2J\x1b[H";
    std::cout << *s << std::flush;
    if (!stream) return rc;
    sleep(1);
  } while (true);
}

int cmd_events(Client& c, const Args& a) {
  static const std::vector<FlagSpec> specs = {
      {"since", true}, {"until", true}, {"f,filter", true}, {"format", true}};
  auto p = parse_or_usage("events", specs, a);
  if (!p) return 125;
  auto since = api_time(p->get("since"), now_s());
  auto until = api_time(p->get("until"), now_s());
  if (!since) return print_error(since.error());
  if (!until) return print_error(until.error());
  std::optional<Template> tmpl;
  if (p->has("format")) {
    std::string f = p->get("format") == "json" ? "{{json .}}" : p->get("format");
    auto t = Template::parse(f);
    if (!t) return print_error(t.error());
    tmpl = *t;
  }
  std::string pending;
  Status err;
  auto s = c.stream("GET",
                    "/events" + query({{"since", *since},
                                       {"until", *until},
                                       {"filters", filters_json(p->all("filter"))}}),
                    std::nullopt, [&](std::string_view d) {
                      pending.append(d);
                      size_t nl;
                      while ((nl = pending.find('\n')) != std::string::npos) {
                        auto e = Json::parse(pending.substr(0, nl), nullptr, false);
                        pending.erase(0, nl + 1);
                        if (e.is_discarded() || !e.is_object()) continue;
                        if (!e.contains("Actor")) e["Actor"] = Json::object();
                        if (tmpl) {
                          auto line = tmpl->execute(e);
                          if (!line) {
                            err = std::unexpected(line.error());
                            return false;
                          }
                          std::cout << *line << "\n" << std::flush;
                        } else {
                          std::cout << event_line(e) << "\n" << std::flush;
                        }
                      }
                      return true;
                    });
  if (!s) return print_error(s.error());
  if (!err) return print_error(err.error());
  return 0;
}

int cmd_version(Client& c, const Args& a) {
  auto p = parse_or_usage("version", {{"f,format", true}}, a);
  if (!p) return 125;
  utsname u{};
  uname(&u);
  Json client = {{"Version", SILO_VERSION},
                 {"ApiVersion", std::string(kClientApiVersion)},
                 {"Os", "linux"},
                 {"Arch", u.machine}};
  auto r = c.call("GET", "/version");
  Json server;
  if (r) {
    auto j = parse_json(r->body, "version");
    if (j) server = *j;
  }
  Json all = {{"Client", client}, {"Server", server}};
  if (p->has("format")) {
    auto s = render_template(p->get("format"), all);
    if (!s) return print_error(s.error());
    std::cout << *s << "\n";
    return r ? 0 : print_error(r.error());
  }
  std::cout << "Client:\n Version:           " << SILO_VERSION
            << "\n API version:       " << kClientApiVersion << "\n OS/Arch:           linux/"
            << u.machine << "\n";
  if (!r) {
    std::cout << "\n";
    return print_error(r.error());
  }
  std::cout << "\nServer:\n Engine:\n  Version:          " << server.value("Version", "")
            << "\n  API version:      " << server.value("ApiVersion", "") << " (minimum version "
            << server.value("MinAPIVersion", "")
            << ")\n  Go version:       " << server.value("GoVersion", "")
            << "\n  Git commit:       " << server.value("GitCommit", "")
            << "\n  OS/Arch:          " << server.value("Os", "") << "/" << server.value("Arch", "")
            << "\n  Kernel version:   " << server.value("KernelVersion", "") << "\n";
  return 0;
}

int cmd_info(Client& c, const Args& a) {
  auto p = parse_or_usage("info", {{"f,format", true}}, a);
  if (!p) return 125;
  auto r = c.call("GET", "/info");
  if (!r) return print_error(r.error());
  auto j = parse_json(r->body, "info");
  if (!j) return print_error(j.error());
  if (p->has("format")) {
    auto s = render_template(p->get("format"), *j);
    if (!s) return print_error(s.error());
    std::cout << *s << "\n";
    return 0;
  }
  auto v = [&](const char* k) { return go_print(j->value(k, Json())); };
  std::cout << "Client:\n Version:    " << SILO_VERSION << "\n Context:    default\n\nServer:\n"
            << " Containers: " << v("Containers") << "\n  Running: " << v("ContainersRunning")
            << "\n  Paused: " << v("ContainersPaused") << "\n  Stopped: " << v("ContainersStopped")
            << "\n Images: " << v("Images") << "\n Server Version: " << v("ServerVersion")
            << "\n Storage Driver: " << v("Driver") << "\n Logging Driver: " << v("LoggingDriver")
            << "\n Cgroup Driver: " << v("CgroupDriver")
            << "\n Cgroup Version: " << v("CgroupVersion")
            << "\n Kernel Version: " << v("KernelVersion")
            << "\n Operating System: " << v("OperatingSystem") << "\n OSType: " << v("OSType")
            << "\n Architecture: " << v("Architecture") << "\n CPUs: " << v("NCPU")
            << "\n Total Memory: " << bytes_size(num(*j, {"MemTotal"})) << "\n Name: " << v("Name")
            << "\n ID: " << v("ID") << "\n Docker Root Dir: " << v("DockerRootDir") << "\n";
  return 0;
}

int cmd_system(Client& c, const Args& a) {
  if (a.empty()) {
    std::cerr << "Usage:  silo system COMMAND\n\nCommands:\n  df  events  info  prune\n";
    return 1;
  }
  Args rest(a.begin() + 1, a.end());
  if (a[0] == "df") return system_df(c, rest);
  if (a[0] == "info") return cmd_info(c, rest);
  if (a[0] == "events") return cmd_events(c, rest);
  if (a[0] == "prune") return system_prune(c, rest);
  std::cerr << "silo: 'system " << a[0] << "' is not a silo command.\nSee 'silo system --help'\n";
  return 1;
}

int cmd_volume(Client& c, const Args& a) {
  return volume_cmd(c, a);
}

}  // namespace silo::cli
