#include "image/image_changes.h"

#include <string.h>

#include <cctype>
#include <charconv>
#include <csignal>
#include <filesystem>

namespace silo::image {

namespace {

std::unexpected<Error> invalid(std::string message) {
  return fail(Code::Invalid, std::move(message));
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

struct Instruction {
  std::string word;  // as written
  std::string rest;  // the arguments, trimmed
};

// The Dockerfile that the changes make: one instruction per logical line.
std::vector<Instruction> split(const std::vector<std::string>& changes) {
  std::string text;
  for (const auto& c : changes) text += c + "\n";
  std::vector<Instruction> out;
  std::string logical;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    start = end + 1;
    std::string t = trim(line);
    if (logical.empty() && (t.empty() || t[0] == '#')) continue;
    if (!t.empty() && t.back() == '\\') {
      logical += t.substr(0, t.size() - 1);
      continue;
    }
    logical += t;
    std::string l = trim(logical);
    logical.clear();
    size_t sp = l.find_first_of(" \t");
    out.push_back({l.substr(0, sp), sp == std::string::npos ? "" : trim(l.substr(sp))});
  }
  if (!trim(logical).empty()) {
    std::string l = trim(logical);
    size_t sp = l.find_first_of(" \t");
    out.push_back({l.substr(0, sp), sp == std::string::npos ? "" : trim(l.substr(sp))});
  }
  return out;
}

// The JSON ("exec") form when `rest` is a JSON array of strings, else nothing.
std::optional<std::vector<std::string>> exec_form(const std::string& rest) {
  if (rest.empty() || rest[0] != '[') return std::nullopt;
  auto j = Json::parse(rest, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& v : j) {
    if (!v.is_string()) return std::nullopt;
    out.push_back(v.get<std::string>());
  }
  return out;
}

// Shell words with Docker's quoting: '…' literal, "…" with \-escapes, \x outside quotes.
Result<std::vector<std::string>> words(const std::string& s, const std::string& what) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) out.push_back(std::move(cur)), cur.clear(), in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\\' && i + 1 < s.size()) {
      cur += s[++i];
    } else if (c == '\'' || c == '"') {
      size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (c == '"' && s[j] == '\\' && j + 1 < s.size()) ++j;
        cur += s[j];
      }
      if (j >= s.size())
        return invalid(what + ": unexpected end of statement while looking for matching " +
                       std::string(1, c));
      i = j;
    } else {
      cur += c;
    }
  }
  if (in_word) out.push_back(std::move(cur));
  return out;
}

// ENV and LABEL: "k=v k2=v2", or the legacy "k the rest is the value".
Result<std::vector<std::pair<std::string, std::string>>> pairs(const std::string& rest,
                                                               const std::string& name) {
  std::vector<std::pair<std::string, std::string>> out;
  auto w = words(rest, name);
  if (!w) return std::unexpected(w.error());
  if (w->empty()) return invalid(name + " requires at least one argument");
  if ((*w)[0].find('=') == std::string::npos) {
    if (w->size() < 2) return invalid(name + " requires at least two arguments");
    size_t sp = rest.find_first_of(" \t");
    return std::vector<std::pair<std::string, std::string>>{{(*w)[0], trim(rest.substr(sp))}};
  }
  for (const auto& word : *w) {
    size_t eq = word.find('=');
    if (eq == std::string::npos || eq == 0)
      return invalid("Syntax error - can't find = in \"" + word +
                     "\". Must be of the form: name=value");
    out.emplace_back(word.substr(0, eq), word.substr(eq + 1));
  }
  return out;
}

