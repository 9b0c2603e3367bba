#include "runtime/spec.h"

#include <unistd.h>

#include "common/sys.h"

namespace silo::runtime {

namespace {

Status parse_strings(const Json& j, const char* key, std::vector<std::string>& out,
                     const std::string& where) {
  return get_opt(j, key, out, where);
}

Status parse_user(const Json& j, User& u) {
  SILO_TRY(get_opt(j, "uid", u.uid, "process.user"));
  SILO_TRY(get_opt(j, "gid", u.gid, "process.user"));
  SILO_TRY(get_opt(j, "additionalGids", u.additional_gids, "process.user"));
  if (j.contains("umask") && !j["umask"].is_null()) {
    mode_t m = 0;
    SILO_TRY(get_opt(j, "umask", m, "process.user"));
    u.umask = m;
  }
  return {};
}

Status parse_caps(const Json& j, Capabilities& c) {
  const std::string w = "process.capabilities";
  SILO_TRY(parse_strings(j, "bounding", c.bounding, w));
  SILO_TRY(parse_strings(j, "effective", c.effective, w));
  SILO_TRY(parse_strings(j, "inheritable", c.inheritable, w));
  SILO_TRY(parse_strings(j, "permitted", c.permitted, w));
  SILO_TRY(parse_strings(j, "ambient", c.ambient, w));
  return {};
}

template <class T>
Status get_optional(const Json& j, const char* key, std::optional<T>& out,
                    const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return {};
  T v{};
  SILO_TRY(get_opt(j, key, v, where));
  out = v;
  return {};
}

Status parse_hooks(const Json& j, std::vector<Hook>& out, const std::string& where) {
  if (!j.is_array()) return fail(Code::Invalid, where + ": must be an array");
  for (const auto& h : j) {
    Hook hook;
    SILO_TRY(get_opt(h, "path", hook.path, where));
    if (hook.path.empty() || hook.path[0] != '/')
      return fail(Code::Invalid,
                  where + ".path: must be an absolute path, got \"" + hook.path + "\"");
    SILO_TRY(get_opt(h, "args", hook.args, where));
    SILO_TRY(get_opt(h, "env", hook.env, where));
    SILO_TRY(get_optional(h, "timeout", hook.timeout, where));
    if (hook.timeout && *hook.timeout <= 0)
      return fail(Code::Invalid, where + ".timeout: must be positive");
    out.push_back(std::move(hook));
  }
  return {};
}

Status parse_resources(const Json& j, Resources& r) {
  const std::string w = "linux.resources";
  if (auto it = j.find("devices"); it != j.end() && it->is_array()) {
    for (const auto& d : *it) {
      DeviceRule rule;
      SILO_TRY(get_opt(d, "allow", rule.allow, w + ".devices"));
      SILO_TRY(get_opt(d, "type", rule.type, w + ".devices"));
      SILO_TRY(get_optional(d, "major", rule.major, w + ".devices"));
      SILO_TRY(get_optional(d, "minor", rule.minor, w + ".devices"));
      SILO_TRY(get_opt(d, "access", rule.access, w + ".devices"));
      r.devices.push_back(rule);
    }
  }
  if (auto it = j.find("memory"); it != j.end() && it->is_object()) {
    MemoryResources m;
    SILO_TRY(get_optional(*it, "limit", m.limit, w + ".memory"));
    SILO_TRY(get_optional(*it, "reservation", m.reservation, w + ".memory"));
    SILO_TRY(get_optional(*it, "swap", m.swap, w + ".memory"));
    SILO_TRY(get_optional(*it, "kernel", m.kernel, w + ".memory"));
    SILO_TRY(get_optional(*it, "swappiness", m.swappiness, w + ".memory"));
    SILO_TRY(get_opt(*it, "disableOOMKiller", m.disable_oom_killer, w + ".memory"));
    r.memory = m;
  }
  if (auto it = j.find("cpu"); it != j.end() && it->is_object()) {
    CpuResources c;
    SILO_TRY(get_optional(*it, "shares", c.shares, w + ".cpu"));
    SILO_TRY(get_optional(*it, "quota", c.quota, w + ".cpu"));
    SILO_TRY(get_optional(*it, "period", c.period, w + ".cpu"));
    SILO_TRY(get_opt(*it, "cpus", c.cpus, w + ".cpu"));
    SILO_TRY(get_opt(*it, "mems", c.mems, w + ".cpu"));
    r.cpu = c;
  }
  if (auto it = j.find("pids"); it != j.end() && it->is_object()) {
    int64_t limit = 0;
    SILO_TRY(get_opt(*it, "limit", limit, w + ".pids"));
    r.pids_limit = limit;
  }
  SILO_TRY(get_opt(j, "unified", r.unified, w));
  return {};
}

Status parse_seccomp(const Json& j, Seccomp& s) {
  const std::string w = "linux.seccomp";
  SILO_TRY(get_opt(j, "defaultAction", s.default_action, w));
  SILO_TRY(get_optional(j, "defaultErrnoRet", s.default_errno_ret, w));
  SILO_TRY(get_opt(j, "architectures", s.architectures, w));
  SILO_TRY(get_opt(j, "flags", s.flags, w));
  if (auto it = j.find("syscalls"); it != j.end() && it->is_array()) {
    for (const auto& sc : *it) {
      SeccompRule rule;
      SILO_TRY(get_opt(sc, "names", rule.names, w + ".syscalls"));
      SILO_TRY(get_opt(sc, "action", rule.action, w + ".syscalls"));
      SILO_TRY(get_optional(sc, "errnoRet", rule.errno_ret, w + ".syscalls"));
      if (auto a = sc.find("args"); a != sc.end() && a->is_array()) {
        for (const auto& arg : *a) {
          SeccompArg sa;
          SILO_TRY(get_opt(arg, "index", sa.index, w + ".syscalls.args"));
          SILO_TRY(get_opt(arg, "value", sa.value, w + ".syscalls.args"));
          SILO_TRY(get_opt(arg, "valueTwo", sa.value_two, w + ".syscalls.args"));
          SILO_TRY(get_opt(arg, "op", sa.op, w + ".syscalls.args"));
          rule.args.push_back(sa);
        }
      }
      s.syscalls.push_back(std::move(rule));
    }
  }
  return {};
}

Status parse_id_mappings(const Json& j, const char* key, std::vector<IdMapping>& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return {};
  for (const auto& m : *it) {
    IdMapping im;
    const std::string w = std::string("linux.") + key;
    SILO_TRY(get_opt(m, "containerID", im.container_id, w));
    SILO_TRY(get_opt(m, "hostID", im.host_id, w));
    SILO_TRY(get_opt(m, "size", im.size, w));
    out.push_back(im);
  }
  return {};
}

Status parse_linux(const Json& j, Linux& l) {
  const std::string w = "linux";
  if (auto it = j.find("namespaces"); it != j.end() && it->is_array()) {
    for (const auto& n : *it) {
      Namespace ns;
      SILO_TRY(get_opt(n, "type", ns.type, w + ".namespaces"));
      SILO_TRY(get_opt(n, "path", ns.path, w + ".namespaces"));
      static const char* kKnown[] = {"pid", "network", "mount",  "ipc",
                                     "uts", "user",    "cgroup", "time"};
      bool known = false;
      for (auto* k : kKnown) known |= ns.type == k;
      if (!known)
        return fail(Code::Invalid, "linux.namespaces: unknown namespace type \"" + ns.type + "\"");
      for (const auto& prev : l.namespaces)
        if (prev.type == ns.type)
          return fail(Code::Invalid,
                      "linux.namespaces: namespace \"" + ns.type + "\" listed twice");
      l.namespaces.push_back(ns);
    }
  }
  SILO_TRY(parse_id_mappings(j, "uidMappings", l.uid_mappings));
  SILO_TRY(parse_id_mappings(j, "gidMappings", l.gid_mappings));
  if (auto it = j.find("devices"); it != j.end() && it->is_array()) {
    for (const auto& d : *it) {
      Device dev;
      SILO_TRY(get_opt(d, "path", dev.path, w + ".devices"));
      SILO_TRY(get_opt(d, "type", dev.type, w + ".devices"));
      SILO_TRY(get_opt(d, "major", dev.major, w + ".devices"));
      SILO_TRY(get_opt(d, "minor", dev.minor, w + ".devices"));
      SILO_TRY(get_optional(d, "fileMode", dev.file_mode, w + ".devices"));
      SILO_TRY(get_optional(d, "uid", dev.uid, w + ".devices"));
      SILO_TRY(get_optional(d, "gid", dev.gid, w + ".devices"));
      l.devices.push_back(dev);
    }
  }
  SILO_TRY(get_opt(j, "cgroupsPath", l.cgroups_path, w));
  if (auto it = j.find("resources"); it != j.end() && it->is_object()) {
    Resources r;
    SILO_TRY(parse_resources(*it, r));
    l.resources = std::move(r);
  }
  SILO_TRY(get_opt(j, "sysctl", l.sysctl, w));
  if (auto it = j.find("seccomp"); it != j.end() && it->is_object()) {
    Seccomp s;
    SILO_TRY(parse_seccomp(*it, s));
    l.seccomp = std::move(s);
  }
  SILO_TRY(get_opt(j, "rootfsPropagation", l.rootfs_propagation, w));
  SILO_TRY(get_opt(j, "maskedPaths", l.masked_paths, w));
  SILO_TRY(get_opt(j, "readonlyPaths", l.readonly_paths, w));
  SILO_TRY(get_opt(j, "mountLabel", l.mount_label, w));
  return {};
}

}  // namespace

const Namespace* Linux::find_namespace(const std::string& type) const {
  for (const auto& ns : namespaces)
    if (ns.type == type) return &ns;
  return nullptr;
}

Result<Process> parse_process(const Json& p) {
  Process out;
  if (!p.is_object()) return fail(Code::Invalid, "process: must be an object");
  SILO_TRY(get_opt(p, "terminal", out.terminal, "process"));
  if (auto it = p.find("consoleSize"); it != p.end() && it->is_object()) {
    ConsoleSize cs;
    SILO_TRY(get_opt(*it, "height", cs.height, "process.consoleSize"));
    SILO_TRY(get_opt(*it, "width", cs.width, "process.consoleSize"));
    out.console_size = cs;
  }
  if (auto it = p.find("user"); it != p.end() && it->is_object())
    SILO_TRY(parse_user(*it, out.user));
  SILO_TRY(get_opt(p, "args", out.args, "process"));
  if (out.args.empty())
    return fail(Code::Invalid, "process.args: must name the program to run (empty)");
  SILO_TRY(get_opt(p, "env", out.env, "process"));
  SILO_TRY(get_opt(p, "cwd", out.cwd, "process"));
  if (out.cwd.empty() || out.cwd[0] != '/')
    return fail(Code::Invalid, "process.cwd: must be an absolute path, got \"" + out.cwd + "\"");
  if (auto it = p.find("capabilities"); it != p.end() && it->is_object()) {
    Capabilities c;
    SILO_TRY(parse_caps(*it, c));
    out.capabilities = std::move(c);
  }
  if (auto it = p.find("rlimits"); it != p.end() && it->is_array()) {
    for (const auto& r : *it) {
      Rlimit rl;
      SILO_TRY(get_opt(r, "type", rl.type, "process.rlimits"));
      SILO_TRY(get_opt(r, "soft", rl.soft, "process.rlimits"));
      SILO_TRY(get_opt(r, "hard", rl.hard, "process.rlimits"));
      if (rl.soft > rl.hard)
        return fail(Code::Invalid, "process.rlimits: " + rl.type + " soft limit " +
                                       std::to_string(rl.soft) + " is above its hard limit " +
                                       std::to_string(rl.hard));
      out.rlimits.push_back(rl);
    }
  }
  SILO_TRY(get_opt(p, "noNewPrivileges", out.no_new_privileges, "process"));
  SILO_TRY(get_optional(p, "oomScoreAdj", out.oom_score_adj, "process"));
  SILO_TRY(get_opt(p, "apparmorProfile", out.apparmor_profile, "process"));
  SILO_TRY(get_opt(p, "selinuxLabel", out.selinux_label, "process"));
  return out;
}

Result<Spec> parse_spec(const Json& doc) {
  if (!doc.is_object()) return fail(Code::Invalid, "config.json: must be a JSON object");
  Spec s;
  SILO_TRY(get_opt(doc, "ociVersion", s.oci_version, "config"));
  SILO_TRY(get_opt(doc, "hostname", s.hostname, "config"));
  SILO_TRY(get_opt(doc, "domainname", s.domainname, "config"));
  auto proc = doc.find("process");
  if (proc == doc.end()) return fail(Code::Invalid, "config.json: \"process\" is missing");
  auto p = parse_process(*proc);
  if (!p) return std::unexpected(p.error());
  s.process = std::move(*p);
  if (auto it = doc.find("root"); it != doc.end() && it->is_object()) {
    SILO_TRY(get_opt(*it, "path", s.root.path, "root"));
    SILO_TRY(get_opt(*it, "readonly", s.root.readonly, "root"));
  }
  if (s.root.path.empty()) return fail(Code::Invalid, "config.json: root.path is missing");
  if (auto it = doc.find("mounts"); it != doc.end() && it->is_array()) {
    for (const auto& m : *it) {
      Mount mt;
      SILO_TRY(get_opt(m, "destination", mt.destination, "mounts"));
      SILO_TRY(get_opt(m, "type", mt.type, "mounts"));
      SILO_TRY(get_opt(m, "source", mt.source, "mounts"));
      SILO_TRY(get_opt(m, "options", mt.options, "mounts"));
      if (mt.destination.empty() || mt.destination[0] != '/')
        return fail(Code::Invalid,
                    "mounts: destination \"" + mt.destination + "\" must be an absolute path");
      s.mounts.push_back(std::move(mt));
    }
  }
  if (auto it = doc.find("hooks"); it != doc.end() && it->is_object()) {
    auto h = [&](const char* key, std::vector<Hook>& out) -> Status {
      if (auto f = it->find(key); f != it->end() && !f->is_null())
        return parse_hooks(*f, out, std::string("hooks.") + key);
      return {};
    };
    SILO_TRY(h("prestart", s.hooks.prestart));
    SILO_TRY(h("createRuntime", s.hooks.create_runtime));
    SILO_TRY(h("createContainer", s.hooks.create_container));
    SILO_TRY(h("startContainer", s.hooks.start_container));
    SILO_TRY(h("poststart", s.hooks.poststart));
    SILO_TRY(h("poststop", s.hooks.poststop));
  }
  if (auto it = doc.find("linux"); it != doc.end() && it->is_object())
    SILO_TRY(parse_linux(*it, s.linux));
  SILO_TRY(get_opt(doc, "annotations", s.annotations, "config"));
  return s;
}

Result<Spec> load_spec(const std::string& bundle, Json* doc_out) {
  auto text = sys::read_file(bundle + "/config.json");
  if (!text) return wrap(text.error(), "load bundle " + bundle);
  auto doc = parse_json(*text, bundle + "/config.json");
  if (!doc) return std::unexpected(doc.error());
  auto spec = parse_spec(*doc);
  if (!spec) return wrap(spec.error(), bundle + "/config.json");
  if (spec->root.path[0] != '/') spec->root.path = bundle + "/" + spec->root.path;
  if (!sys::is_directory(spec->root.path))
    return fail(Code::NotFound, "root.path " + spec->root.path +
                                    " is not a directory; unpack a root filesystem there");
  if (doc_out) *doc_out = std::move(*doc);
  return spec;
}

Json default_spec_json(bool rootless) {
  Json caps = Json::array({"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
  Json spec = {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", true},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"sh"}},
        {"env",
         {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities",
         {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "silo"},
      {"mounts",
       {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/dev"},
         {"type", "tmpfs"},
         {"source", "tmpfs"},
         {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
        {{"destination", "/dev/pts"},
         {"type", "devpts"},
         {"source", "devpts"},
         {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}},
        {{"destination", "/dev/shm"},
         {"type", "tmpfs"},
         {"source", "shm"},
         {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
        {{"destination", "/dev/mqueue"},
         {"type", "mqueue"},
         {"source", "mqueue"},
         {"options", {"nosuid", "noexec", "nodev"}}},
        {{"destination", "/sys"},
         {"type", "sysfs"},
         {"source", "sysfs"},
         {"options", {"nosuid", "noexec", "nodev", "ro"}}}}},
      {"linux",
       {{"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
        {"namespaces",
         {{{"type", "pid"}},
          {{"type", "network"}},
          {{"type", "ipc"}},
          {{"type", "uts"}},
          {{"type", "mount"}}}},
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
          "/proc/scsi"}},
        {"readonlyPaths",
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}}};
  if (rootless) {
    spec["linux"]["namespaces"].push_back({{"type", "user"}});
    spec["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", ::getuid()}, {"size", 1}}};
    spec["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", ::getgid()}, {"size", 1}}};
    spec["linux"].erase("resources");
  }
  return spec;
}

}  // namespace silo::runtime
