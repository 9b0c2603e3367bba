#pragma once
// `--change` for docker import and docker commit: Dockerfile instructions applied to an
// image's run config (the "config" object of the image config, in Docker's JSON spelling).
// Docker's allowed set: CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD,
// STOPSIGNAL, USER, VOLUME, WORKDIR.

#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace silo::image {

// Applies `changes` in order to `run_config` (a JSON object; Docker's container.Config
// fields: Cmd, Entrypoint, Env, ExposedPorts, Healthcheck, Labels, OnBuild, StopSignal, User,
// Volumes, WorkingDir). As Docker's BuildFromConfig, the changes are joined by newlines and
// read as a Dockerfile (comments, blank lines and backslash continuations allowed), and
// ENTRYPOINT clears Cmd unless a CMD came before it. Variables are not expanded.
// Invalid, with Docker's words: "run is not a valid change command", "EXPOSE: invalid
// containerPort: abc", "Unknown signal: SIGFOO", "ENV requires at least one argument", ...
// On an error `run_config` is left as it was.
[[nodiscard]] Status apply_changes(Json& run_config, const std::vector<std::string>& changes);

}  // namespace silo::image
