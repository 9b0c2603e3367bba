// remove (docker rm [-f] [-v]), --rm after exit, and prune.

#include <sys/mount.h>

#include <filesystem>

#include "common/log.h"
#include "common/sys.h"
#include "engine/engine_impl.h"
#include "engine/units.h"
#include "runtime/container.h"

namespace silo::engine {
namespace {

// dockerd's refusals for a container that still runs.
Status removable(const ContainerRecord& rec) {
  const std::string& s = rec.state.status;
  if (s == "paused")
    return fail(Code::Conflict, "You cannot remove a paused container " + rec.id +
                                    ". Unpause and then stop the container before attempting "
                                    "removal or force remove");
  if (s == "restarting")
    return fail(Code::Conflict, "You cannot remove a restarting container " + rec.id +
                                    ". Stop the container before attempting removal or force "
                                    "remove");
  if (s == "running")
    return fail(Code::Conflict, "You cannot remove a running container " + rec.id +
                                    ". Stop the container before attempting removal or force "
                                    "remove");
  return {};
}

}  // namespace

Status Engine::Impl::unmount_rootfs(const std::string& id) {
  auto p = self->paths(id);
  for (const auto& m : mounts_under(p.dir)) {
    // MNT_DETACH: a process (a docker cp, an exec) may still hold the merged root; the
    // kernel frees it once they let go.
    SILO_TRY_CTX(sys::umount2(m, MNT_DETACH), "unmount " + m);
  }
  (void)store->forget_kernel_object("mount", p.rootfs);
  return {};
}

Status Engine::Impl::remove_locked(ContainerRecord& rec, bool remove_volumes) {
  const std::string id = rec.id;
  rec.state.status = "removing";
  SILO_TRY(store->set_state(id, rec.state));
  monitor->cancel(id);
  auto p = self->paths(id);
  if (sys::path_exists(state_dir.dir(id))) (void)runtime::remove(state_dir, id, true);
  SILO_TRY(unmount_rootfs(id));
  SILO_TRY_CTX(sys::remove_all(p.shim_dir), "remove " + p.shim_dir);
  SILO_TRY_CTX(sys::remove_all(p.dir), "remove " + p.dir);
  std::vector<std::string> anon;
  if (auto it = rec.shim.find("anon_volumes"); it != rec.shim.end() && it->is_array())
    for (const auto& v : *it)
      if (v.is_string()) anon.push_back(v.get<std::string>());
  if (auto it = rec.shim.find("volumes"); it != rec.shim.end() && it->is_object())
    for (auto v = it->begin(); v != it->end(); ++v)
      if (!v.key().starts_with("/")) (void)store->remove_volume_ref(id, v.key());
  SILO_TRY(store->remove_container(id));
  if (remove_volumes) {
    for (const auto& name : anon) {
      if (auto ok = store->remove_volume(name); !ok) {
        spdlog::warn("remove {}: anonymous volume {}: {}", id, name, ok.error().message);
        continue;
      }
      (void)sys::remove_all(opts.config.volumes_dir() + "/" + name);
    }
  }
  if (auto rows = store->kernel_objects(id))
    for (const auto& row : *rows) (void)store->forget_kernel_object(row.kind, row.key);
  {
    std::lock_guard g(mu);
    removed_codes[id] = rec.state.exit_code;
    trackers.erase(id);
  }
  cv.notify_all();
  event("destroy", rec);
  return {};
}

Status Engine::remove(std::string_view ref, bool force, bool remove_volumes) {
  auto found = get(ref);
  if (!found) return std::unexpected(found.error());
  const std::string id = found->id;
  Impl& im = *impl_;
  bool was_running = false;
  {
    auto lock = im.lock_of(id);
    std::lock_guard g(*lock);
    auto rec = get(id);
    if (!rec) return std::unexpected(rec.error());
    if (!force) SILO_TRY(removable(*rec));
    if (rec->state.status == "removing")
      return fail(Code::Conflict, "removal of container " + id + " is already in progress");
    rec->shim["manually_stopped"] = true;
    if (rec->state.status == "restarting") {
      im.monitor->cancel(id);
      rec->state.status = "exited";
    }
    SILO_TRY(im.store->update_container(*rec));
    was_running = rec->state.status == "running" || rec->state.status == "paused";
    if (!was_running) return im.remove_locked(*rec, remove_volumes);
  }
  SILO_TRY_CTX(im.kill_and_wait(id, std::chrono::milliseconds(30000)),
               "Could not kill running container " + id + ", cannot remove");
  auto lock = im.lock_of(id);
  std::lock_guard g(*lock);
  auto rec = get(id);
  if (!rec) return {};  // --rm removed it as it exited
  return im.remove_locked(*rec, remove_volumes);
}

Result<Json> Engine::prune(const FilterMap& filters) {
  std::optional<std::string> before;
  for (const auto& [key, values] : filters) {
    if (key != "label" && key != "label!" && key != "until")
      return fail(Code::Invalid, "invalid filter '" + key + "'");
    if (key == "until" && !values.empty()) {
      auto t = parse_docker_time(values.front(), now_unix_nano());
      if (!t) return std::unexpected(t.error());
      std::time_t tt = static_cast<std::time_t>(*t / 1000000000);
      char buf[32];
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", std::gmtime(&tt));
      before = buf;
    }
  }
  auto all = impl_->store->list_containers();
  if (!all) return std::unexpected(all.error());
  Json deleted = Json::array();
  int64_t reclaimed = 0;
  auto has_label = [](const ContainerRecord& c, const std::string& want) {
    size_t eq = want.find('=');
    auto it = c.labels.find(want.substr(0, eq));
    return it != c.labels.end() && (eq == std::string::npos || it->second == want.substr(eq + 1));
  };
  for (const auto& c : *all) {
    if (c.state.status != "exited" && c.state.status != "created" && c.state.status != "dead")
      continue;
    bool ok = true;
    if (auto it = filters.find("label"); it != filters.end())
      for (const auto& w : it->second) ok = ok && has_label(c, w);
    if (auto it = filters.find("label!"); it != filters.end())
      for (const auto& w : it->second) ok = ok && !has_label(c, w);
    if (before && c.created.substr(0, 19) >= *before) ok = false;
    if (!ok) continue;
    int64_t size = disk_usage(paths(c.id).upper);
    if (auto r = remove(c.id, false, false); !r) {
      spdlog::warn("prune {}: {}", c.id, r.error().message);
      continue;
    }
    deleted.push_back(c.id);
    reclaimed += size;
  }
  return Json{{"ContainersDeleted", deleted.empty() ? Json(nullptr) : deleted},
              {"SpaceReclaimed", reclaimed}};
}

}  // namespace silo::engine
