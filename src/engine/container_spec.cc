// build_oci_spec: a validated create request to the OCI runtime spec (config.json), laid
// out as dockerd's daemon/oci_linux.go lays it out for runc.

#include <unistd.h>

#include <algorithm>
#include <set>

#include "engine/container_config.h"
#include "engine/container_config_internal.h"
#include "runtime/caps.h"
#include "runtime/seccomp.h"

namespace silo::engine {
namespace detail {

// Docker's default mounts, user mounts (binds, volumes, tmpfs) and the init bind.
[[nodiscard]] Result<Json> build_mounts(const CreateRequest& req, const SpecPaths& paths);

}  // namespace detail

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::vector<std::string> str_list(const Json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& e : j)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

std::string str_or(const Json& obj, const char* key, const std::string& def = "") {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : def;
}

int64_t int_or(const Json& obj, const char* key, int64_t def = 0) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number() ? it->get<int64_t>() : def;
}

bool bool_or(const Json& obj, const char* key, bool def = false) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() ? it->get<bool>() : def;
}

// caps.TweakCapabilities: defaults + adds - drops, with "ALL" on either side.
Result<std::vector<std::string>> container_caps(const Json& hc) {
  if (bool_or(hc, "Privileged")) {
    std::vector<std::string> all;
    for (int c = 0; c <= runtime::last_cap(); ++c) all.push_back(runtime::capability_name(c));
    return all;
  }
  auto add = detail::normalise_caps(hc.value("CapAdd", Json(nullptr)));
  if (!add) return wrap(add.error(), "invalid CapAdd");
  auto drop = detail::normalise_caps(hc.value("CapDrop", Json(nullptr)));
  if (!drop) return wrap(drop.error(), "invalid CapDrop");
  auto has_all = [](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), "ALL") != v.end();
  };
  std::vector<std::string> base;
  if (has_all(*add)) {
    for (int c = 0; c <= runtime::last_cap(); ++c) base.push_back(runtime::capability_name(c));
  } else if (!has_all(*drop)) {
    base = runtime::default_capabilities();
    for (auto& c : base)
      if (!c.starts_with("CAP_")) c = "CAP_" + c;
  }
  for (const auto& c : *add)
    if (c != "ALL" && std::find(base.begin(), base.end(), c) == base.end()) base.push_back(c);
  std::vector<std::string> out;
  for (const auto& c : base) {
    bool dropped = std::find(drop->begin(), drop->end(), c) != drop->end() &&
                   std::find(add->begin(), add->end(), c) == add->end();
    if (!dropped) out.push_back(c);
  }
  return out;
}

// CreateDaemonEnvironment + ReplaceOrAppendEnvValues.
Json container_env(const Json& config, const std::string& hostname) {
  std::vector<std::string> env = {std::string("PATH=") + kDefaultPath, "HOSTNAME=" + hostname};
  if (bool_or(config, "Tty")) env.push_back("TERM=xterm");
  for (const auto& kv : str_list(config.value("Env", Json(nullptr)))) {
    std::string key = kv.substr(0, kv.find('='));
    auto it = std::find_if(env.begin(), env.end(),
                           [&](const std::string& e) { return e.substr(0, e.find('=')) == key; });
    if (it != env.end())
      *it = kv;
    else
      env.push_back(kv);
  }
  return env;
}

Json seccomp_json(const runtime::Seccomp& s) {
  Json j = {{"defaultAction", s.default_action}, {"architectures", s.architectures}};
  if (s.default_errno_ret) j["defaultErrnoRet"] = *s.default_errno_ret;
  if (!s.flags.empty()) j["flags"] = s.flags;
  Json calls = Json::array();
  for (const auto& r : s.syscalls) {
    Json c = {{"names", r.names}, {"action", r.action}};
    if (r.errno_ret) c["errnoRet"] = *r.errno_ret;
    if (!r.args.empty()) {
      Json args = Json::array();
      for (const auto& a : r.args)
        args.push_back(
            {{"index", a.index}, {"value", a.value}, {"valueTwo", a.value_two}, {"op", a.op}});
      c["args"] = args;
    }
    calls.push_back(c);
  }
  j["syscalls"] = calls;
  return j;
}

bool security_opt(const Json& hc, const std::string& name) {
  for (const auto& o : str_list(hc.value("SecurityOpt", Json(nullptr))))
    if (o == name) return true;
  return false;
}

