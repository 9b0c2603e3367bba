#pragma once
// Restart policies as dockerd's restart manager applies them: the pure decision whether an
// exited container is started again, and after how long. No clock, no I/O.

#include <chrono>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "common/json.h"

namespace silo::engine {

// HostConfig.RestartPolicy: "no" (or ""), "always", "unless-stopped", "on-failure" with an
// optional MaximumRetryCount (0 = unlimited).
struct RestartPolicy {
  std::string name = "no";
  int64_t max_retries = 0;
};

// Reads HostConfig.RestartPolicy; a missing or null one is "no".
// Errors: Invalid "invalid restart policy <name>" as dockerd.
[[nodiscard]] Result<RestartPolicy> restart_policy_from(const Json& host_config);

// The restart manager's memory between exits of one container (kept by the engine).
struct RestartTracker {
  std::chrono::milliseconds backoff{0};  // the last delay; 0 = none yet
  int64_t count = 0;                     // restarts since the last manual start
};

struct RestartDecision {
  bool restart = false;
  std::chrono::milliseconds delay{0};  // wait this long (status "restarting") first
};

// Docker's back-off: 100 ms, doubling, capped at 1 minute, reset once the container ran
// for 10 s or more.
inline constexpr std::chrono::milliseconds kRestartFirstDelay{100};
inline constexpr std::chrono::milliseconds kRestartMaxDelay{60000};
inline constexpr std::chrono::seconds kRestartResetAfter{10};

// Decides after an exit. Updates `t` (back-off, count) as dockerd's ShouldRestart does.
// `manually_stopped`: the exit followed `docker stop`/`kill` by the user, which cancels
// restarts of every policy until the next start.
RestartDecision decide_restart(const RestartPolicy& p, RestartTracker& t, int64_t exit_code,
                               bool manually_stopped, std::chrono::milliseconds ran_for);

// Whether the daemon starts this stopped container when it boots: "always" does (even
// after a manual stop), "unless-stopped" unless it was stopped by hand, "on-failure" when
// it exited non-zero and retries are left.
bool restart_on_boot(const RestartPolicy& p, int64_t exit_code, bool manually_stopped,
                     int64_t restart_count);

}  // namespace silo::engine