Json string_array(const std::vector<std::string>& v) {
  Json a = Json::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

Json command(const Json& rc, const std::string& rest) {
  if (auto e = exec_form(rest)) return string_array(*e);
  Json shell = rc.contains("Shell") && rc["Shell"].is_array() && !rc["Shell"].empty()
                   ? rc["Shell"]
                   : Json::array({"/bin/sh", "-c"});
  shell.push_back(rest);
  return shell;
}

Status expose(Json& rc, const std::string& rest) {
  auto w = words(rest, "EXPOSE");
  if (!w) return std::unexpected(w.error());
  if (w->empty()) return invalid("EXPOSE requires at least one argument");
  if (!rc.contains("ExposedPorts") || !rc["ExposedPorts"].is_object())
    rc["ExposedPorts"] = Json::object();
  for (const auto& spec : *w) {
    std::string port = spec, proto = "tcp";
    if (auto slash = spec.find('/'); slash != std::string::npos)
      port = spec.substr(0, slash), proto = lower(spec.substr(slash + 1));
    if (proto != "tcp" && proto != "udp" && proto != "sctp")
      return invalid("EXPOSE: invalid proto: " + proto);
    auto number = [](std::string_view s, unsigned& out) {
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      return ec == std::errc() && p == s.data() + s.size() && out <= 65535;
    };
    unsigned lo = 0, hi = 0;
    auto dash = port.find('-');
    bool ok = dash == std::string::npos
                  ? number(port, lo) && (hi = lo, true)
                  : number(std::string_view(port).substr(0, dash), lo) &&
                        number(std::string_view(port).substr(dash + 1), hi) && lo <= hi;
    if (!ok) return invalid("EXPOSE: invalid containerPort: " + port);
    for (unsigned p = lo; p <= hi; ++p)
      rc["ExposedPorts"][std::to_string(p) + "/" + proto] = Json::object();
  }
  return {};
}

bool valid_signal(const std::string& s) {
  unsigned n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec == std::errc() && p == s.data() + s.size())
    return n > 0 && n < static_cast<unsigned>(NSIG);
  std::string name = upper(s);
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  for (int sig = 1; sig < SIGRTMIN; ++sig)
    if (const char* abbrev = sigabbrev_np(sig); abbrev && name == abbrev) return true;
  return false;
}

// Go's time.ParseDuration for the units HEALTHCHECK takes.
Result<int64_t> duration_ns(const std::string& flag, const std::string& text) {
  static const std::pair<std::string_view, double> kUnits[] = {
      {"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  double total = 0;
  std::string_view s = text;
  if (s.empty()) return invalid("time: invalid duration \"\" for " + flag);
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == 0) return invalid("time: invalid duration \"" + text + "\"");
    double value = std::stod(std::string(s.substr(0, i)));
    s.remove_prefix(i);
    size_t j = 0;
    while (j < s.size() && !std::isdigit(static_cast<unsigned char>(s[j])) && s[j] != '.') ++j;
    std::string_view unit = s.substr(0, j);
    s.remove_prefix(j);
    bool found = false;
    for (const auto& [u, mult] : kUnits)
      if (u == unit) total += value * mult, found = true;
    if (!found)
      return invalid("time: unknown unit \"" + std::string(unit) + "\" in duration \"" + text +
                     "\"");
  }
  return static_cast<int64_t>(total);
}

Status healthcheck(Json& rc, const std::string& rest) {
  std::string r = rest;
  Json hc = Json::object();
  while (r.rfind("--", 0) == 0) {
    size_t sp = r.find_first_of(" \t");
    std::string flag = r.substr(0, sp);
    r = sp == std::string::npos ? "" : trim(r.substr(sp));
    size_t eq = flag.find('=');
    if (eq == std::string::npos)
      return invalid("HEALTHCHECK: flag " + flag + " needs a value (" + flag + "=...)");
    std::string name = flag.substr(2, eq - 2), value = flag.substr(eq + 1);
    static const std::pair<std::string_view, const char*> kDurations[] = {
        {"interval", "Interval"},
        {"timeout", "Timeout"},
        {"start-period", "StartPeriod"},
        {"start-interval", "StartInterval"}};
    bool known = false;
    for (const auto& [flag_name, key] : kDurations) {
      if (name != flag_name) continue;
      auto ns = duration_ns(flag, value);
      if (!ns) return std::unexpected(ns.error());
      hc[key] = *ns;
      known = true;
    }
    if (name == "retries") {
      unsigned n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || p != value.data() + value.size())
        return invalid("HEALTHCHECK: --retries must be a number, got " + value);
      hc["Retries"] = n, known = true;
    }
    if (!known) return invalid("Unknown flag: " + name);
  }
  size_t sp = r.find_first_of(" \t");
  std::string kind = upper(r.substr(0, sp));
  std::string cmd = sp == std::string::npos ? "" : trim(r.substr(sp));
  if (kind == "NONE") {
    if (!cmd.empty() || !hc.empty()) return invalid("HEALTHCHECK NONE takes no arguments");
    rc["Healthcheck"] = {{"Test", {"NONE"}}};
    return {};
  }
  if (kind != "CMD" || cmd.empty())
    return invalid("Unknown type \"" + kind + "\" in HEALTHCHECK (try CMD)");
  if (auto e = exec_form(cmd)) {
    Json test = Json::array({"CMD"});
    for (auto& a : *e) test.push_back(a);
    hc["Test"] = test;
  } else {
    hc["Test"] = {"CMD-SHELL", cmd};
  }
  rc["Healthcheck"] = hc;
  return {};
}