Json rlimits(const Json& hc) {
  Json out = Json::array();
  const Json& ul = hc.value("Ulimits", Json(nullptr));
  if (!ul.is_array()) return out;
  for (const auto& u : ul) {
    std::string name = str_or(u, "Name");
    std::transform(name.begin(), name.end(), name.begin(), ::toupper);
    out.push_back({{"type", "RLIMIT_" + name},
                   {"soft", uint64_t(int_or(u, "Soft"))},
                   {"hard", uint64_t(int_or(u, "Hard"))}});
  }
  return out;
}

Json namespaces(const Json& hc, const SpecPaths& paths) {
  Json ns = Json::array();
  if (str_or(hc, "PidMode") != "host") ns.push_back({{"type", "pid"}});
  if (str_or(hc, "IpcMode") != "host") ns.push_back({{"type", "ipc"}});
  if (str_or(hc, "UTSMode") != "host") ns.push_back({{"type", "uts"}});
  ns.push_back({{"type", "mount"}});
  if (str_or(hc, "NetworkMode") != "host") {
    Json n = {{"type", "network"}};
    if (!paths.netns.empty()) n["path"] = paths.netns;
    ns.push_back(n);
  }
  if (str_or(hc, "CgroupnsMode") == "private") ns.push_back({{"type", "cgroup"}});
  return ns;
}

// Docker's default device cgroup rules (oci.DefaultLinuxSpec); the runtime adds its own
// default nodes and ptys on top.
Json device_rules(bool privileged) {
  if (privileged) return Json::array({{{"allow", true}, {"access", "rwm"}}});
  Json r = Json::array({{{"allow", false}, {"access", "rwm"}}});
  auto rule = [&](const char* type, std::optional<int> major, std::optional<int> minor,
                  const char* access) {
    Json j = {{"allow", true}, {"type", type}, {"access", access}};
    if (major) j["major"] = *major;
    if (minor) j["minor"] = *minor;
    r.push_back(j);
  };
  rule("c", std::nullopt, std::nullopt, "m");
  rule("b", std::nullopt, std::nullopt, "m");
  rule("c", 1, 3, "rwm");
  rule("c", 1, 8, "rwm");
  rule("c", 1, 7, "rwm");
  rule("c", 5, 0, "rwm");
  rule("c", 1, 5, "rwm");
  rule("c", 1, 9, "rwm");
  rule("c", 5, 1, "rwm");
  rule("c", 136, std::nullopt, "rwm");
  rule("c", 5, 2, "rwm");
  rule("c", 10, 200, "rwm");
  return r;
}

Json resources(const Json& hc) {
  Json r = {{"devices", device_rules(bool_or(hc, "Privileged"))}};
  Json mem = Json::object();
  if (int64_t m = int_or(hc, "Memory"); m > 0) mem["limit"] = m;
  if (int64_t m = int_or(hc, "MemoryReservation"); m > 0) mem["reservation"] = m;
  if (int64_t m = int_or(hc, "MemorySwap"); m != 0 && int_or(hc, "Memory") > 0) mem["swap"] = m;
  if (int64_t m = int_or(hc, "KernelMemory"); m > 0) mem["kernel"] = m;
  if (hc.value("MemorySwappiness", Json(nullptr)).is_number()) {
    int64_t s = hc["MemorySwappiness"].get<int64_t>();
    if (s >= 0) mem["swappiness"] = s;
  }
  if (bool_or(hc, "OomKillDisable")) mem["disableOOMKiller"] = true;
  if (!mem.empty()) r["memory"] = mem;
  Json cpu = Json::object();
  if (int64_t s = int_or(hc, "CpuShares"); s > 0) cpu["shares"] = s;
  if (int64_t nano = int_or(hc, "NanoCpus"); nano > 0) {
    cpu["period"] = 100000;
    cpu["quota"] = nano * 100000 / 1000000000;
  } else {
    if (int64_t p = int_or(hc, "CpuPeriod"); p > 0) cpu["period"] = p;
    if (int64_t q = int_or(hc, "CpuQuota"); q != 0) cpu["quota"] = q;
  }
  if (auto s = str_or(hc, "CpusetCpus"); !s.empty()) cpu["cpus"] = s;
  if (auto s = str_or(hc, "CpusetMems"); !s.empty()) cpu["mems"] = s;
  if (!cpu.empty()) r["cpu"] = cpu;
  if (int64_t p = int_or(hc, "PidsLimit"); p > 0) r["pids"] = {{"limit", p}};
  return r;
}

