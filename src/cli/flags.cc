#include "cli/flags.h"

#include <optional>

namespace silo::cli {
namespace {

struct Found {
  const FlagSpec* spec;
  std::string key;
};

std::vector<std::string> split_names(const std::string& names) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= names.size()) {
    auto comma = names.find(',', start);
    if (comma == std::string::npos) comma = names.size();
    out.push_back(names.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// The canonical key of a spec: its first long name, else its short name.
std::string key_of(const FlagSpec& s) {
  auto names = split_names(s.names);
  for (const auto& n : names)
    if (n.size() > 1) return n;
  return names.front();
}

std::optional<Found> lookup(const std::vector<FlagSpec>& specs, std::string_view name) {
  for (const auto& s : specs)
    for (const auto& n : split_names(s.names))
      if (n == name) return Found{&s, key_of(s)};
  return std::nullopt;
}

}  // namespace

std::string Parsed::get(const std::string& name, const std::string& def) const {
  auto it = values.find(name);
  return it == values.end() || it->second.empty() ? def : it->second.back();
}

std::vector<std::string> Parsed::all(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? std::vector<std::string>{} : it->second;
}

bool Parsed::on(const std::string& name) const {
  auto it = values.find(name);
  return it != values.end() && !it->second.empty() && it->second.back() != "false";
}

Result<Parsed> parse_flags(const std::vector<FlagSpec>& specs, const std::vector<std::string>& argv,
                           bool interspersed) {
  Parsed p;
  size_t i = 0;
  auto take_value = [&](const std::string& flag) -> Result<std::string> {
    if (i + 1 >= argv.size()) return fail(Code::Invalid, "flag needs an argument: " + flag);
    return argv[++i];
  };
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      for (++i; i < argv.size(); ++i) p.args.push_back(argv[i]);
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      if (!interspersed) {
        for (; i < argv.size(); ++i) p.args.push_back(argv[i]);
        break;
      }
      p.args.push_back(a);
      continue;
    }
    if (a.starts_with("--")) {
      auto eq = a.find('=');
      std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      auto f = lookup(specs, name);
      if (!f || name.size() < 2) return fail(Code::Invalid, "unknown flag: --" + name);
      if (eq != std::string::npos) {
        p.values[f->key].push_back(a.substr(eq + 1));
      } else if (f->spec->takes_value) {
        auto v = take_value("--" + name);
        if (!v) return std::unexpected(v.error());
        p.values[f->key].push_back(*v);
      } else {
        p.values[f->key].push_back("true");
      }
      continue;
    }
    // Short flags, combinable; a value-taking one takes the rest of the word or the next.
    for (size_t k = 1; k < a.size(); ++k) {
      auto f = lookup(specs, std::string(1, a[k]));
      if (!f)
        return fail(Code::Invalid, std::string("unknown shorthand flag: '") + a[k] + "' in " + a);
      if (!f->spec->takes_value) {
        if (k + 1 < a.size() && a[k + 1] == '=') {
          p.values[f->key].push_back(a.substr(k + 2));
          break;
        }
        p.values[f->key].push_back("true");
        continue;
      }
      if (k + 1 < a.size()) {
        std::string rest = a.substr(k + 1);
        if (rest.starts_with("=")) rest = rest.substr(1);
        p.values[f->key].push_back(rest);
      } else {
        auto v = take_value(std::string("-") + a[k]);
        if (!v) return std::unexpected(v.error());
        p.values[f->key].push_back(*v);
      }
      break;
    }
  }
  return p;
}

}  // namespace silo::cli
