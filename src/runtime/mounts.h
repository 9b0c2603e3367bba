#pragma once
// Mount planning: OCI mount entries turned into the exact mount(2) calls the container
// init will make, computed in the parent so the child only executes them.

#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/spec.h"

namespace silo::runtime {

// mount(2) flags and data parsed from an OCI options list.
struct MountOptions {
  unsigned long flags = 0;        // MS_RDONLY, MS_NOSUID, ... and MS_BIND|MS_REC for (r)bind
  unsigned long clear = 0;        // flags explicitly turned off (rw, suid, ...)
  unsigned long propagation = 0;  // MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC)
  std::string data;               // the rest, comma-joined ("mode=755,size=65536k")
  bool bind() const;
};

// Parses options such as {"nosuid","rbind","ro","mode=755"}. Unknown words go to data.
MountOptions parse_mount_options(const std::vector<std::string>& options);
// "rslave" -> MS_SLAVE|MS_REC etc.; "" -> 0; anything else -> Invalid error.
[[nodiscard]] Result<unsigned long> parse_propagation(const std::string& name);

// One step the init makes, in order.
struct MountOp {
  std::string source;       // host path for binds, else the fs source name
  std::string target;       // path inside the container ("/proc")
  std::string fstype;       // "" for binds
  unsigned long flags = 0;  // for the first mount(2) call
  std::string data;
  unsigned long remount_flags = 0;  // when non-zero: a MS_REMOUNT|MS_BIND with these flags follows
  unsigned long propagation = 0;    // when non-zero: a propagation-change call follows
  bool source_is_file = false;      // bind of a file: the target is created as an empty file
  bool sysfs_fallback = false;      // sysfs that may be replaced by a read-only rbind of /sys
};

// Turns the spec's mounts into MountOps. `cgroup_paths` are the container's cgroup
// directories ({hierarchy name, host dir}; one entry with an empty name for cgroup v2)
// used to expand a mount of type "cgroup". Relative bind sources are taken from `bundle`.
[[nodiscard]] Result<std::vector<MountOp>> plan_mounts(
    const Spec& spec, const std::string& bundle,
    const std::vector<std::pair<std::string, std::string>>& cgroup_paths, bool cgroupns);

}  // namespace silo::runtime