std::string spec_hostname(const Json& config, const Json& hc, const std::string& id,
                          const SpecPaths& paths) {
  if (!paths.hostname.empty()) return paths.hostname;
  if (auto h = str_or(config, "Hostname"); !h.empty()) return h;
  if (str_or(hc, "NetworkMode") == "host") {
    char buf[256] = {};
    if (::gethostname(buf, sizeof(buf) - 1) == 0) return buf;
  }
  return id.substr(0, 12);
}

}  // namespace

Result<Json> build_oci_spec(const CreateRequest& req, const std::string& id,
                            const SpecPaths& paths) {
  const Json& c = req.config;
  const Json& hc = req.host_config;
  bool privileged = bool_or(hc, "Privileged");
  std::string hostname = spec_hostname(c, hc, id, paths);

  std::vector<std::string> args = str_list(c.value("Entrypoint", Json(nullptr)));
  for (auto& a : str_list(c.value("Cmd", Json(nullptr)))) args.push_back(a);
  if (args.empty()) return fail(Code::Invalid, "No command specified");
  if (hc.value("Init", Json(false)) == true) {
    if (paths.init_path.empty())
      return fail(Code::Invalid,
                  "--init: no init binary is configured on this daemon (see silod --init-path)");
    args.insert(args.begin(), {"/sbin/docker-init", "--"});
  }

  auto user = detail::resolve_user(str_or(c, "User"), paths.rootfs,
                                   str_list(hc.value("GroupAdd", Json(nullptr))));
  if (!user) return std::unexpected(user.error());
  auto caps = container_caps(hc);
  if (!caps) return std::unexpected(caps.error());

  Json process = {
      {"terminal", bool_or(c, "Tty")},
      {"user", {{"uid", user->uid}, {"gid", user->gid}}},
      {"args", args},
      {"env", container_env(c, hostname)},
      {"cwd", str_or(c, "WorkingDir").empty() ? "/" : str_or(c, "WorkingDir")},
      {"capabilities", {{"bounding", *caps}, {"effective", *caps}, {"permitted", *caps}}},
      {"rlimits", rlimits(hc)},
      {"noNewPrivileges", security_opt(hc, "no-new-privileges") ||
                              security_opt(hc, "no-new-privileges:true") ||
                              security_opt(hc, "no-new-privileges=true")},
  };
  if (!user->additional_gids.empty()) process["user"]["additionalGids"] = user->additional_gids;
  if (int64_t oom = int_or(hc, "OomScoreAdj"); oom != 0) process["oomScoreAdj"] = oom;

  auto mounts = detail::build_mounts(req, paths);
  if (!mounts) return std::unexpected(mounts.error());

  Json linux = {
      {"namespaces", namespaces(hc, paths)},
      {"resources", resources(hc)},
      {"cgroupsPath", paths.cgroups_path},
  };
  if (hc.contains("Sysctls") && hc["Sysctls"].is_object() && !hc["Sysctls"].empty())
    linux["sysctl"] = hc["Sysctls"];
  if (!privileged) {
    linux["maskedPaths"] = hc.value("MaskedPaths", Json(nullptr)).is_array()
                               ? hc["MaskedPaths"]
                               : Json(detail::default_masked_paths());
    linux["readonlyPaths"] = hc.value("ReadonlyPaths", Json(nullptr)).is_array()
                                 ? hc["ReadonlyPaths"]
                                 : Json(detail::default_readonly_paths());
    if (!security_opt(hc, "seccomp=unconfined") && !security_opt(hc, "seccomp:unconfined"))
      linux["seccomp"] = seccomp_json(runtime::default_seccomp_profile(*caps));
  }

  Json spec = {
      {"ociVersion", "1.0.2"},
      {"process", process},
      {"root", {{"path", paths.rootfs}, {"readonly", bool_or(hc, "ReadonlyRootfs")}}},
      {"hostname", hostname},
      {"mounts", *mounts},
      {"linux", linux},
  };
  if (auto d = str_or(c, "Domainname"); !d.empty()) spec["domainname"] = d;
  return spec;
}

}  // namespace silo::engine
