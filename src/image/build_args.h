#pragma once
// Build-time variables and their scoping, as Docker has them: ARGs before the first FROM
// ("meta" ARGs) are visible only in FROM lines unless a stage declares them again; a
// stage's ARG takes its value from --build-arg, else from its default, else from the meta
// ARG of the same name; ENV (the base image's and the stage's) overrides an ARG of the
// same name. Also: expanding an instruction's words with those variables.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "image/dockerfile.h"
#include "image/shell_words.h"

namespace silo::image {

class BuildArgs {
 public:
  BuildArgs() = default;
  // `provided` is the --build-arg map (a name given without value was already filled in
  // from the client's environment by the CLI, as docker does).
  explicit BuildArgs(std::map<std::string, std::string> provided)
      : provided_(std::move(provided)) {}

  // An ARG before the first FROM. Defaults may use earlier meta ARGs.
  [[nodiscard]] Status declare_meta(const Instruction& arg);
  // Forgets the stage's ARGs, keeping the meta ARGs: call at each FROM.
  void begin_stage() { declared_.clear(); }
  // An ARG inside a stage; defaults are expanded with `env` and the ARGs so far.
  [[nodiscard]] Status declare(const Instruction& arg, const std::vector<std::string>& env);

  // What FROM may use: the meta ARGs with a value.
  Vars meta_vars() const;
  // What the stage's instructions may use: its declared ARGs with a value, then `env`
  // (a config's "KEY=value" list) on top.
  Vars stage_vars(const std::vector<std::string>& env) const;
  // The declared ARGs with a value that `env` does not override, sorted "k=v": the extra
  // environment of a RUN step and the "|N k=v" in its recorded command. The predefined
  // proxy ARGs (HTTP_PROXY, ...) are in the environment without a declaration but never
  // in the record (Docker keeps them out of the image's history).
  std::vector<std::string> run_env(const std::vector<std::string>& env, bool for_record) const;
  // --build-arg names that no ARG declared, for Docker's warning
  // "One or more build-args [x] were not consumed".
  std::vector<std::string> unconsumed() const;

 private:
  std::map<std::string, std::string> provided_;
  std::map<std::string, std::optional<std::string>> meta_;
  std::map<std::string, std::optional<std::string>> declared_;
  std::set<std::string> consumed_;
};

// The instruction with its words substituted, for the instructions Docker substitutes in:
// ADD, COPY (sources, destination, --chown, --chmod), ENV and LABEL (keys and values),
// EXPOSE, VOLUME, WORKDIR, USER, STOPSIGNAL. Others come back unchanged (RUN, CMD and
// ENTRYPOINT are left to the shell; ONBUILD triggers are expanded in the child build).
// Errors name the line and the word.
[[nodiscard]] Result<Instruction> expand_instruction(const Instruction& ins, const Vars& vars);

// The stage's base image after substituting the meta ARGs; Docker's error when it comes
// out blank: "base name (${IMG}) should not be blank".
[[nodiscard]] Result<std::string> resolve_base(const Stage& stage, const BuildArgs& args);

}  // namespace silo::image
