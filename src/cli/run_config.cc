#include "cli/run_config.h"

#include <cstdlib>
#include <fstream>

#include "engine/units.h"

namespace silo::cli {
namespace {

Error bad_flag(const std::string& value, const std::string& flag, const std::string& why) {
  return Error{0, Code::Invalid,
               "invalid argument \"" + value + "\" for \"" + flag + "\" flag: " + why};
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// "8000-8001" -> {8000, 8001}; "80" -> {80, 80}.
Result<std::pair<int, int>> port_range(const std::string& s) {
  auto dash = s.find('-');
  std::string a = s.substr(0, dash), b = dash == std::string::npos ? a : s.substr(dash + 1);
  if (!all_digits(a) || !all_digits(b)) return fail(Code::Invalid, "invalid port " + s);
  int lo = std::atoi(a.c_str()), hi = std::atoi(b.c_str());
  if (lo < 0 || hi > 65535 || lo > hi) return fail(Code::Invalid, "invalid port range " + s);
  return std::pair{lo, hi};
}

Status add_mount(const std::string& v, Json& mounts) {
  Json m = Json::object();
  for (const auto& field : split(v, ',')) {
    auto eq = field.find('=');
    std::string k = field.substr(0, eq), val = eq == std::string::npos ? "" : field.substr(eq + 1);
    if (k == "type")
      m["Type"] = val;
    else if (k == "source" || k == "src")
      m["Source"] = val;
    else if (k == "target" || k == "destination" || k == "dst")
      m["Target"] = val;
    else if (k == "readonly" || k == "ro")
      m["ReadOnly"] = (eq == std::string::npos || val == "true" || val == "1");
    else if (k == "bind-propagation")
      m["BindOptions"]["Propagation"] = val;
    else if (k == "volume-nocopy")
      m["VolumeOptions"]["NoCopy"] = true;
    else if (k == "tmpfs-size") {
      auto n = engine::ram_in_bytes(val);
      if (!n) return std::unexpected(bad_flag(v, "--mount", n.error().message));
      m["TmpfsOptions"]["SizeBytes"] = *n;
    } else if (k == "tmpfs-mode")
      m["TmpfsOptions"]["Mode"] = std::strtol(val.c_str(), nullptr, 8);
    else
      return std::unexpected(
          bad_flag(v, "--mount", "unexpected key '" + k + "' in '" + field + "'"));
  }
  if (!m.contains("Type")) m["Type"] = "volume";
  if (!m.contains("Target")) return std::unexpected(bad_flag(v, "--mount", "target is required"));
  mounts.push_back(m);
  return {};
}

Status add_ulimit(const std::string& v, Json& ulimits) {
  auto eq = v.find('=');
  if (eq == std::string::npos)
    return std::unexpected(bad_flag(v, "--ulimit", "invalid ulimit argument: " + v));
  std::string name = v.substr(0, eq), lim = v.substr(eq + 1);
  auto colon = lim.find(':');
  std::string soft = lim.substr(0, colon),
              hard = colon == std::string::npos ? soft : lim.substr(colon + 1);
  char* e1 = nullptr;
  char* e2 = nullptr;
  long long s = std::strtoll(soft.c_str(), &e1, 10), h = std::strtoll(hard.c_str(), &e2, 10);
  if (soft.empty() || *e1 || hard.empty() || *e2)
    return std::unexpected(bad_flag(v, "--ulimit", "invalid ulimit argument: " + v));
  if (s > h)
    return std::unexpected(bad_flag(
        v, "--ulimit",
        "ulimit soft limit must be less than or equal to hard limit: " + soft + " > " + hard));
  ulimits.push_back({{"Name", name}, {"Soft", s}, {"Hard", h}});
  return {};
}

Status set_restart(const std::string& v, Json& host) {
  auto colon = v.find(':');
  std::string name = v.substr(0, colon);
  int retries = 0;
  if (colon != std::string::npos) {
    std::string n = v.substr(colon + 1);
    if (!all_digits(n))
      return std::unexpected(bad_flag(v, "--restart", "maximum retry count must be an integer"));
    retries = std::atoi(n.c_str());
  }
  if (name != "no" && name != "always" && name != "on-failure" && name != "unless-stopped")
    return std::unexpected(bad_flag(v, "--restart", "invalid restart policy " + name));
  host["RestartPolicy"] = {{"Name", name}, {"MaximumRetryCount", retries}};
  return {};
}

}  // namespace

const std::vector<FlagSpec>& run_flag_specs() {
  static const std::vector<FlagSpec> specs = {{"d,detach"},
                                              {"i,interactive"},
                                              {"t,tty"},
                                              {"rm"},
                                              {"name", true},
                                              {"e,env", true},
                                              {"env-file", true},
                                              {"v,volume", true},
                                              {"mount", true},
                                              {"p,publish", true},
                                              {"P,publish-all"},
                                              {"expose", true},
                                              {"network,net", true},
                                              {"w,workdir", true},
                                              {"u,user", true},
                                              {"h,hostname", true},
                                              {"l,label", true},
                                              {"entrypoint", true},
                                              {"m,memory", true},
                                              {"memory-swap", true},
                                              {"cpus", true},
                                              {"c,cpu-shares", true},
                                              {"cpuset-cpus", true},
                                              {"pids-limit", true},
                                              {"ulimit", true},
                                              {"cap-add", true},
                                              {"cap-drop", true},
                                              {"privileged"},
                                              {"read-only"},
                                              {"tmpfs", true},
                                              {"restart", true},
                                              {"init"},
                                              {"stop-signal", true},
                                              {"stop-timeout", true},
                                              {"log-driver", true},
                                              {"log-opt", true},
                                              {"a,attach", true},
                                              {"detach-keys", true},
                                              {"sig-proxy"},
                                              {"pull", true},
                                              {"platform", true},
                                              {"dns", true},
                                              {"add-host", true},
                                              {"shm-size", true},
                                              {"security-opt", true},
                                              {"ip", true},
                                              {"ip6", true},
                                              {"network-alias,net-alias", true},
                                              {"mac-address", true},
                                              {"dns-search", true},
                                              {"dns-option,dns-opt", true},
                                              {"link", true},
                                              {"domainname", true},
                                              {"q,quiet"}};
  return specs;
}

Result<std::vector<PortSpec>> parse_publish(const std::string& value) {
  std::string v = value, proto = "tcp";
  if (auto slash = v.rfind('/'); slash != std::string::npos) {
    proto = v.substr(slash + 1);
    v = v.substr(0, slash);
  }
  std::string ip, host, ctr;
  auto parts = split(v, ':');
  if (v.starts_with("[")) {  // [::1]:8080:80
    auto close = v.find(']');
    ip = v.substr(1, close - 1);
    parts = split(v.substr(close + 2), ':');
    parts.insert(parts.begin(), ip);
  }
  if (parts.size() == 1) {
    ctr = parts[0];
  } else if (parts.size() == 2) {
    host = parts[0], ctr = parts[1];
  } else if (parts.size() == 3) {
    ip = parts[0], host = parts[1], ctr = parts[2];
  } else {
    return std::unexpected(bad_flag(value, "-p, --publish", "invalid proto: " + value));
  }
  if (proto != "tcp" && proto != "udp" && proto != "sctp")
    return std::unexpected(bad_flag(value, "-p, --publish", "invalid proto: " + proto));
  auto cr = port_range(ctr);
  if (!cr)
    return std::unexpected(bad_flag(value, "-p, --publish", "invalid containerPort: " + ctr));
  std::pair<int, int> hr{0, -1};
  if (!host.empty()) {
    auto r = port_range(host);
    if (!r) return std::unexpected(bad_flag(value, "-p, --publish", "invalid hostPort: " + host));
    hr = *r;
  }
  int n = cr->second - cr->first;
  if (!host.empty() && hr.second - hr.first != n && hr.first != hr.second)
    return std::unexpected(bad_flag(value, "-p, --publish", "port ranges don't match in size"));
  std::vector<PortSpec> out;
  for (int k = 0; k <= n; ++k) {
    PortSpec s;
    s.container_port = std::to_string(cr->first + k) + "/" + proto;
    s.host_ip = ip;
    if (!host.empty()) {
      s.host_port = hr.first == hr.second && n > 0 && hr.second - hr.first != n
                        ? std::to_string(hr.first)
                        : std::to_string(hr.first + k);
    }
    out.push_back(s);
  }
  return out;
}

Result<std::vector<std::string>> read_env_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return fail(Code::NotFound, "open " + path + ": no such file or directory");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    size_t s = line.find_first_not_of(" \t");
    if (s == std::string::npos || line[s] == '#') continue;
    line = line.substr(s);
    if (line.find('=') == std::string::npos) {
      if (const char* e = std::getenv(line.c_str())) out.push_back(line + "=" + e);
      continue;
    }
    out.push_back(line);
  }
  return out;
}

