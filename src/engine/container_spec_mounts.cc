// The spec's mounts: Docker's defaults (minus those a user mount replaces), then the
// container's files (/etc/resolv.conf, /etc/hostname, /etc/hosts), binds, volumes, tmpfs
// and --mount entries sorted parents first, then the --init binary.

#include <algorithm>
#include <map>

#include "engine/container_config.h"
#include "engine/container_config_internal.h"

namespace silo::engine::detail {
namespace {

Json mount(const std::string& dest, const std::string& type, const std::string& source,
           std::vector<std::string> options) {
  return {{"destination", dest}, {"type", type}, {"source", source}, {"options", options}};
}

// Docker's default mounts (oci.DefaultLinuxSpec + WithMounts' /dev/shm).
std::vector<Json> default_mounts(const Json& hc) {
  bool privileged = hc.value("Privileged", false);
  int64_t shm = hc.value("ShmSize", Json(0)).is_number() ? hc["ShmSize"].get<int64_t>() : 0;
  if (shm <= 0) shm = 64 * 1024 * 1024;
  std::string sys_ro = privileged ? "rw" : "ro";
  std::vector<Json> m = {
      mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts",
            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", sys_ro}),
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {sys_ro, "nosuid", "noexec", "nodev"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
  };
  std::string ipc =
      hc.value("IpcMode", Json("")).is_string() ? hc["IpcMode"].get<std::string>() : "";
  if (ipc != "none" && ipc != "host")
    m.push_back(mount("/dev/shm", "tmpfs", "shm",
                      {"nosuid", "noexec", "nodev", "mode=1777", "size=" + std::to_string(shm)}));
  return m;
}

// mount.MergeTmpfsOptions: later options win over earlier ones of the same kind.
std::vector<std::string> merge_tmpfs_options(const std::vector<std::string>& in) {
  static const std::map<std::string, std::string> kOpposite = {
      {"exec", "noexec"},   {"noexec", "exec"},  {"suid", "nosuid"}, {"nosuid", "suid"},
      {"dev", "nodev"},     {"nodev", "dev"},    {"ro", "rw"},       {"rw", "ro"},
      {"atime", "noatime"}, {"noatime", "atime"}};
  std::vector<std::string> out;
  for (const auto& o : in) {
    if (o.empty()) continue;
    auto eq = o.find('=');
    std::string key = o.substr(0, eq);
    out.erase(std::remove_if(out.begin(), out.end(),
                             [&](const std::string& e) {
                               if (eq != std::string::npos) return e.substr(0, e.find('=')) == key;
                               auto op = kOpposite.find(o);
                               return e == o || (op != kOpposite.end() && e == op->second);
                             }),
              out.end());
    out.push_back(o);
  }
  return out;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (!s.empty()) {
    size_t c = s.find(',', start);
    out.push_back(s.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  return out;
}

Json tmpfs_mount(const std::string& dest, const std::vector<std::string>& extra) {
  std::vector<std::string> opts = {"noexec", "nosuid", "nodev", "rprivate"};
  opts.insert(opts.end(), extra.begin(), extra.end());
  return mount(dest, "tmpfs", "tmpfs", merge_tmpfs_options(opts));
}

Json bind_mount(const std::string& dest, const std::string& source, bool ro,
                const std::string& propagation) {
  std::vector<std::string> opts = {"rbind", ro ? "ro" : "rw"};
  opts.push_back(propagation.empty() ? "rprivate" : propagation);
  return mount(dest, "bind", source, opts);
}

Result<std::string> volume_path(const SpecPaths& paths, const std::string& name,
                                const std::string& dest) {
  // Anonymous volumes are keyed by their destination (the engine names them).
  auto it = paths.volumes.find(name.empty() ? dest : name);
  if (it == paths.volumes.end())
    return fail(Code::Invalid, "volume " + (name.empty() ? "for " + dest : name) +
                                   " was not prepared for the container (engine bug)");
  return it->second;
}

Status user_mounts(const Json& hc, const SpecPaths& paths, std::vector<Json>& out) {
  if (hc.value("Binds", Json(nullptr)).is_array()) {
    for (const auto& b : hc["Binds"]) {
      auto spec = parse_bind(b.get<std::string>());
      if (!spec) return std::unexpected(spec.error());
      std::string src = spec->source;
      if (spec->is_volume) {
        auto p = volume_path(paths, spec->source, spec->destination);
        if (!p) return std::unexpected(p.error());
        src = *p;
      }
      out.push_back(bind_mount(spec->destination, src, spec->read_only, spec->propagation));
    }
  }
  if (hc.contains("Tmpfs") && hc["Tmpfs"].is_object())
    for (const auto& [dest, opts] : hc["Tmpfs"].items())
      out.push_back(tmpfs_mount(dest, split_commas(opts.get<std::string>())));
  if (hc.value("Mounts", Json(nullptr)).is_array()) {
    for (const auto& m : hc["Mounts"]) {
      std::string type = m.value("Type", ""), src = m.value("Source", ""),
                  dst = m.value("Target", "");
      bool ro = m.value("ReadOnly", false);
      if (type == "tmpfs") {
        std::vector<std::string> extra;
        const Json& o = m.value("TmpfsOptions", Json::object());
        if (o.is_object() && o.value("SizeBytes", Json(0)).is_number() &&
            o.value("SizeBytes", 0) > 0)
          extra.push_back("size=" + std::to_string(o.value("SizeBytes", int64_t(0))));
        if (o.is_object() && o.value("Mode", Json(0)).is_number() && o.value("Mode", 0) > 0) {
          char buf[16];
          std::snprintf(buf, sizeof(buf), "mode=%o", o.value("Mode", 0u));
          extra.push_back(buf);
        }
        if (ro) extra.push_back("ro");
        out.push_back(tmpfs_mount(dst, extra));
      } else if (type == "volume") {
        auto p = volume_path(paths, src, dst);
        if (!p) return std::unexpected(p.error());
        out.push_back(bind_mount(dst, *p, ro, ""));
      } else {
        std::string prop;
        if (m.value("BindOptions", Json(nullptr)).is_object())
          prop = m["BindOptions"].value("Propagation", "");
        out.push_back(bind_mount(dst, src, ro, prop));
      }
    }
  }
  return {};
}

size_t depth(const std::string& p) {
  return std::count(p.begin(), p.end(), '/');
}

}  // namespace

const std::vector<std::string>& default_masked_paths() {
  static const std::vector<std::string> p = {
      "/proc/asound",        "/proc/acpi",       "/proc/kcore",       "/proc/keys",
      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
      "/proc/scsi",          "/sys/firmware"};
  return p;
}

const std::vector<std::string>& default_readonly_paths() {
  static const std::vector<std::string> p = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                             "/proc/sysrq-trigger"};
  return p;
}

Result<Json> build_mounts(const CreateRequest& req, const SpecPaths& paths) {
  const Json& hc = req.host_config;
  bool ro_root = hc.value("ReadonlyRootfs", false);
  std::vector<Json> user;
  if (!paths.resolv_conf.empty())
    user.push_back(bind_mount("/etc/resolv.conf", paths.resolv_conf, ro_root, ""));
  if (!paths.hostname_file.empty())
    user.push_back(bind_mount("/etc/hostname", paths.hostname_file, ro_root, ""));
  if (!paths.hosts_file.empty())
    user.push_back(bind_mount("/etc/hosts", paths.hosts_file, ro_root, ""));
  SILO_TRY(user_mounts(hc, paths, user));
  // A user mount replaces the default one at the same place (and those below it).
  std::map<std::string, bool> taken;
  for (const auto& m : user) taken[m["destination"].get<std::string>()] = true;
  // Parents first, so a mount under another is not hidden by it; stable for equal depth.
  std::stable_sort(user.begin(), user.end(), [](const Json& a, const Json& b) {
    return depth(a["destination"]) < depth(b["destination"]);
  });
  Json out = Json::array();
  for (auto& m : default_mounts(hc)) {
    std::string d = m["destination"];
    bool replaced = taken.count(d) > 0 || (d.starts_with("/dev/") && taken.count("/dev")) ||
                    (d == "/sys/fs/cgroup" && taken.count("/sys"));
    if (!replaced) out.push_back(std::move(m));
  }
  for (auto& m : user) out.push_back(std::move(m));
  if (hc.value("Init", Json(false)) == true && !paths.init_path.empty())
    out.push_back(mount("/sbin/docker-init", "bind", paths.init_path, {"bind", "ro"}));
  return out;
}

}  // namespace silo::engine::detail
