#pragma once
// Docker's command-line grammar (spf13/pflag as docker configures it): long flags with
// "--name value" or "--name=value", short flags combinable ("-it", "-itd"), a value glued to
// the last short flag ("-p80:80", "-eA=1"), repeatable flags, "--" ending the flags, and for
// run/create/exec flags that stop at the first positional argument, so that
// `silo run busybox ls -l` passes -l to the container.
//
// Why not CLI11 (which is installed, 2.1.2): its positional/extras handling either stops
// at the first positional for the whole app (prefix_command) or takes flags after
// positionals everywhere, and reports errors in its own words; docker's grammar needs
// both behaviours per command and docker's messages ("unknown flag: --x"), and one
// table per command shared by run and create is all that is needed. This parser is
// ~150 lines.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace silo::cli {

// One flag: "e,env" (short and long names, comma-separated; a short name is one letter).
struct FlagSpec {
  std::string names;
  bool takes_value = false;
};

// The parsed command line.
struct Parsed {
  // Values by canonical name (the first long name, or the short one); booleans hold
  // "true"/"false".
  std::map<std::string, std::vector<std::string>> values;
  std::vector<std::string> args;  // positional arguments, in order

  // Whether the flag was given.
  [[nodiscard]] bool has(const std::string& name) const { return values.contains(name); }
  // The last value given, or `def`.
  [[nodiscard]] std::string get(const std::string& name, const std::string& def = {}) const;
  // Every value given, in order.
  [[nodiscard]] std::vector<std::string> all(const std::string& name) const;
  // A boolean flag: given and not "false".
  [[nodiscard]] bool on(const std::string& name) const;
};

// Parses `argv` (the words after the command name) against `specs`. With
// `interspersed` false, the first positional ends the flags. Invalid error "unknown flag:
// --x", "unknown shorthand flag: 'x' in -x", "flag needs an argument: --name".
[[nodiscard]] Result<Parsed> parse_flags(const std::vector<FlagSpec>& specs,
                                         const std::vector<std::string>& argv, bool interspersed);

}  // namespace silo::cli
