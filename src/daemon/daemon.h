#pragma once
// silod's Engine API routes beyond the server's built-in /_ping and /version: system
// information, the container list and volumes. Each group registers its routes on a
// Router and answers from the state store; nothing here touches the kernel beyond the
// volumes' directories.

#include <string>

#include "api/router.h"
#include "api/system.h"
#include "common/error.h"
#include "engine/config.h"
#include "engine/store.h"

namespace silo::daemon {

// What the handlers share. Owned by main(); outlives the server.
struct Context {
  engine::DaemonConfig config;
  engine::Store* store = nullptr;
  api::VersionInfo version;
  std::string daemon_id;     // stable per data root (<root>/engine-id)
  std::string runtime_path;  // silo-runc next to silod
};

// GET /info, GET /system/df (routes_system.cc).
[[nodiscard]] Status add_system_info_routes(api::Router& router, const Context& ctx);
// GET /containers/json (routes_containers.cc).
[[nodiscard]] Status add_container_list_routes(api::Router& router, const Context& ctx);
// GET /volumes, POST /volumes/create, GET and DELETE /volumes/{name} (routes_volumes.cc).
[[nodiscard]] Status add_volume_routes(api::Router& router, const Context& ctx);

// Docker's summary of one container (types.Container), as /containers/json and
// /system/df return it. `with_size` adds SizeRw and SizeRootFs (0 until images exist).
[[nodiscard]] Json container_summary(const engine::ContainerRecord& c, bool with_size);
// Docker's Volume object for one stored volume.
[[nodiscard]] Json volume_json(const engine::VolumeRecord& v);

}  // namespace silo::daemon
