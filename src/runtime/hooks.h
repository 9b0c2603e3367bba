#pragma once
// OCI hooks run by the runtime (prestart, createRuntime, poststart, poststop) in the
// runtime's namespaces, with the container state JSON on stdin.

#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/spec.h"

namespace silo::runtime {

// Runs `hooks` in order; the first failure stops the rest. `kind` names them in errors:
// "hook prestart /usr/bin/x exited with status 2: <its stderr>". A hook past its timeout
// is killed and reported.
[[nodiscard]] Status run_hooks(const std::vector<Hook>& hooks, const std::string& kind,
                               const std::string& state_json);

// Parses the "hooks" object of a stored config.json (for poststop at delete time).
std::vector<Hook> hooks_from_config(const Json& config, const char* key);

}  // namespace silo::runtime
