// Helpers shared by the commands: usage errors, per-container loops, queries, times.
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "cli/gotemplate.h"
#include "common/json.h"
#include "engine/units.h"

namespace silo::cli {

std::optional<Parsed> parse_or_usage(const std::string& cmd, const std::vector<FlagSpec>& specs,
                                     const Args& a, bool interspersed) {
  auto p = parse_flags(specs, a, interspersed);
  if (!p) {
    std::cerr << p.error().message << "\nSee 'silo " << cmd << " --help'.\n";
    return std::nullopt;
  }
  return *p;
}

bool need_args(const std::string& cmd, const Parsed& p, size_t n, const std::string& usage) {
  if (p.args.size() >= n) return true;
  std::cerr << "\"silo " << cmd << "\" requires at least " << n << " argument"
            << (n == 1 ? "" : "s") << ".\nSee 'silo " << cmd << " --help'.\n\nUsage:  silo " << cmd
            << " " << usage << "\n";
  return false;
}

int print_error(const Error& e, int code) {
  std::cerr << e.message << "\n";
  return code;
}

int for_each_container(const std::vector<std::string>& names,
                       const std::function<Status(const std::string&)>& fn) {
  int rc = 0;
  for (const auto& n : names) {
    if (auto s = fn(n); !s) {
      std::cerr << s.error().message << "\n";
      rc = 1;
    } else {
      std::cout << n << "\n";
    }
  }
  return rc;
}

std::string query(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string q;
  for (const auto& [k, v] : kv) {
    if (v.empty()) continue;
    q += (q.empty() ? "?" : "&") + k + "=" + url_encode(v);
  }
  return q;
}

std::string filters_json(const std::vector<std::string>& filters) {
  if (filters.empty()) return "";
  Json j = Json::object();
  for (const auto& f : filters) {
    auto eq = f.find('=');
    std::string k = f.substr(0, eq), v = eq == std::string::npos ? "" : f.substr(eq + 1);
    j[k][v] = true;
  }
  return j.dump();
}

Result<std::string> api_time(const std::string& value, int64_t now) {
  if (value.empty()) return value;
  bool numeric = true;
  for (char c : value) numeric = numeric && ((c >= '0' && c <= '9') || c == '.');
  if (numeric) return value;
  if (auto d = engine::parse_duration(value); d) {
    return std::to_string(now - std::chrono::duration_cast<std::chrono::seconds>(*d).count());
  }
  static const char* layouts[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M",
                                  "%Y-%m-%d"};
  for (const char* l : layouts) {
    struct tm tm {};
    const char* rest = strptime(value.c_str(), l, &tm);
    if (!rest) continue;
    std::string tail = rest;
    // Fractions of a second are dropped: the API's resolution for these filters is 1 s.
    if (tail.starts_with("."))
      tail = tail.substr(tail.find_first_not_of("0123456789", 1) == std::string::npos
                             ? tail.size()
                             : tail.find_first_not_of("0123456789", 1));
    int64_t offset = 0;
    if (tail == "Z" || tail.empty()) {
      offset = 0;
    } else if ((tail[0] == '+' || tail[0] == '-') && tail.size() >= 6) {
      int h = std::atoi(tail.substr(1, 2).c_str()), m = std::atoi(tail.substr(4, 2).c_str());
      offset = (tail[0] == '+' ? 1 : -1) * (h * 3600 + m * 60);
    } else {
      continue;
    }
    return std::to_string(static_cast<int64_t>(timegm(&tm)) - offset);
  }
  return fail(Code::Invalid, "invalid value \"" + value +
                                 "\": use a duration (10m), a unix timestamp or an RFC 3339 time");
}

void out(const std::string& s) {
  std::cout << s << std::flush;
}

Status print_formatted(const std::string& format, const Json& data) {
  auto s = render_template(format, data);
  if (!s) return std::unexpected(s.error());
  std::cout << *s << "\n";
  return {};
}

std::pair<std::string, std::string> split_repo_tag(const std::string& ref) {
  auto colon = ref.rfind(':');
  if (colon != std::string::npos && ref.find('/', colon) == std::string::npos)
    return {ref.substr(0, colon), ref.substr(colon + 1)};
  return {ref, ""};
}

}  // namespace silo::cli