Status volume(Json& rc, const std::string& rest) {
  std::vector<std::string> paths;
  if (auto e = exec_form(rest)) {
    paths = *e;
  } else {
    auto w = words(rest, "VOLUME");
    if (!w) return std::unexpected(w.error());
    paths = *w;
  }
  if (paths.empty()) return invalid("VOLUME requires at least one argument");
  if (!rc.contains("Volumes") || !rc["Volumes"].is_object()) rc["Volumes"] = Json::object();
  for (const auto& p : paths) {
    if (trim(p).empty()) return invalid("VOLUME specified can not be an empty string");
    rc["Volumes"][trim(p)] = Json::object();
  }
  return {};
}

struct Dispatcher {
  Json& rc;
  bool cmd_set = false;

  Status one(const Instruction& in) {
    std::string name = upper(in.word);
    const std::string& rest = in.rest;
    if (rest.empty() && name != "HEALTHCHECK")
      return invalid(name + " requires at least one argument");
    if (name == "CMD") {
      rc["Cmd"] = command(rc, rest);
      cmd_set = true;
    } else if (name == "ENTRYPOINT") {
      rc["Entrypoint"] = command(rc, rest);
      if (!cmd_set) rc["Cmd"] = nullptr;
    } else if (name == "ENV") {
      auto kv = pairs(rest, "ENV");
      if (!kv) return std::unexpected(kv.error());
      for (const auto& [k, v] : *kv) set_env(k, v);
    } else if (name == "LABEL") {
      auto kv = pairs(rest, "LABEL");
      if (!kv) return std::unexpected(kv.error());
      if (!rc.contains("Labels") || !rc["Labels"].is_object()) rc["Labels"] = Json::object();
      for (const auto& [k, v] : *kv) rc["Labels"][k] = v;
    } else if (name == "EXPOSE") {
      return expose(rc, rest);
    } else if (name == "ONBUILD") {
      std::string trigger = upper(rest.substr(0, rest.find_first_of(" \t")));
      if (trigger == "ONBUILD")
        return invalid("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (trigger == "FROM" || trigger == "MAINTAINER")
        return invalid(trigger + " isn't allowed as an ONBUILD trigger");
      if (!rc.contains("OnBuild") || !rc["OnBuild"].is_array()) rc["OnBuild"] = Json::array();
      rc["OnBuild"].push_back(rest);
    } else if (name == "STOPSIGNAL") {
      if (!valid_signal(rest)) return invalid("Unknown signal: " + rest);
      rc["StopSignal"] = rest;
    } else if (name == "USER") {
      rc["User"] = rest;
    } else if (name == "VOLUME") {
      return volume(rc, rest);
    } else if (name == "WORKDIR") {
      std::string base = rc.value("WorkingDir", std::string());
      std::filesystem::path p = rest[0] == '/'
                                    ? std::filesystem::path(rest)
                                    : std::filesystem::path(base.empty() ? "/" : base) / rest;
      std::string clean = p.lexically_normal().string();
      if (clean.size() > 1 && clean.back() == '/') clean.pop_back();
      rc["WorkingDir"] = clean;
    } else if (name == "HEALTHCHECK") {
      return healthcheck(rc, rest);
    }
    return {};
  }

  void set_env(const std::string& key, const std::string& value) {
    if (!rc.contains("Env") || !rc["Env"].is_array()) rc["Env"] = Json::array();
    for (auto& e : rc["Env"]) {
      if (!e.is_string()) continue;
      std::string s = e.get<std::string>();
      if (s.substr(0, s.find('=')) == key) {
        e = key + "=" + value;
        return;
      }
    }
    rc["Env"].push_back(key + "=" + value);
  }
};

}  // namespace

Status apply_changes(Json& run_config, const std::vector<std::string>& changes) {
  static const char* const kAllowed[] = {"cmd",    "entrypoint", "healthcheck", "env",
                                         "expose", "label",      "onbuild",     "stopsignal",
                                         "user",   "volume",     "workdir"};
  auto instructions = split(changes);
  // Docker checks every instruction before it applies any; its parser lowercases the word.
  for (const auto& in : instructions) {
    std::string word = lower(in.word);
    if (std::find(std::begin(kAllowed), std::end(kAllowed), word) == std::end(kAllowed))
      return invalid(word + " is not a valid change command");
  }
  if (run_config.is_null()) run_config = Json::object();
  if (!run_config.is_object()) return invalid("image config: config is not a JSON object");
  Json copy = run_config;
  Dispatcher d{copy};
  for (const auto& in : instructions)
    SILO_TRY_CTX(d.one(in), "change \"" + in.word + " " + in.rest + "\"");
  run_config = std::move(copy);
  return {};
}

}  // namespace silo::image
