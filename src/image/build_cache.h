#pragma once
// The classic builder's step model: what each instruction does to the image config
// (a pure function), the command Docker records for the step (ContainerConfig.Cmd and
// history created_by, e.g. `/bin/sh -c #(nop)  CMD ["x"]`), the history entry, and the
// cache key that decides whether a step can reuse an earlier build's image.

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/quote.h"
#include "image/build_args.h"
#include "image/config.h"
#include "image/dockerfile.h"

namespace silo::image {

// The config after a metadata step (ENV, LABEL, CMD, ENTRYPOINT, WORKDIR, USER, EXPOSE,
// VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL, ONBUILD, MAINTAINER), with the instruction's
// words substituted from `args` and the config's Env. RUN, COPY, ADD, ARG and FROM
// return the config unchanged (their effect is a layer or build state). ENTRYPOINT
// clears a Cmd that was inherited rather than set by a CMD earlier in this stage
// (`cmd_set_in_stage`), as Docker does. Invalid errors name the line and the word
// ("EXPOSE 80a: invalid containerPort: 80a").
[[nodiscard]] Result<ImageConfig> apply_step(const ImageConfig& config, const Instruction& ins,
                                             const BuildArgs& args, bool cmd_set_in_stage = false);

// How a step is recorded.
struct StepRecord {
  std::vector<std::string> cmd;  // ContainerConfig.Cmd
  std::string created_by;        // history created_by: cmd joined with " "
  bool empty_layer = true;       // metadata steps make no layer
};

// The record of `ins` run on `before` (the config the step starts from).
// `source_checksum` is the COPY/ADD sources' checksum (build_context.h).
[[nodiscard]] Result<StepRecord> step_record(const ImageConfig& before, const Instruction& ins,
                                             const BuildArgs& args,
                                             std::string_view source_checksum = {});

// The cache key of a step: parent image id, the recorded command, the resulting config and,
// for COPY/ADD, the source checksum and --chown/--chmod. "sha256:<hex>"; two steps with
// the same key produce the same image.
std::string cache_key(std::string_view parent_id, const StepRecord& record,
                      const ImageConfig& after, const Instruction& ins,
                      std::string_view source_checksum = {});

// The history entry of a step.
HistoryEntry history_entry(const StepRecord& record, std::string created);

// Go's %q of a string and of a []string (`["a" "b"]`), as Docker's records use them.
using silo::go_quote;
std::string go_quote(const std::vector<std::string>& v);

}  // namespace silo::image
