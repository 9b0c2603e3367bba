// A container's files: GET export (tar of the root), GET changes (docker diff), and the
// archive endpoints docker cp uses: HEAD (stat), GET (tar out), PUT (tar in).

#include <filesystem>

#include "api/http.h"
#include "common/base64.h"
#include "common/log.h"
#include "daemon/routes_observe.h"
#include "engine/archive.h"
#include "engine/changes.h"

namespace silo::daemon {
namespace {

// dockerd's containerFileNotFound message for a missing path.
Error not_found(const Error& e, const std::string& path, std::string_view container) {
  if (e.code != Code::NotFound) return e;
  return Error{0, Code::NotFound,
               "Could not find the file " + path + " in container " + std::string(container)};
}

struct Target {
  engine::ContainerRecord rec;
  engine::ContainerPaths paths;
};

Result<Target> target(const Context& ctx, std::string_view ref) {
  auto rec = ctx.engine->get(ref);
  if (!rec) return std::unexpected(rec.error());
  auto paths = ctx.engine->paths(rec->id);
  return Target{std::move(*rec), std::move(paths)};
}

// The root `docker cp` resolves `path` in. A running container's own view
// (/proc/<init>/root) has what the overlay alone lacks: the bind-mounted hostname, hosts
// and resolv.conf, volumes and tmpfs mounts. The whole tree and the kernel's pseudo file
// systems are taken from the overlay instead: reading /proc/kmsg or /sys files from a tar
// walk could block or make no sense. Resolution stays inside that root either way
// (openat2 RESOLVE_IN_ROOT in archive_paths.cc).
std::string cp_root(const Context& ctx, const Target& t, const std::string& path) {
  std::string clean = std::filesystem::path("/" + path).lexically_normal().string();
  if (clean == "/" || clean.starts_with("/proc") || clean.starts_with("/sys"))
    return t.paths.rootfs;
  auto pid = ctx.engine->init_pid(t.rec.id);
  if (!pid) return t.paths.rootfs;
  return "/proc/" + std::to_string(*pid) + "/root";
}

Result<std::string> path_param(const api::Request& req) {
  std::string path = req.query.get("path");
  if (path.empty()) return fail(Code::Invalid, "Path cannot be empty");
  return path;
}

Result<std::string> stat_header(const std::string& root, const std::string& path,
                                std::string_view name) {
  auto st = engine::stat_in_root(root, path);
  if (!st) return std::unexpected(not_found(st.error(), path, name));
  return base64_encode(engine::path_stat_json(*st).dump());
}

Result<api::Response> archive_head(const Context& ctx, const api::Request& req) {
  auto path = path_param(req);
  if (!path) return std::unexpected(path.error());
  auto t = target(ctx, req.param("name"));
  if (!t) return std::unexpected(t.error());
  auto header = stat_header(cp_root(ctx, *t, *path), *path, req.param("name"));
  if (!header) return std::unexpected(header.error());
  auto resp = api::Response::empty(200);
  resp.headers.set("X-Docker-Container-Path-Stat", *header);
  return resp;
}

Result<api::Response> archive_get(const Context& ctx, api::Call& call) {
  auto path = path_param(call.req);
  if (!path) return std::unexpected(path.error());
  auto t = target(ctx, call.req.param("name"));
  if (!t) return std::unexpected(t.error());
  const std::string root = cp_root(ctx, *t, *path);
  auto header = stat_header(root, *path, call.req.param("name"));
  if (!header) return std::unexpected(header.error());
  call.stream_headers.set("X-Docker-Container-Path-Stat", *header);
  SILO_TRY(call.begin_stream(200, "application/x-tar"));
  auto st = engine::tar_path(root, *path, [&](std::string_view d) { return call.write(d); });
  // The head is out: an error can only cut the stream short (the client sees a bad tar).
  if (!st) spdlog::warn("archive {} of {}: {}", *path, t->rec.name, st.error().message);
  return api::Response::empty(200);
}

Result<api::Response> archive_put(const Context& ctx, api::Call& call) {
  auto path = path_param(call.req);
  if (!path) return std::unexpected(path.error());
  auto t = target(ctx, call.req.param("name"));
  if (!t) return std::unexpected(t.error());
  if (t->rec.host_config.value("ReadonlyRootfs", false))
    return fail(Code::Permission, "container rootfs is marked read-only");
  engine::ExtractOptions opts{
      .no_overwrite_dir_non_dir = call.req.query.get_bool("noOverwriteDirNonDir"),
      .copy_uid_gid = call.req.query.get_bool("copyUIDGID")};
  auto st = engine::extract_tar(
      cp_root(ctx, *t, *path), *path, [&](char* buf, size_t n) { return call.read_body(buf, n); },
      opts);
  if (!st) return std::unexpected(not_found(st.error(), *path, call.req.param("name")));
  return api::Response::empty(200);
}

Result<api::Response> export_container(const Context& ctx, api::Call& call) {
  auto t = target(ctx, call.req.param("name"));
  if (!t) return std::unexpected(t.error());
  SILO_TRY(call.begin_stream(200, "application/x-tar"));
  auto st = engine::tar_root(t->paths.rootfs, [&](std::string_view d) { return call.write(d); });
  if (!st) spdlog::warn("export {}: {}", t->rec.name, st.error().message);
  return api::Response::empty(200);
}

Result<api::Response> changes(const Context& ctx, const api::Request& req) {
  auto t = target(ctx, req.param("name"));
  if (!t) return std::unexpected(t.error());
  auto lowers = ctx.engine->lowers(t->rec);
  if (!lowers) return wrap(lowers.error(), "changes of " + t->rec.name);
  auto cs = engine::overlay_changes(t->paths.upper, *lowers);
  if (!cs) return wrap(cs.error(), "changes of " + t->rec.name);
  return api::Response::json(engine::changes_json(*cs));
}

}  // namespace

Status add_file_routes(api::Router& router, const Context& ctx) {
  SILO_TRY(router.add("GET", "/containers/{name}/export",
                      [&ctx](api::Call& c) { return export_container(ctx, c); }));
  SILO_TRY(router.add("GET", "/containers/{name}/changes",
                      [&ctx](api::Call& c) { return changes(ctx, c.req); }));
  SILO_TRY(router.add("HEAD", "/containers/{name}/archive",
                      [&ctx](api::Call& c) { return archive_head(ctx, c.req); }));
  SILO_TRY(router.add("GET", "/containers/{name}/archive",
                      [&ctx](api::Call& c) { return archive_get(ctx, c); }));
  return router.add(
      "PUT", "/containers/{name}/archive", [&ctx](api::Call& c) { return archive_put(ctx, c); },
      api::RouteOptions{.stream_body = true});
}

}  // namespace silo::daemon
