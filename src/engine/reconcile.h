#pragma once
// Reconcile-on-boot, the plan half: from the store's rows and what the daemon observed on
// the host (mounts, runtime state dirs, cgroups, shim processes), the list of repairs that
// bring the host back in line with the store. Pure: tests feed it facts, the engine's
// executor (reconcile_apply.cc) observes and applies.

#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

#include "engine/store.h"

namespace silo::engine {

// One container as the store knows it, reduced to what reconcile needs.
struct KnownContainer {
  std::string id;
  std::string status;  // store status
  std::string rootfs;  // its merged root (mounted from create to rm)
};

// A live silo-shim process of this daemon (its cmdline names our runtime root).
struct ObservedShim {
  pid_t pid = 0;
  std::string id;  // the --id it supervises
};

// What the executor found on the host, limited to this daemon's objects.
struct Observed {
  std::vector<std::string> mounts;       // mount points under <root>/containers/
  std::vector<std::string> runtime_ids;  // ids with a runtime state dir
  std::vector<std::string> cgroup_ids;   // ids with a cgroup dir under our parent
  std::vector<ObservedShim> shims;       // live shims
};

struct ReconcileAction {
  enum Kind {
    FinishRemoval,  // a container row left in "removing": finish `docker rm`
    KillShim,       // a shim of a container the store does not run: stop it (pid, id)
    Unmount,        // a stray overlay mount (key = mount point)
    RemoveRuntime,  // a runtime state dir with no shim (id)
    DestroyCgroup,  // a cgroup with no shim (id)
    Forget,         // a journal row whose object is gone (kind, key)
  } kind;
  std::string id;            // container id (KillShim, RemoveRuntime, DestroyCgroup, FinishRemoval)
  pid_t pid = 0;             // KillShim
  std::string key;           // Unmount: path; Forget: journal key
  std::string journal_kind;  // Forget: journal kind
  bool operator==(const ReconcileAction&) const = default;
};

// Human text for the log: "removed stale mount /x", "killed stray shim 123 of <id>".
std::string describe(const ReconcileAction& a);

// The repairs, in the order they must run: finish removals, stop stray shims, then
// unmount, remove runtime state and cgroups, then forget journal rows of objects that are
// gone (or that this plan removes). Containers the store runs (running, paused,
// restarting) keep their shim, runtime state and cgroup; every stored container keeps its
// mount (a "removing" one loses it in FinishRemoval).
std::vector<ReconcileAction> plan_reconcile(const std::vector<KnownContainer>& known,
                                            const std::vector<KernelObject>& journal,
                                            const Observed& seen);

}  // namespace silo::engine
