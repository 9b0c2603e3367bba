#pragma once
// Variable substitution in Dockerfile instructions, as BuildKit's frontend/dockerfile/shell
// lexer does it (ProcessWord): $var, ${var}, ${var:-default}, ${var-default},
// ${var:+alt}, ${var+alt}, ${var:?message}, ${var?message}; single quotes keep text
// literal, double quotes allow substitution, the escape character (\ or `) escapes the
// next character ($ included), and quotes are removed from the result.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace silo::image {

// The variables a substitution sees: name -> value. A name that is absent is unset.
using Vars = std::map<std::string, std::string, std::less<>>;

// Expands one word. Invalid errors say what is wrong: an unterminated quote, a missing
// "}", an unsupported modifier ("${a/b/c}"), or the message of a ${var?message}.
[[nodiscard]] Result<std::string> expand_word(std::string_view word, const Vars& vars,
                                              char escape = '\\');

// Vars from a "KEY=value" list (a config's Env); later entries win.
Vars vars_from_env(const std::vector<std::string>& env);

}  // namespace silo::image
