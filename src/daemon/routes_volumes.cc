// Volumes: GET /volumes, POST /volumes/create, GET and DELETE /volumes/{name}. Records
// live in the store (which owns Docker's names and messages); the local driver's data
// directory is <root>/volumes/<name>/_data, as dockerd's.

#include <filesystem>

#include "api/http.h"
#include "common/id.h"
#include "common/sys.h"
#include "daemon/daemon.h"

namespace silo::daemon {
namespace {

using engine::VolumeRecord;

Json labels_json(const engine::Labels& labels) {
  Json j = Json::object();
  for (const auto& [k, v] : labels) j[k] = v;
  return j;
}

Result<engine::Labels> labels_from(const Json& body, const char* key) {
  engine::Labels out;
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_object())
    return fail(Code::Invalid, std::string(key) + ": want an object of strings");
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string())
      return fail(Code::Invalid,
                  std::string(key) + "." + k + ": want a string, got " + v.type_name());
    out[k] = v.get<std::string>();
  }
  return out;
}

bool label_matches(const engine::Labels& labels, const std::string& want) {
  size_t eq = want.find('=');
  auto it = labels.find(want.substr(0, eq));
  if (it == labels.end()) return false;
  return eq == std::string::npos || it->second == want.substr(eq + 1);
}

// dockerd's volume filters: name (substring), driver, label, dangling.
Result<bool> volume_matches(engine::Store& store, const VolumeRecord& v, const api::Filters& f) {
  for (const auto& [key, values] : f) {
    bool any = false;
    for (const auto& want : values) {
      if (key == "name")
        any = any || v.name.find(want) != std::string::npos;
      else if (key == "driver")
        any = any || v.driver == want;
      else if (key == "label")
        any = any || label_matches(v.labels, want);
      else if (key == "dangling") {
        if (want != "true" && want != "false" && want != "1" && want != "0")
          return fail(Code::Invalid, "invalid filter 'dangling=" + want + "'");
        auto users = store.volume_users(v.name);
        if (!users) return std::unexpected(users.error());
        any = any || (users->empty() == (want == "true" || want == "1"));
      } else {
        return fail(Code::Invalid, "invalid filter '" + key + "'");
      }
    }
    if (!any) return false;
  }
  return true;
}

Result<api::Response> list_volumes(const Context& ctx, const api::Request& req) {
  auto filters = req.query.filters();
  if (!filters) return std::unexpected(filters.error());
  auto vols = ctx.store->list_volumes();
  if (!vols) return std::unexpected(vols.error());
  Json list = Json::array();
  for (const auto& v : *vols) {
    auto ok = volume_matches(*ctx.store, v, *filters);
    if (!ok) return std::unexpected(ok.error());
    if (*ok) list.push_back(volume_json(v));
  }
  return api::Response::json({{"Volumes", std::move(list)}, {"Warnings", nullptr}});
}

Result<VolumeRecord> volume_request(const Context& ctx, const Json& body) {
  VolumeRecord rec;
  SILO_TRY(get_opt(body, "Name", rec.name, "body"));
  SILO_TRY(get_opt(body, "Driver", rec.driver, "body"));
  if (rec.name.empty()) rec.name = new_id();  // as dockerd: an anonymous volume
  if (rec.driver.empty()) rec.driver = "local";
  auto labels = labels_from(body, "Labels");
  if (!labels) return std::unexpected(labels.error());
  auto opts = labels_from(body, "DriverOpts");
  if (!opts) return std::unexpected(opts.error());
  if (!opts->empty())
    return fail(Code::Invalid, "create " + rec.name + ": driver options (" + opts->begin()->first +
                                   ", ...) are not supported by silod's local driver yet; "
                                   "create the volume without -o");
  rec.labels = std::move(*labels);
  rec.mountpoint = ctx.config.volumes_dir() + "/" + rec.name + "/_data";
  return rec;
}

Result<api::Response> create_volume(const Context& ctx, const api::Request& req) {
  auto body = req.json_object();
  if (!body) return std::unexpected(body.error());
  auto rec = volume_request(ctx, *body);
  if (!rec) return std::unexpected(rec.error());
  bool existed = ctx.store->get_volume(rec->name).has_value();
  // The store checks the name before anything exists on disk, so the name is a single
  // safe path component by the time it becomes a directory.
  auto stored = ctx.store->create_volume(*rec);
  if (!stored) return std::unexpected(stored.error());
  if (auto made = sys::mkdir_p(stored->mountpoint, 0755); !made) {
    if (!existed) (void)ctx.store->remove_volume(stored->name);
    return wrap(made.error(), "create " + stored->name + ": make its data directory");
  }
  return api::Response::json(volume_json(*stored), 201);
}

