#pragma once
// Parent side: turns a Spec into the InitPlan the child executes (see init.h).

#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "runtime/init.h"
#include "runtime/spec.h"

namespace silo::runtime {

// Namespaces to join by path, as (oci type, path), in join order.
using NamespaceJoins = std::vector<std::pair<std::string, std::string>>;

// Builds the plan for a new container. `cgroup_paths` come from the cgroup manager;
// `seccomp_cache` is the directory of compiled seccomp programs ("" compiles every time).
// Errors name the spec field in the way ("linux.namespaces: ...", "process.rlimits: ...").
[[nodiscard]] Result<InitPlan> plan_container(
    const Spec& spec, const std::string& bundle,
    const std::vector<std::pair<std::string, std::string>>& cgroup_paths, NamespaceJoins* joins,
    const std::string& seccomp_cache = {});
// The process part alone (exec into a running container).
[[nodiscard]] Status plan_process(const Process& p, const Spec& spec, InitPlan& plan,
                                  const std::string& seccomp_cache = {});
// Device cgroup rules the container needs besides the spec's: its default /dev nodes,
// ptys and every linux.devices entry (runc grants the same).
std::vector<DeviceRule> implied_device_rules(const Spec& spec);

}  // namespace silo::runtime
