#pragma once
// The classic builder of `docker build` (POST /build): runs a parsed Dockerfile stage by
// stage over the engine. Each step becomes an image: metadata steps (ENV, CMD, ...) a
// config change with no layer; RUN a container from the previous step's image whose
// changes are committed; COPY/ADD a container (never started) into whose root the sources
// are extracted, then committed. A step whose cache key (image/build_cache.h) an earlier
// build recorded reuses that build's image ("Using cache"). The output is dockerd's
// JSON message stream: {"stream": "Step 1/3 : FROM busybox\n"}, the RUN output, pull
// progress for a base image that is not here, {"aux": {"ID": ...}} and
// "Successfully built/tagged".

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "daemon/daemon.h"
#include "image/build_context.h"
#include "image/dockerfile.h"

namespace silo::daemon {

struct BuildOptions {
  std::vector<std::string> tags;                  // -t, each checked before the build starts
  std::map<std::string, std::string> build_args;  // --build-arg
  std::map<std::string, std::string> labels;      // --label: a LABEL step at the end
  std::string target;                             // --target: the last stage to build
  bool no_cache = false;                          // --no-cache
  bool rm = true;                                 // --rm: remove a step's container after it
  bool force_rm = false;                          // --force-rm: also after a failed step
  bool quiet = false;                             // -q: only the image id
  bool pull = false;                              // --pull: pull every base image again
  std::string network_mode;                       // --network for RUN ("" = default)
};

// One line of the output stream (a JSON message with its newline).
using BuildWriteFn = std::function<void(const std::string& line)>;

// Builds `df` with the unpacked context `bctx`; returns the final image's id. Errors are
// the step's, with dockerd's wording ("The command '/bin/sh -c false' returned a non-zero
// code: 1"). `gone` returns true once the client has left (the build stops).
[[nodiscard]] Result<std::string> run_build(const Context& ctx, const image::BuildContext& bctx,
                                            const image::Dockerfile& df, const BuildOptions& opts,
                                            const BuildWriteFn& write,
                                            const std::function<bool()>& gone);

}  // namespace silo::daemon
