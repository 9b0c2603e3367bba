// dockerd's progress messages and X-Registry-Auth decoding.

#include "daemon/registry_progress.h"

#include <cmath>
#include <cstdio>

#include "common/base64.h"

namespace silo::daemon {

std::string human_size(double bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  size_t i = 0;
  while (bytes >= 1000.0 && i + 1 < std::size(kUnits)) {
    bytes /= 1000.0;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g%s", bytes, kUnits[i]);
  return buf;
}

std::string progress_bar(int64_t current, int64_t total) {
  if (current <= 0 && total <= 0) return "";
  char buf[128];
  if (total <= 0) {
    std::snprintf(buf, sizeof buf, "%8s", human_size(static_cast<double>(current)).c_str());
    return buf;
  }
  int pct = static_cast<int>(static_cast<double>(current) / static_cast<double>(total) * 100) / 2;
  if (pct > 50) pct = 50;
  std::string bar = "[" + std::string(pct, '=') + ">" + std::string(50 - pct, ' ') + "] ";
  std::string cur = human_size(static_cast<double>(current));
  if (current > total) {
    std::snprintf(buf, sizeof buf, "%8s", cur.c_str());
  } else {
    std::snprintf(buf, sizeof buf, "%8s/%s", cur.c_str(),
                  human_size(static_cast<double>(total)).c_str());
  }
  return bar + buf;
}

namespace {

using Ordered = nlohmann::ordered_json;

// Go's encoder escapes these three everywhere; in JSON text they only occur in strings.
std::string go_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    if (c == '<')
      out += "\\u003c";
    else if (c == '>')
      out += "\\u003e";
    else if (c == '&')
      out += "\\u0026";
    else
      out += c;
  }
  return out + "\n";
}

}  // namespace

std::string go_json_line(const Json& j) {
  return go_escape(j.dump());
}

std::string progress_line(const engine::RegistryProgress& p) {
  // Ordered: dockerd's field order is status, progressDetail, progress, id.
  Ordered j;
  if (!p.status.empty()) j["status"] = p.status;
  if (p.layer) {
    j["progressDetail"] = Ordered::object();
    if (p.current >= 0) {
      j["progressDetail"]["current"] = p.current;
      if (p.total > 0) j["progressDetail"]["total"] = p.total;
      std::string bar = progress_bar(p.current, p.total);
      if (!bar.empty()) j["progress"] = bar;
    }
  }
  if (!p.id.empty()) j["id"] = p.id;
  return go_escape(j.dump());
}

std::string status_line(std::string_view status) {
  return go_escape(Ordered{{"status", std::string(status)}}.dump());
}

std::string error_line(std::string_view message) {
  Ordered j;
  j["errorDetail"] = Ordered{{"message", std::string(message)}};
  j["error"] = std::string(message);
  return go_escape(j.dump());
}

Result<std::optional<RegistryAuth>> decode_registry_auth(std::string_view header) {
  if (header.empty()) return std::nullopt;
  auto bad = [](const std::string& why) {
    return fail(Code::Invalid,
                "invalid X-Registry-Auth header: " + why + "; log in again (docker login)");
  };
  auto raw = base64_decode(header);
  if (!raw) return bad(raw.error().message);
  auto j = Json::parse(*raw, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  auto str = [&](const char* k) {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
  };
  RegistryAuth a{.credentials = {str("username"), str("password")}, .server = str("serveraddress")};
  if (a.credentials.username.empty() && !str("auth").empty()) {
    auto up = base64_decode(str("auth"));
    if (!up) return bad("auth: " + up.error().message);
    auto colon = up->find(':');
    if (colon == std::string::npos) return bad("auth is not base64 of user:password");
    a.credentials = {up->substr(0, colon), up->substr(colon + 1)};
  }
  if (a.credentials.username.empty()) return std::nullopt;
  return a;
}

}  // namespace silo::daemon
