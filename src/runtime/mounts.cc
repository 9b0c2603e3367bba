#include "runtime/mounts.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <cstring>

namespace silo::runtime {

namespace {

struct FlagWord {
  const char* name;
  bool clear;  // turns the flag off instead of on
  unsigned long flag;
};

constexpr FlagWord kFlagWords[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"bind", false, MS_BIND},
    {"rbind", false, MS_BIND | MS_REC},
};

struct PropWord {
  const char* name;
  unsigned long flag;
};

constexpr PropWord kPropWords[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

// Options that only other runtimes act on; accepted and ignored, never passed as data.
constexpr const char* kIgnored[] = {"tmpcopyup", "idmap", "ridmap", "copy-symlink", "notmpcopyup"};

// Flags a bind remount can change (others are not remountable per bind).
constexpr unsigned long kBindRemountable = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
                                           MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
                                           MS_STRICTATIME;

}  // namespace

bool MountOptions::bind() const {
  return (flags & MS_BIND) != 0;
}

MountOptions parse_mount_options(const std::vector<std::string>& options) {
  MountOptions out;
  for (const auto& o : options) {
    bool matched = false;
    for (const auto& w : kFlagWords) {
      if (o == w.name) {
        if (w.clear) {
          out.flags &= ~w.flag;
          out.clear |= w.flag;
        } else {
          out.flags |= w.flag;
        }
        matched = true;
        break;
      }
    }
    for (const auto& p : kPropWords) {
      if (!matched && o == p.name) {
        out.propagation = p.flag;
        matched = true;
      }
    }
    for (const char* ig : kIgnored) matched |= (o == ig);
    if (matched) continue;
    if (!out.data.empty()) out.data += ',';
    out.data += o;
  }
  return out;
}

Result<unsigned long> parse_propagation(const std::string& name) {
  if (name.empty()) return 0ul;
  for (const auto& p : kPropWords)
    if (name == p.name) return p.flag;
  return fail(Code::Invalid, "linux.rootfsPropagation: unknown propagation \"" + name +
                                 "\" (use private, rprivate, slave, rslave, shared or rshared)");
}

namespace {

MountOp plan_one(const Mount& m, const std::string& bundle) {
  MountOptions o = parse_mount_options(m.options);
  MountOp op;
  op.target = m.destination;
  op.propagation = o.propagation;
  if (o.bind() || m.type == "bind") {
    op.source = (!m.source.empty() && m.source[0] != '/') ? bundle + "/" + m.source : m.source;
    op.flags = MS_BIND | (o.flags & MS_REC);
    // A bind ignores other flags on the first call: they need a remount (mount(2), "MS_BIND").
    unsigned long rest = o.flags & kBindRemountable;
    if (rest) op.remount_flags = MS_BIND | MS_REMOUNT | rest;
    struct stat st;
    op.source_is_file = ::stat(op.source.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
  } else {
    op.source = m.source.empty() ? m.type : m.source;
    op.fstype = m.type;
    op.flags = o.flags;
    op.data = o.data;
    op.sysfs_fallback = m.type == "sysfs";
  }
  return op;
}

// A "cgroup" mount: cgroup2 (or a bind of the container's v2 dir) on a v2 host; on v1, a
// tmpfs with one bind of the container's directory per hierarchy, as runc lays it out.
void plan_cgroup(const Mount& m, const std::vector<std::pair<std::string, std::string>>& paths,
                 bool cgroupns, std::vector<MountOp>& out) {
  MountOptions o = parse_mount_options(m.options);
  unsigned long ro = o.flags & MS_RDONLY;
  unsigned long base = (o.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME));
  bool v2 = paths.size() == 1 && paths[0].first.empty();
  if (v2) {
    MountOp op;
    op.target = m.destination;
    if (cgroupns) {
      op.source = "cgroup2";
      op.fstype = "cgroup2";
      op.flags = base | ro;
    } else {
      op.source = paths[0].second;
      op.flags = MS_BIND | MS_REC;
      op.remount_flags = MS_BIND | MS_REMOUNT | base | ro;
    }
    out.push_back(op);
    return;
  }
  MountOp tmp;
  tmp.source = "tmpfs";
  tmp.fstype = "tmpfs";
  tmp.target = m.destination;
  tmp.flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  tmp.data = "mode=755";
  out.push_back(tmp);
  for (const auto& [name, dir] : paths) {
    MountOp b;
    b.source = dir;
    b.target = m.destination + "/" + name;
    b.flags = MS_BIND | MS_REC;
    b.remount_flags = MS_BIND | MS_REMOUNT | base | ro;
    out.push_back(b);
  }
  if (ro) {
    MountOp r;
    r.source = "tmpfs";
    r.target = m.destination;
    r.flags = MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    r.fstype = "tmpfs";
    r.data = "mode=755";
    out.push_back(r);
  }
}

}  // namespace

Result<std::vector<MountOp>> plan_mounts(
    const Spec& spec, const std::string& bundle,
    const std::vector<std::pair<std::string, std::string>>& cgroup_paths, bool cgroupns) {
  std::vector<MountOp> out;
  for (const auto& m : spec.mounts) {
    if (m.destination.find("/../") != std::string::npos || m.destination.ends_with("/.."))
      return fail(Code::Invalid,
                  "mounts: destination \"" + m.destination + "\" must not contain \"..\"");
    if (m.type == "cgroup" || m.type == "cgroup2") {
      if (!cgroup_paths.empty()) plan_cgroup(m, cgroup_paths, cgroupns, out);
      continue;
    }
    MountOp op = plan_one(m, bundle);
    if ((op.flags & MS_BIND) && op.source.empty())
      return fail(Code::Invalid, "mounts: bind mount on " + m.destination + " has no source");
    out.push_back(std::move(op));
  }
  return out;
}

}  // namespace silo::runtime
