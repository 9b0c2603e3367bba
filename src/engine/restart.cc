// Restart decisions (see restart.h). The order of steps follows moby's
// restartmanager.ShouldRestart so the back-off matches dockerd's to the millisecond.

#include "engine/restart.h"

#include <algorithm>

namespace silo::engine {

Result<RestartPolicy> restart_policy_from(const Json& host_config) {
  RestartPolicy p;
  if (!host_config.is_object()) return p;
  auto it = host_config.find("RestartPolicy");
  if (it == host_config.end() || !it->is_object()) return p;
  SILO_TRY(get_opt(*it, "Name", p.name, "HostConfig.RestartPolicy"));
  SILO_TRY(get_opt(*it, "MaximumRetryCount", p.max_retries, "HostConfig.RestartPolicy"));
  if (p.name.empty()) p.name = "no";
  if (p.name != "no" && p.name != "always" && p.name != "unless-stopped" && p.name != "on-failure")
    return fail(Code::Invalid, "invalid restart policy '" + p.name + "'");
  return p;
}

RestartDecision decide_restart(const RestartPolicy& p, RestartTracker& t, int64_t exit_code,
                               bool manually_stopped, std::chrono::milliseconds ran_for) {
  if (ran_for >= kRestartResetAfter) t.backoff = std::chrono::milliseconds{0};
  if (t.backoff.count() == 0)
    t.backoff = kRestartFirstDelay;
  else if (t.backoff < kRestartMaxDelay)
    t.backoff *= 2;
  t.backoff = std::min(t.backoff, kRestartMaxDelay);

  bool restart = false;
  if (manually_stopped)
    restart = false;  // a stop by the user cancels the restart manager until the next start
  else if (p.name == "always" || p.name == "unless-stopped")
    restart = true;
  else if (p.name == "on-failure" && (p.max_retries == 0 || t.count < p.max_retries))
    restart = exit_code != 0;
  if (!restart) return {};
  ++t.count;
  return {.restart = true, .delay = t.backoff};
}

bool restart_on_boot(const RestartPolicy& p, int64_t exit_code, bool manually_stopped,
                     int64_t restart_count) {
  if (p.name == "always") return true;
  if (p.name == "unless-stopped") return !manually_stopped;
  if (p.name == "on-failure")
    return !manually_stopped && exit_code != 0 &&
           (p.max_retries == 0 || restart_count < p.max_retries);
  return false;
}

}  // namespace silo::engine
