#pragma once
// The observation route group's parts (routes_observe*.cc); add_observe_routes in
// daemon.h registers them all.

#include <cstdint>
#include <string_view>

#include "api/router.h"
#include "common/error.h"
#include "daemon/daemon.h"
#include "engine/store.h"

namespace silo::daemon {

// GET /events (routes_observe.cc).
[[nodiscard]] Status add_events_routes(api::Router& router, const Context& ctx);
// GET /containers/{name}/stats and /top (routes_observe_stats.cc).
[[nodiscard]] Status add_stats_routes(api::Router& router, const Context& ctx);
// export, changes, HEAD/GET/PUT archive (routes_observe_files.cc).
[[nodiscard]] Status add_file_routes(api::Router& router, const Context& ctx);

// dockerd's timetypes.GetTimestamp for since/until: Unix seconds ("1700000000",
// "1700000000.5"), RFC 3339 ("2026-11-23T10:00:00Z", with fraction or offset, or a bare
// date), or a Go duration before `now_nano` ("10m"). Nanoseconds since the epoch; 0 for "".
// Errors: Invalid naming the value.
[[nodiscard]] Result<int64_t> parse_event_time(std::string_view value, int64_t now_nano);

// Whether an event passes GET /events filters (container, event, type, label, image,
// volume, network, daemon, scope), as dockerd's events.Filter.
[[nodiscard]] bool event_matches(const engine::EventRecord& ev, const api::Filters& filters);

// Checks the filter names GET /events accepts. Errors: Invalid "invalid filter 'x'".
[[nodiscard]] Status validate_event_filters(const api::Filters& filters);

}  // namespace silo::daemon
