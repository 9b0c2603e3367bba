// Reconcile planning (see reconcile.h).

#include "engine/reconcile.h"

#include <map>

namespace silo::engine {
namespace {

bool runs(const std::string& status) {
  return status == "running" || status == "paused" || status == "restarting";
}

}  // namespace

std::string describe(const ReconcileAction& a) {
  switch (a.kind) {
    case ReconcileAction::FinishRemoval:
      return "finished removal of container " + a.id;
    case ReconcileAction::KillShim:
      return "stopped stray shim " + std::to_string(a.pid) + " of container " + a.id;
    case ReconcileAction::Unmount:
      return "removed stale mount " + a.key;
    case ReconcileAction::RemoveRuntime:
      return "removed runtime state of container " + a.id;
    case ReconcileAction::DestroyCgroup:
      return "removed stale cgroup of container " + a.id;
    case ReconcileAction::Forget:
      return "forgot journal row " + a.journal_kind + " " + a.key;
  }
  return "?";
}

std::vector<ReconcileAction> plan_reconcile(const std::vector<KnownContainer>& known,
                                            const std::vector<KernelObject>& journal,
                                            const Observed& seen) {
  using A = ReconcileAction;
  std::map<std::string, const KnownContainer*> by_id;
  std::set<std::string> kept_mounts;
  for (const auto& c : known) {
    by_id[c.id] = &c;
    kept_mounts.insert(c.rootfs);  // a "removing" one is unmounted by FinishRemoval
  }
  auto live = [&](const std::string& id) {
    auto it = by_id.find(id);
    return it != by_id.end() && runs(it->second->status);
  };
  std::vector<A> out;
  for (const auto& c : known)
    if (c.status == "removing") out.push_back({.kind = A::FinishRemoval, .id = c.id});

  std::set<std::string> shim_alive;
  for (const auto& s : seen.shims) {
    if (live(s.id)) {
      shim_alive.insert(s.id);
      continue;
    }
    out.push_back({.kind = A::KillShim, .id = s.id, .pid = s.pid});
  }
  std::set<std::string> gone_mounts;
  for (const auto& m : seen.mounts) {
    if (kept_mounts.contains(m)) continue;
    out.push_back({.kind = A::Unmount, .key = m});
    gone_mounts.insert(m);
  }
  // A container the store runs keeps its runtime state and cgroup even when its shim was
  // not seen: it may be starting (a restart timer) while reconcile looks.
  auto keep = [&](const std::string& id) { return shim_alive.contains(id) || live(id); };
  for (const auto& id : seen.runtime_ids)
    if (!keep(id)) out.push_back({.kind = A::RemoveRuntime, .id = id});
  std::set<std::string> cgroups_left;
  for (const auto& id : seen.cgroup_ids) {
    if (keep(id)) {
      cgroups_left.insert(id);
      continue;
    }
    out.push_back({.kind = A::DestroyCgroup, .id = id});
  }

  std::set<std::string> mounted(seen.mounts.begin(), seen.mounts.end());
  for (const auto& j : journal) {
    bool gone = true;
    if (j.kind == "mount")
      gone = !mounted.contains(j.key) || gone_mounts.contains(j.key);
    else if (j.kind == "shim")
      gone = !shim_alive.contains(j.key);
    else if (j.kind == "cgroup")
      gone = !cgroups_left.contains(j.owner);
    else
      continue;  // another subsystem's object: not ours to judge
    if (gone) out.push_back({.kind = A::Forget, .key = j.key, .journal_kind = j.kind});
  }
  return out;
}

}  // namespace silo::engine