Result<CreatePlan> build_create(const Parsed& p) {
  CreatePlan plan;
  if (p.args.empty()) return fail(Code::Invalid, "\"run\" requires at least 1 argument.");
  plan.image = p.args[0];
  plan.name = p.get("name");
  plan.detach = p.on("detach");
  plan.tty = p.on("tty");
  plan.interactive = p.on("interactive");
  plan.auto_remove = p.on("rm");
  plan.attach = p.all("attach");
  plan.detach_keys = p.get("detach-keys");
  if (plan.detach && !plan.attach.empty())
    return fail(Code::Invalid, "Conflicting options: -a and -d");

  Json cfg = Json::object(), host = Json::object();
  cfg["Image"] = plan.image;
  cfg["Tty"] = plan.tty;
  cfg["OpenStdin"] = plan.interactive;
  bool want_in = plan.interactive, want_out = true, want_err = true;
  if (!plan.attach.empty()) {
    want_in = want_out = want_err = false;
    for (const auto& a : plan.attach) {
      if (a == "stdin" || a == "STDIN")
        want_in = true;
      else if (a == "stdout" || a == "STDOUT")
        want_out = true;
      else if (a == "stderr" || a == "STDERR")
        want_err = true;
      else
        return std::unexpected(
            bad_flag(a, "-a, --attach", "valid streams are STDIN, STDOUT and STDERR"));
    }
  }
  cfg["AttachStdin"] = !plan.detach && want_in;
  cfg["AttachStdout"] = !plan.detach && want_out;
  cfg["AttachStderr"] = !plan.detach && want_err;
  cfg["StdinOnce"] = !plan.detach && want_in;
  if (p.args.size() > 1) cfg["Cmd"] = std::vector<std::string>(p.args.begin() + 1, p.args.end());
  if (p.has("entrypoint")) cfg["Entrypoint"] = std::vector<std::string>{p.get("entrypoint")};
  if (p.has("hostname")) cfg["Hostname"] = p.get("hostname");
  if (p.has("domainname")) cfg["Domainname"] = p.get("domainname");
  if (p.has("mac-address")) cfg["MacAddress"] = p.get("mac-address");
  if (p.has("user")) cfg["User"] = p.get("user");
  if (p.has("workdir")) cfg["WorkingDir"] = p.get("workdir");
  if (p.has("stop-signal")) cfg["StopSignal"] = p.get("stop-signal");
  if (p.has("stop-timeout")) {
    std::string v = p.get("stop-timeout");
    char* end = nullptr;
    long t = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end)
      return std::unexpected(
          bad_flag(v, "--stop-timeout", "strconv.ParseInt: parsing \"" + v + "\": invalid syntax"));
    cfg["StopTimeout"] = t;
  }

  std::vector<std::string> env;
  for (const auto& f : p.all("env-file")) {
    auto e = read_env_file(f);
    if (!e) return std::unexpected(e.error());
    env.insert(env.end(), e->begin(), e->end());
  }
  for (const auto& e : p.all("env")) {
    if (e.find('=') == std::string::npos) {  // -e NAME takes NAME from our environment
      if (const char* v = std::getenv(e.c_str())) env.push_back(e + "=" + v);
      continue;
    }
    env.push_back(e);
  }
  if (!env.empty()) cfg["Env"] = env;

  Json labels = Json::object();
  for (const auto& l : p.all("label")) {
    auto eq = l.find('=');
    labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  if (!labels.empty()) cfg["Labels"] = labels;

  Json binds = Json::array(), volumes = Json::object();
  for (const auto& v : p.all("volume")) {
    if (v.find(':') == std::string::npos) {
      volumes[v] = Json::object();  // an anonymous volume
    } else {
      auto parts = split(v, ':');
      if (parts.size() > 3 || parts[0].empty() || parts[1].empty())
        return std::unexpected(
            bad_flag(v, "-v, --volume", "invalid volume specification: '" + v + "'"));
      binds.push_back(v);
    }
  }
  if (!binds.empty()) host["Binds"] = binds;
  if (!volumes.empty()) cfg["Volumes"] = volumes;
  Json mounts = Json::array();
  for (const auto& m : p.all("mount")) SILO_TRY(add_mount(m, mounts));
  if (!mounts.empty()) host["Mounts"] = mounts;

  Json exposed = Json::object(), bindings = Json::object();
  for (const auto& e : p.all("expose")) {
    std::string port = e.find('/') == std::string::npos ? e + "/tcp" : e;
    exposed[port] = Json::object();
  }
  for (const auto& v : p.all("publish")) {
    auto specs = parse_publish(v);
    if (!specs) return std::unexpected(specs.error());
    for (const auto& s : *specs) {
      exposed[s.container_port] = Json::object();
      bindings[s.container_port].push_back({{"HostIp", s.host_ip}, {"HostPort", s.host_port}});
    }
  }
  if (!exposed.empty()) cfg["ExposedPorts"] = exposed;
  if (!bindings.empty()) host["PortBindings"] = bindings;
  if (p.on("publish-all")) host["PublishAllPorts"] = true;

  host["NetworkMode"] = p.get("network", "default");
  if (p.has("memory")) {
    auto n = engine::ram_in_bytes(p.get("memory"));
    if (!n) return std::unexpected(bad_flag(p.get("memory"), "-m, --memory", n.error().message));
    host["Memory"] = *n;
  }
  if (p.has("memory-swap")) {
    std::string v = p.get("memory-swap");
    if (v == "-1") {
      host["MemorySwap"] = -1;
    } else {
      auto n = engine::ram_in_bytes(v);
      if (!n) return std::unexpected(bad_flag(v, "--memory-swap", n.error().message));
      host["MemorySwap"] = *n;
    }
  }
  if (p.has("cpus")) {
    auto n = engine::parse_nano_cpus(p.get("cpus"));
    if (!n) return std::unexpected(bad_flag(p.get("cpus"), "--cpus", n.error().message));
    host["NanoCpus"] = *n;
  }
  auto int_flag = [&](const std::string& flag, const std::string& shown,
                      const char* field) -> Status {
    if (!p.has(flag)) return {};
    std::string v = p.get(flag);
    char* end = nullptr;
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end)
      return std::unexpected(
          bad_flag(v, shown, "strconv.ParseInt: parsing \"" + v + "\": invalid syntax"));
    host[field] = n;
    return {};
  };
  SILO_TRY(int_flag("cpu-shares", "-c, --cpu-shares", "CpuShares"));
  SILO_TRY(int_flag("pids-limit", "--pids-limit", "PidsLimit"));
  if (p.has("cpuset-cpus")) host["CpusetCpus"] = p.get("cpuset-cpus");
  if (p.has("shm-size")) {
    auto n = engine::ram_in_bytes(p.get("shm-size"));
    if (!n) return std::unexpected(bad_flag(p.get("shm-size"), "--shm-size", n.error().message));
    host["ShmSize"] = *n;
  }
  Json ulimits = Json::array();
  for (const auto& u : p.all("ulimit")) SILO_TRY(add_ulimit(u, ulimits));
  if (!ulimits.empty()) host["Ulimits"] = ulimits;
  if (p.has("cap-add")) host["CapAdd"] = p.all("cap-add");
  if (p.has("cap-drop")) host["CapDrop"] = p.all("cap-drop");
  if (p.has("dns")) host["Dns"] = p.all("dns");
  if (p.has("dns-search")) host["DnsSearch"] = p.all("dns-search");
  if (p.has("dns-option")) host["DnsOptions"] = p.all("dns-option");
  if (p.has("link")) host["Links"] = p.all("link");
  if (p.has("add-host")) host["ExtraHosts"] = p.all("add-host");
  if (p.has("security-opt")) host["SecurityOpt"] = p.all("security-opt");
  host["Privileged"] = p.on("privileged");
  host["ReadonlyRootfs"] = p.on("read-only");
  if (p.has("init")) host["Init"] = p.on("init");
  host["AutoRemove"] = plan.auto_remove;
  Json tmpfs = Json::object();
  for (const auto& t : p.all("tmpfs")) {
    auto colon = t.find(':');
    tmpfs[t.substr(0, colon)] = colon == std::string::npos ? "" : t.substr(colon + 1);
  }
  if (!tmpfs.empty()) host["Tmpfs"] = tmpfs;
  if (p.has("restart")) SILO_TRY(set_restart(p.get("restart"), host));
  if (plan.auto_remove && host.contains("RestartPolicy") && host["RestartPolicy"]["Name"] != "no")
    return fail(Code::Invalid, "Conflicting options: --restart and --rm");
  if (p.has("log-driver") || p.has("log-opt")) {
    Json opts = Json::object();
    for (const auto& o : p.all("log-opt")) {
      auto eq = o.find('=');
      if (eq == std::string::npos)
        return std::unexpected(
            bad_flag(o, "--log-opt", "invalid key value pair format in logging opts"));
      opts[o.substr(0, eq)] = o.substr(eq + 1);
    }
    host["LogConfig"] = {{"Type", p.get("log-driver")}, {"Config", opts}};
  }
  Json body = cfg;
  body["HostConfig"] = host;
  Json endpoints = Json::object();
  std::string net = p.get("network");
  // As the docker CLI: the endpoint settings go under the --network value; --ip and
  // --network-alias on the default network are the daemon's to refuse.
  if (net.empty() || net == "default") net = "default";
  if (net != "none" && net != "host" && !net.starts_with("container:")) {
    Json ep = Json::object();
    if (p.has("ip") || p.has("ip6")) {
      ep["IPAMConfig"] = Json::object();
      if (p.has("ip")) ep["IPAMConfig"]["IPv4Address"] = p.get("ip");
      if (p.has("ip6")) ep["IPAMConfig"]["IPv6Address"] = p.get("ip6");
    }
    if (p.has("network-alias")) ep["Aliases"] = p.all("network-alias");
    if (p.has("link") && net != "default" && net != "bridge") ep["Links"] = p.all("link");
    if (!ep.empty() || net != "default") endpoints[net] = ep;
  }
  body["NetworkingConfig"] = {{"EndpointsConfig", endpoints}};
  plan.body = body;
  return plan;
}

}  // namespace silo::cli
