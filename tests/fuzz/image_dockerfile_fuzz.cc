// Fuzz target for the Dockerfile parser: parse_dockerfile on raw bytes, then substitution
// of every instruction. Invariants checked: nothing throws or crashes; every error is
// Invalid and names its line ("Dockerfile parse error ..."); each instruction's joined
// text parses again to the same instruction; healthcheck durations print as Go does and
// parse back to the same value.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "image/build_args.h"
#include "image/dockerfile.h"

namespace {

using namespace silo::image;

void check_instruction(const Instruction& ins, const Vars& vars) {
  auto again = parse_instruction(ins.original, ins.line, ins.escape);
  if (!again || again->keyword != ins.keyword || again->args != ins.args ||
      again->pairs.size() != ins.pairs.size())
    std::abort();
  if (ins.healthcheck)
    for (int64_t ns : {ins.healthcheck->interval_ns, ins.healthcheck->timeout_ns,
                       ins.healthcheck->start_period_ns}) {
      auto back = parse_go_duration(format_go_duration(ns));
      if (!back || *back != ns) std::abort();
    }
  auto expanded = expand_instruction(ins, vars);
  if (!expanded && !expanded.error().message.starts_with("Dockerfile parse error line "))
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto df = parse_dockerfile(text);
  if (!df) {
    if (df.error().code != silo::Code::Invalid ||
        !df.error().message.starts_with("Dockerfile parse error"))
      std::abort();
    return 0;
  }
  BuildArgs args(std::map<std::string, std::string>{{"A", "1"}, {"HTTP_PROXY", "p"}});
  for (const Instruction& meta : df->meta_args) (void)args.declare_meta(meta);
  Vars vars{{"A", "x"}, {"B", ""}, {"PATH", "/bin"}};
  for (const Stage& stage : df->stages) {
    (void)resolve_base(stage, args);
    args.begin_stage();
    check_instruction(stage.from, vars);
    for (const Instruction& ins : stage.instructions) {
      if (ins.keyword == Keyword::Arg) (void)args.declare(ins, {"PATH=/bin"});
      check_instruction(ins, args.stage_vars({"PATH=/bin"}));
    }
  }
  return 0;
}
