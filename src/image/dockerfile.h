#pragma once
// The Dockerfile parser: Docker's classic syntax as BuildKit's dockerfile frontend reads it
// (parser directives, comments, escape-character line continuations, case-insensitive
// instructions, JSON and shell forms, flags), split into build stages. No Debian package
// parses Dockerfiles, so this is written here, following moby/buildkit's
// frontend/dockerfile/parser and instructions packages.
//
// Parsing does no variable substitution: which variables are visible depends on the stage's
// ARGs, the --build-arg values and the base image's ENV, so build_args.h expands an
// instruction when the builder reaches it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "image/config.h"

namespace silo::image {

enum class Keyword {
  From,
  Run,
  Cmd,
  Entrypoint,
  Copy,
  Add,
  Env,
  Arg,
  Workdir,
  User,
  Expose,
  Label,
  Volume,
  StopSignal,
  Healthcheck,
  Shell,
  Onbuild,
  Maintainer
};

// "FROM", "RUN", ... as Docker prints them.
std::string_view keyword_name(Keyword k);

// A builder flag before the arguments: `--from=build`, `--link`.
struct Flag {
  std::string name;  // without the dashes: "from"
  std::string value;
  bool has_value = false;
};

// One `name=value` of ENV, LABEL or ARG. Key and value are as written (quotes and escapes
// still in place); substitution removes them.
struct KeyValue {
  std::string key, value;
  bool has_value = true;  // false for `ARG name` without a default
};

struct Instruction {
  int line = 0;        // 1-based line of the instruction's first line
  char escape = '\\';  // the file's escape character, which substitution honours too
  Keyword keyword = Keyword::From;
  std::string original;  // the instruction with continuations joined, as written
  std::string rest;      // the text after the keyword and the flags
  std::vector<Flag> flags;
  // RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK CMD: the JSON array's elements, or one element
  // holding the shell-form command. COPY/ADD: the sources then the destination.
  // FROM: image [AS name]. EXPOSE: the ports. VOLUME: the paths. WORKDIR, USER, STOPSIGNAL,
  // MAINTAINER: one element.
  std::vector<std::string> args;
  bool json_form = false;                  // the arguments were a JSON array (exec form)
  std::vector<KeyValue> pairs;             // ENV, LABEL, ARG
  std::optional<Healthcheck> healthcheck;  // HEALTHCHECK (test ["NONE"] for NONE)
  std::vector<Instruction> trigger;        // ONBUILD: the one instruction it stores

  // The value of flag `name`, or nullptr when the instruction does not carry it.
  const Flag* flag(std::string_view name) const;
};

// One build stage: FROM and the instructions up to the next FROM.
struct Stage {
  size_t index = 0;
  std::string name;      // `AS name`, lowercased as Docker does; "" when unnamed
  std::string base;      // the image as written (meta ARGs not yet substituted)
  std::string platform;  // --platform as written, "" when absent
  Instruction from;
  std::vector<Instruction> instructions;
};

struct Dockerfile {
  char escape = '\\';                  // the `# escape=` directive
  std::vector<Instruction> meta_args;  // ARGs before the first FROM
  std::vector<Stage> stages;

  // The stage called `name_or_index` ("build", or "0"), or nullptr. Names compare
  // case-insensitively, as `--target` and `COPY --from` do.
  const Stage* find_stage(std::string_view name_or_index) const;
};

// Parses a whole Dockerfile. Errors are Invalid and read as Docker's:
// "Dockerfile parse error line 3: unknown instruction: FORM".
[[nodiscard]] Result<Dockerfile> parse_dockerfile(std::string_view text);

// Parses the text of one instruction (no continuations), as ONBUILD triggers are stored.
// `line` goes into error messages.
[[nodiscard]] Result<Instruction> parse_instruction(std::string_view text, int line,
                                                    char escape = '\\');

// Parses a Go duration ("30s", "1m30s", "1.5h", "500ms") into nanoseconds. Invalid errors
// name the text.
[[nodiscard]] Result<int64_t> parse_go_duration(std::string_view text);
// Formats nanoseconds as Go's time.Duration.String does ("1m30s", "0s", "1.5s").
std::string format_go_duration(int64_t ns);

namespace detail {
// BuildKit's parseWords: splits on whitespace, keeping quotes and escapes inside the words.
std::vector<std::string> split_words(std::string_view text, char escape);
}  // namespace detail

}  // namespace silo::image
