#pragma once
// silod's Engine API routes beyond the server's built-in /_ping and /version. Each group
// registers its routes on a Router and answers through the engine (containers, exec,
// events) or the state store (lists, volumes). Nothing here touches the kernel directly:
// that is the engine's job (DESIGN.md: api and cli know engine, engine knows runtime).

#include <string>

#include "api/router.h"
#include "api/system.h"
#include "common/error.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "engine/store.h"

namespace silo::daemon {

// What the handlers share. Owned by main(); outlives the server.
struct Context {
  engine::DaemonConfig config;
  engine::Store* store = nullptr;
  api::VersionInfo version;
  std::string daemon_id;               // stable per data root (<root>/engine-id)
  std::string runtime_path;            // silo-runc next to silod
  engine::Engine* engine = nullptr;    // containers and images, owned by main()
  engine::EventBus* events = nullptr;  // owned by main()
};

// GET /info, GET /system/df (routes_system.cc).
[[nodiscard]] Status add_system_info_routes(api::Router& router, const Context& ctx);
// GET /containers/json (routes_containers.cc).
[[nodiscard]] Status add_container_list_routes(api::Router& router, const Context& ctx);
// GET /volumes, POST /volumes/create, GET and DELETE /volumes/{name} (routes_volumes.cc).
[[nodiscard]] Status add_volume_routes(api::Router& router, const Context& ctx);
// GET /networks, POST /networks/create and /prune, GET and DELETE /networks/{id},
// POST /networks/{id}/connect and /disconnect; GET, POST, DELETE /silo/nat
// (routes_networks.cc).
[[nodiscard]] Status add_network_routes(api::Router& router, const Context& ctx);
// Container lifecycle: create, start, stop, restart, kill, pause, unpause, rename, wait,
// DELETE, GET /containers/{name}/json, POST /containers/prune; GET /images/json and
// /images/{name}/json for the seed image (routes_lifecycle.cc).
[[nodiscard]] Status add_lifecycle_routes(api::Router& router, const Context& ctx);
// GET /images/json, GET /images/{name}/json and /history, POST /images/{name}/tag,
// DELETE /images/{name} (routes_images.cc).
[[nodiscard]] Status add_image_routes(api::Router& router, const Context& ctx);
// POST /images/load, GET /images/get and /images/{name}/get, POST /commit
// (routes_images_archive.cc).
[[nodiscard]] Status add_image_archive_routes(api::Router& router, const Context& ctx);
// The reference the "repo" and "tag" parameters name together ("busybox" + "1"), "" when
// there is no repo (tag, import, commit).
std::string repo_tag(const api::Query& q);
// docker import: POST /images/create with fromSrc (routes_images_registry.cc serves the
// route and hands imports here).
[[nodiscard]] Result<api::Response> images_import(const Context& ctx, api::Call& c);
// POST /build (routes_build.cc; the builder is build.h).
[[nodiscard]] Status add_build_routes(api::Router& router, const Context& ctx);
// POST /images/create (pull), POST /images/{name}/push, POST /auth (routes_images_registry.cc).
[[nodiscard]] Status add_image_registry_routes(api::Router& router, const Context& ctx);
// Container I/O: logs, attach (+ attach/ws is not served), resize; exec create, start,
// inspect, resize (routes_io.cc).
[[nodiscard]] Status add_io_routes(api::Router& router, const Context& ctx);
// Observation: events, stats, top, export, changes, archive (HEAD/GET/PUT), system prune
// (routes_observe.cc).
[[nodiscard]] Status add_observe_routes(api::Router& router, const Context& ctx);

// Docker's summary of one container (types.Container), as /containers/json and
// /system/df return it. `with_size` adds SizeRw and SizeRootFs (0 until images exist).
[[nodiscard]] Json container_summary(const engine::ContainerRecord& c, bool with_size);
// Docker's Volume object for one stored volume.
[[nodiscard]] Json volume_json(const engine::VolumeRecord& v);

}  // namespace silo::daemon
