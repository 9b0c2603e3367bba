#include "runtime/plan.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>

#include "runtime/namespaces.h"

namespace silo::runtime {

namespace {

Result<mode_t> device_type(const Device& d) {
  if (d.type == "c" || d.type == "u") return S_IFCHR;
  if (d.type == "b") return S_IFBLK;
  if (d.type == "p") return S_IFIFO;
  return fail(Code::Invalid, "linux.devices: " + d.path + " has unknown type \"" + d.type +
                                 "\" (use c, b, u or p)");
}

Status plan_namespaces(const Spec& spec, InitPlan& plan, NamespaceJoins* joins) {
  for (const auto& ns : spec.linux.namespaces) {
    const NamespaceKind* kind = namespace_kind(ns.type);
    if (!kind) return fail(Code::Invalid, "linux.namespaces: unknown type \"" + ns.type + "\"");
    if (!ns.path.empty()) {
      joins->emplace_back(ns.type, ns.path);
    } else if (ns.type == "cgroup") {
      plan.unshare_cgroup = true;
    } else {
      plan.clone_flags |= static_cast<unsigned long>(kind->clone_flag);
      if (ns.type == "user") plan.new_user = true;
    }
  }
  if (!spec.linux.find_namespace("mount"))
    return fail(Code::Invalid,
                "linux.namespaces: a mount namespace is required (add {\"type\": \"mount\"})");
  if (plan.new_user && (spec.linux.uid_mappings.empty() || spec.linux.gid_mappings.empty()))
    return fail(Code::Invalid,
                "linux.uidMappings/gidMappings: a new user namespace needs both mappings");
  const Namespace* uts = spec.linux.find_namespace("uts");
  if ((!spec.hostname.empty() || !spec.domainname.empty()) && !uts)
    return fail(Code::Invalid,
                "hostname: setting it needs a uts namespace (add {\"type\": \"uts\"})");
  // Joins happen in kind order (user first, mount last).
  size_t n;
  const NamespaceKind* kinds = namespace_kinds(&n);
  std::stable_sort(joins->begin(), joins->end(), [&](const auto& a, const auto& b) {
    auto idx = [&](const std::string& t) {
      return std::find_if(kinds, kinds + n, [&](auto& k) { return t == k.oci; }) - kinds;
    };
    return idx(a.first) < idx(b.first);
  });
  return {};
}

Status plan_rootfs(const Spec& spec, const std::string& bundle,
                   const std::vector<std::pair<std::string, std::string>>& cgroup_paths,
                   InitPlan& plan) {
  plan.rootfs = spec.root.path;
  plan.readonly_root = spec.root.readonly;
  auto prop = parse_propagation(spec.linux.rootfs_propagation);
  if (!prop) return std::unexpected(prop.error());
  plan.root_propagation = *prop;
  if (*prop & MS_SHARED) plan.final_propagation = *prop;
  auto mounts = plan_mounts(spec, bundle, cgroup_paths, plan.unshare_cgroup);
  if (!mounts) return std::unexpected(mounts.error());
  plan.mounts = std::move(*mounts);
  plan.populate_dev = std::any_of(spec.mounts.begin(), spec.mounts.end(),
                                  [](const Mount& m) { return m.destination == "/dev"; });
  for (const auto& d : spec.linux.devices) {
    auto type = device_type(d);
    if (!type) return std::unexpected(type.error());
    if (d.path.rfind("/dev/", 0) != 0)
      return fail(Code::Invalid, "linux.devices: " + d.path + " must be under /dev");
    DeviceNode node;
    node.path = d.path;
    node.mode = *type | (d.file_mode.value_or(0666) & 07777);
    node.dev = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
    node.uid = d.uid.value_or(0);
    node.gid = d.gid.value_or(0);
    plan.devices.push_back(node);
  }
  plan.masked_paths = spec.linux.masked_paths;
  plan.readonly_paths = spec.linux.readonly_paths;
  if (!spec.hostname.empty()) plan.hostname = spec.hostname;
  if (!spec.domainname.empty()) plan.domainname = spec.domainname;
  for (const auto& [key, value] : spec.linux.sysctl) {
    if (key.find("..") != std::string::npos || key.find('/') != std::string::npos)
      return fail(Code::Invalid, "linux.sysctl: invalid key \"" + key + "\"");
    std::string path = "/proc/sys/" + key;
    std::replace(path.begin() + 10, path.end(), '.', '/');
    if (key.rfind("net.", 0) == 0 && !(plan.clone_flags & CLONE_NEWNET) &&
        !spec.linux.find_namespace("network"))
      return fail(Code::Invalid,
                  "linux.sysctl: " + key + " needs a network namespace of the container's own");
    plan.sysctls.emplace_back(path, value);
  }
  return {};
}

std::vector<ChildHook> child_hooks(const std::vector<Hook>& hooks) {
  std::vector<ChildHook> out;
  for (const auto& h : hooks) out.push_back(ChildHook{h.path, h.args, h.env, {}, {}});
  return out;
}

}  // namespace

Status plan_process(const Process& p, const Spec& spec, InitPlan& plan,
                    const std::string& seccomp_cache) {
  plan.args = p.args;
  plan.env = p.env;
  for (const auto& e : p.env)
    if (e.rfind("PATH=", 0) == 0) plan.path_env = e.substr(5);
  plan.cwd = p.cwd;
  plan.uid = p.user.uid;
  plan.gid = p.user.gid;
  plan.groups = p.user.additional_gids;
  plan.umask = p.user.umask;
  // Inside a user namespace whose setgroups is denied, setgroups(2) fails; only call it
  // when there is something to set or we are allowed to clear the list.
  plan.set_groups = true;
  if (p.capabilities) {
    auto caps = resolve_caps(*p.capabilities);
    if (!caps) return std::unexpected(caps.error());
    plan.caps = *caps;
  }
  plan.last_cap = last_cap();
  auto rl = resolve_rlimits(p.rlimits);
  if (!rl) return std::unexpected(rl.error());
  SILO_TRY(check_rlimits(*rl, plan.new_user));
  plan.rlimits = std::move(*rl);
  plan.no_new_privileges = p.no_new_privileges;
  if (spec.linux.seccomp) {
    auto prog = compile_seccomp_cached(*spec.linux.seccomp, seccomp_cache);
    if (!prog) return std::unexpected(prog.error());
    plan.seccomp = std::move(*prog);
  }
  plan.terminal = p.terminal;
  plan.console_size = p.console_size;
  return {};
}

Result<InitPlan> plan_container(
    const Spec& spec, const std::string& bundle,
    const std::vector<std::pair<std::string, std::string>>& cgroup_paths, NamespaceJoins* joins,
    const std::string& seccomp_cache) {
  InitPlan plan;
  SILO_TRY(plan_namespaces(spec, plan, joins));
  SILO_TRY(plan_rootfs(spec, bundle, cgroup_paths, plan));
  SILO_TRY(plan_process(spec.process, spec, plan, seccomp_cache));
  plan.create_container_hooks = child_hooks(spec.hooks.create_container);
  plan.start_container_hooks = child_hooks(spec.hooks.start_container);
  plan.wait_for_runtime_hooks = !spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty();
  return plan;
}

std::vector<DeviceRule> implied_device_rules(const Spec& spec) {
  auto rule = [](const char* type, std::optional<int64_t> major, std::optional<int64_t> minor,
                 const char* access) {
    return DeviceRule{true, type, major, minor, access};
  };
  std::vector<DeviceRule> out = {
      rule("c", std::nullopt, std::nullopt, "m"),
      rule("b", std::nullopt, std::nullopt, "m"),
      rule("c", 1, 3, "rwm"),
      rule("c", 1, 5, "rwm"),
      rule("c", 1, 7, "rwm"),
      rule("c", 1, 8, "rwm"),
      rule("c", 1, 9, "rwm"),
      rule("c", 5, 0, "rwm"),
      rule("c", 5, 1, "rwm"),
      rule("c", 5, 2, "rwm"),
      rule("c", 136, std::nullopt, "rwm"),
  };
  for (const auto& d : spec.linux.devices) {
    const char* t = d.type == "b" ? "b" : "c";
    if (d.type == "p") continue;
    out.push_back(rule(t, d.major, d.minor, "rwm"));
  }
  return out;
}

}  // namespace silo::runtime
