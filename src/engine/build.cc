// What `docker build` needs of the engine: step images, the build cache, the full config
// of a stage's base, and --chown's ids. The Dockerfile itself is run by the daemon's
// builder (src/daemon/build.cc), which makes and removes the step containers through the
// ordinary lifecycle.

#include <sys/stat.h>
#include <unistd.h>

#include "engine/container_config_internal.h"
#include "engine/engine_impl.h"
#include "image/config.h"

namespace silo::engine {
namespace {

// What starting a container leaves in its upper dir that is not the step's work: the
// empty files and directories the runtime makes as mount targets when the image lacks
// them (/etc/hosts and friends are bind-mounted, /proc, /sys and /dev get their own
// file systems). dockerd keeps these in an "init" layer it never commits; here they are
// removed from the stopped step container's upper dir before the diff, unless an image
// layer has the path (then it was not the runtime's).
void drop_mount_targets(const std::string& upper, const std::vector<std::string>& lowers) {
  auto in_lowers = [&](const std::string& rel) {
    struct stat st {};
    for (const auto& l : lowers)
      if (::lstat((l + "/" + rel).c_str(), &st) == 0) return true;
    return false;
  };
  for (const char* f : {"etc/hostname", "etc/hosts", "etc/resolv.conf"}) {
    std::string p = upper + "/" + f;
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0 && !in_lowers(f))
      ::unlink(p.c_str());
  }
  // Deepest first; rmdir leaves a directory that is not empty alone.
  for (const char* d : {"dev/pts", "dev/shm", "dev/mqueue", "dev", "proc", "sys", "etc"})
    if (!in_lowers(d)) ::rmdir((upper + "/" + d).c_str());
}

}  // namespace

Result<image::ImageConfig> Engine::image_build_config(std::string_view ref) {
  auto img = impl_->images->resolve(ref);
  if (!img) return std::unexpected(img.error());
  auto rec = impl_->store->get_image(img->id);
  if (!rec) return std::unexpected(rec.error());
  auto cfg = image::parse_image_config(rec->config);
  if (!cfg) return wrap(cfg.error(), "image " + img->id + " config");
  return cfg;
}

Result<std::string> Engine::build_step(std::string_view container, std::string_view parent_id,
                                       const image::ImageConfig& after,
                                       const std::vector<std::string>& cmd,
                                       const std::string& dir) {
  std::string upper = dir;
  if (!container.empty()) {
    auto rec = get(container);
    if (!rec) return std::unexpected(rec.error());
    if (is_running_status(rec->state.status))
      return fail(Code::Conflict, "build step: container " + rec->id.substr(0, 12) +
                                      " is still running; a step is committed after it exits");
    upper = paths(rec->id).upper;
    auto lower_dirs = lowers(*rec);
    if (!lower_dirs) return std::unexpected(lower_dirs.error());
    drop_mount_targets(upper, *lower_dirs);
  }
  return impl_->images->build_step(parent_id, upper, after, cmd);
}

Result<std::optional<std::string>> Engine::cached_build_step(std::string_view key) {
  return impl_->images->cached_step(key);
}

Status Engine::remember_build_step(std::string_view key, std::string_view id) {
  return impl_->images->remember_step(key, id);
}

Result<std::pair<uint32_t, uint32_t>> Engine::chown_ids(std::string_view container,
                                                        std::string_view spec) {
  std::string rootfs;
  if (!container.empty()) {
    auto rec = get(container);
    if (!rec) return std::unexpected(rec.error());
    rootfs = paths(rec->id).rootfs;
  }
  std::string user(spec);
  if (user.find(':') == std::string::npos) user += ":" + user;
  auto u = detail::resolve_user(user, rootfs, {});
  if (!u) return std::unexpected(u.error());
  return std::pair{u->uid, u->gid};
}

}  // namespace silo::engine
