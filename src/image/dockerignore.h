#pragma once
// .dockerignore, with the semantics of Docker's moby/patternmatcher: one pattern per line,
// `#` comments, patterns cleaned like Go's filepath.Clean (a leading "/" or "./" dropped),
// `*` and `?` within one path element, `[...]` classes, `**` across any number of
// elements, `\` escapes, `!` exceptions; the last pattern that matches a path decides, and
// a path is excluded when it or one of its parent directories is.

#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace silo::image {

class IgnoreMatcher {
 public:
  struct Pattern {
    std::string text;  // cleaned, without the "!"
    bool exception = false;
    std::regex regex;
  };

  IgnoreMatcher() = default;
  // Parses the text of a .dockerignore. Invalid errors name the line and the pattern
  // (".dockerignore line 3: pattern "[a": syntax error in pattern").
  [[nodiscard]] static Result<IgnoreMatcher> parse(std::string_view text);
  // From patterns already split into lines ("!keep.md" for an exception).
  [[nodiscard]] static Result<IgnoreMatcher> from_patterns(const std::vector<std::string>& lines);

  // Whether `path` (relative to the context root, "/"-separated) is excluded: it or a
  // parent directory matches, and no later exception takes it back
  // (MatchesOrParentMatches).
  bool excluded(std::string_view path) const;
  // For an excluded directory: whether an exception could still take back something
  // inside it, so a walk has to descend. False means the whole tree can be skipped.
  bool may_include_inside(std::string_view dir) const;

  bool empty() const { return patterns_.empty(); }
  const std::vector<Pattern>& patterns() const { return patterns_; }

 private:
  std::vector<Pattern> patterns_;
};

// Go's filepath.Clean for "/"-separated paths: no empty or "." elements, ".." resolved
// lexically, "" becomes ".".
std::string clean_path(std::string_view path);

}  // namespace silo::image
