// GET /events: recorded history since `since`, then live events until `until` or until
// the client leaves, one JSON message per line, as dockerd streams them.

#include "daemon/routes_observe.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>

#include "api/http.h"
#include "engine/units.h"

namespace silo::daemon {
namespace {

using engine::EventRecord;

const std::set<std::string> kEventFilters = {"config", "container", "daemon", "event",  "image",
                                             "label",  "network",   "node",   "plugin", "scope",
                                             "secret", "service",   "type",   "volume"};

// FuzzyMatch: the filter value is the whole field or a prefix of it (ids).
bool fuzzy(const std::vector<std::string>& wants, const std::string& id, const std::string& name) {
  for (const auto& w : wants)
    if ((!id.empty() && id.starts_with(w)) || (!name.empty() && name == w)) return true;
  return false;
}

bool exact(const std::vector<std::string>& wants, const std::string& v) {
  return std::find(wants.begin(), wants.end(), v) != wants.end();
}

std::string attr(const EventRecord& ev, const char* key) {
  if (!ev.attributes.is_object()) return "";
  auto it = ev.attributes.find(key);
  return it != ev.attributes.end() && it->is_string() ? it->get<std::string>() : "";
}

bool label_match(const std::vector<std::string>& wants, const EventRecord& ev) {
  for (const auto& w : wants) {
    size_t eq = w.find('=');
    std::string key = w.substr(0, eq);
    if (!ev.attributes.is_object() || !ev.attributes.contains(key)) continue;
    if (eq == std::string::npos || attr(ev, key.c_str()) == w.substr(eq + 1)) return true;
  }
  return false;
}

// An action filter matches "exec_start: sh" by its part before ':' too.
bool action_match(const std::vector<std::string>& wants, const std::string& action) {
  if (exact(wants, action)) return true;
  size_t colon = action.find(':');
  return colon != std::string::npos && exact(wants, action.substr(0, colon));
}

// Writes one event; false once the client has gone.
bool send(api::Call& call, const EventRecord& ev) {
  return call.write(engine::EventBus::message(ev).dump() + "\n").has_value();
}

Result<api::Response> events(const Context& ctx, api::Call& call) {
  const auto& q = call.req.query;
  auto filters = q.filters();
  if (!filters) return std::unexpected(filters.error());
  SILO_TRY(validate_event_filters(*filters));
  int64_t now = engine::now_unix_nano();
  auto since = parse_event_time(q.get("since"), now);
  if (!since) return std::unexpected(since.error());
  auto until = parse_event_time(q.get("until"), now);
  if (!until) return std::unexpected(until.error());
  if (*until != 0 && *since > *until)
    return fail(Code::Invalid, "since time (" + q.get("since") + ") cannot be after until time (" +
                                   q.get("until") + ")");
  // Subscribe before reading the history so nothing falls between the two.
  auto sub = ctx.events->subscribe();
  std::vector<EventRecord> past;
  if (*since != 0) {
    auto h = ctx.events->history(*since);
    if (!h) return wrap(h.error(), "events: read recorded events");
    past = std::move(*h);
  }
  SILO_TRY(call.begin_stream(200, "application/json"));
  int64_t last_seq = 0, last_time = 0;
  int idle = 0;  // quiet 500 ms waits in a row
  for (const auto& ev : past) {
    if (*until != 0 && ev.time_nano > *until) return api::Response::empty(200);
    last_seq = std::max(last_seq, ev.seq);
    last_time = std::max(last_time, ev.time_nano);
    if (event_matches(ev, *filters) && !send(call, ev)) return api::Response::empty(200);
  }
  // An `until` in the past: only history, as dockerd.
  if (*until != 0 && *until <= now) return api::Response::empty(200);
  for (;;) {
    auto wait = std::chrono::milliseconds(500);
    if (*until != 0) {
      int64_t left_ms = (*until - engine::now_unix_nano()) / 1000000;
      if (left_ms <= 0) return api::Response::empty(200);
      wait = std::min(wait, std::chrono::milliseconds(left_ms));
    }
    auto ev = sub->next(wait);
    if (call.stopping() || call.client_gone()) return api::Response::empty(200);
    if (!ev) {
      // The only way to learn that the client left is to write. JSON decoders (Go's
      // json.Decoder in the docker CLI) skip whitespace between messages, so a newline
      // after a quiet spell is harmless. A stream with `until` ends by itself and gets
      // none (docker-py chokes on a trailing lone newline).
      if (*until == 0 && ++idle >= 10) {
        idle = 0;
        if (!call.write("\n")) return api::Response::empty(200);
      }
      continue;
    }
    idle = 0;
    bool seen = ev->seq != 0 ? ev->seq <= last_seq : ev->time_nano <= last_time && !past.empty();
    if (seen) continue;
    if (*until != 0 && ev->time_nano > *until) return api::Response::empty(200);
    if (event_matches(*ev, *filters) && !send(call, *ev)) return api::Response::empty(200);
  }
}

}  // namespace

Result<int64_t> parse_event_time(std::string_view value, int64_t now_nano) {
  if (value.empty()) return 0;
  return engine::parse_docker_time(value, now_nano);
}

Status validate_event_filters(const api::Filters& filters) {
  for (const auto& [key, values] : filters)
    if (!kEventFilters.contains(key)) return fail(Code::Invalid, "invalid filter '" + key + "'");
  return {};
}

bool event_matches(const EventRecord& ev, const api::Filters& f) {
  auto want = [&](const char* key) -> const std::vector<std::string>* {
    auto it = f.find(key);
    return it == f.end() || it->second.empty() ? nullptr : &it->second;
  };
  auto named = [&](const char* key, const char* type) {
    auto w = want(key);
    return !w || (ev.type == type && fuzzy(*w, ev.actor_id, attr(ev, "name")));
  };
  if (auto w = want("event"); w && !action_match(*w, ev.action)) return false;
  if (auto w = want("type"); w && !exact(*w, ev.type)) return false;
  if (auto w = want("label"); w && !label_match(*w, ev)) return false;
  if (auto w = want("scope"); w && !exact(*w, "local")) return false;
  if (!named("container", "container") || !named("volume", "volume") ||
      !named("network", "network") || !named("daemon", "daemon") || !named("plugin", "plugin"))
    return false;
  if (auto w = want("image")) {
    std::string image = ev.type == "image" ? ev.actor_id : attr(ev, "image");
    std::string untagged = image.substr(0, image.rfind(':'));
    if (!exact(*w, image) && !exact(*w, untagged) &&
        !(ev.type == "image" && exact(*w, attr(ev, "name"))))
      return false;
  }
  return true;
}

Status add_observe_routes(api::Router& router, const Context& ctx) {
  SILO_TRY(add_events_routes(router, ctx));
  SILO_TRY(add_stats_routes(router, ctx));
  return add_file_routes(router, ctx);
}

Status add_events_routes(api::Router& router, const Context& ctx) {
  return router.add("GET", "/events", [&ctx](api::Call& c) { return events(ctx, c); });
}

}  // namespace silo::daemon