Result<api::Response> remove_volume(const Context& ctx, const api::Request& req) {
  std::string name(req.param("name"));
  auto vol = ctx.store->get_volume(name);
  // ?force=1 ignores a missing volume, as `docker volume rm -f`.
  if (!vol && vol.error().code == Code::NotFound && req.query.get_bool("force"))
    return api::Response::empty(204);
  if (!vol) return std::unexpected(vol.error());
  SILO_TRY(ctx.store->remove_volume(name));
  // The store accepted the name when it was created, so this stays under volumes_dir.
  SILO_TRY_CTX(sys::remove_all(ctx.config.volumes_dir() + "/" + name),
               "remove " + name + ": its record is gone but its data directory is left");
  return api::Response::empty(204);
}

// Bytes under a volume's data directory (symlinks not followed), for SpaceReclaimed.
int64_t disk_usage(const std::string& dir) {
  std::error_code ec;
  int64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code fe;
    if (it->is_regular_file(fe) && !it->is_symlink(fe))
      total += static_cast<int64_t>(it->file_size(fe));
  }
  return total;
}

// POST /volumes/prune: removes every volume no container uses, filtered by label /
// label! as dockerd 20.10 (API 1.41 has no "all": named volumes go too).
Result<api::Response> prune_volumes(const Context& ctx, const api::Request& req) {
  auto filters = req.query.filters();
  if (!filters) return std::unexpected(filters.error());
  for (const auto& [key, values] : *filters)
    if (key != "label" && key != "label!")
      return fail(Code::Invalid, "invalid filter '" + key + "'");
  auto vols = ctx.store->list_volumes();
  if (!vols) return std::unexpected(vols.error());
  Json deleted = Json::array();
  int64_t reclaimed = 0;
  for (const auto& v : *vols) {
    bool keep = false;
    if (auto it = filters->find("label"); it != filters->end())
      for (const auto& want : it->second) keep = keep || !label_matches(v.labels, want);
    if (auto it = filters->find("label!"); it != filters->end())
      for (const auto& want : it->second) keep = keep || label_matches(v.labels, want);
    auto users = ctx.store->volume_users(v.name);
    if (keep || !users || !users->empty()) continue;
    std::string dir = ctx.config.volumes_dir() + "/" + v.name;
    int64_t size = disk_usage(dir + "/_data");
    if (!ctx.store->remove_volume(v.name)) continue;  // taken meanwhile: leave it
    if (!sys::remove_all(dir)) continue;
    reclaimed += size;
    deleted.push_back(v.name);
    if (ctx.events)
      ctx.events->publish({.type = "volume",
                           .action = "destroy",
                           .actor_id = v.name,
                           .attributes = {{"driver", v.driver}}});
  }
  return api::Response::json({{"VolumesDeleted", deleted.empty() ? Json(nullptr) : deleted},
                              {"SpaceReclaimed", reclaimed}});
}

}  // namespace

Json volume_json(const VolumeRecord& v) {
  return {{"CreatedAt", v.created},
          {"Driver", v.driver},
          {"Labels", labels_json(v.labels)},
          {"Mountpoint", v.mountpoint},
          {"Name", v.name},
          {"Options", v.options.empty() ? Json(nullptr) : labels_json(v.options)},
          {"Scope", "local"}};
}

Status add_volume_routes(api::Router& router, const Context& ctx) {
  SILO_TRY(
      router.add("GET", "/volumes", [&ctx](api::Call& c) { return list_volumes(ctx, c.req); }));
  SILO_TRY(router.add("POST", "/volumes/prune",
                      [&ctx](api::Call& c) { return prune_volumes(ctx, c.req); }));
  SILO_TRY(router.add("POST", "/volumes/create",
                      [&ctx](api::Call& c) { return create_volume(ctx, c.req); }));
  SILO_TRY(router.add("GET", "/volumes/{name}", [&ctx](api::Call& c) -> Result<api::Response> {
    auto v = ctx.store->get_volume(c.req.param("name"));
    if (!v) return std::unexpected(v.error());
    return api::Response::json(volume_json(*v));
  }));
  return router.add("DELETE", "/volumes/{name}",
                    [&ctx](api::Call& c) { return remove_volume(ctx, c.req); });
}

}  // namespace silo::daemon
