#include "api/http.h"

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "api/version.h"

namespace silo::api {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string lower_trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The media type of a Content-Type value, without parameters, lower-cased.
std::string media_type(std::string_view ct) {
  return lower_trimmed(ct.substr(0, ct.find(';')));
}

}  // namespace

void Headers::add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::set(std::string name, std::string value) {
  std::erase_if(fields_, [&](const auto& f) { return iequals(f.first, name); });
  add(std::move(name), std::move(value));
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : fields_)
    if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

Result<std::string> url_decode(std::string_view s, bool form) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+' && form) {
      out += ' ';
    } else if (c == '%') {
      int hi = i + 1 < s.size() ? hex_value(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return fail(Code::Invalid, "invalid URL escape \"" + std::string(s.substr(i, 3)) + "\"");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

Result<Query> Query::parse(std::string_view raw) {
  Query q;
  while (!raw.empty()) {
    size_t amp = raw.find('&');
    std::string_view part = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    auto key = url_decode(part.substr(0, eq), true);
    if (!key) return std::unexpected(key.error());
    std::string value;
    if (eq != std::string_view::npos) {
      auto v = url_decode(part.substr(eq + 1), true);
      if (!v) return std::unexpected(v.error());
      value = std::move(*v);
    }
    q.items_.emplace_back(std::move(*key), std::move(value));
  }
  return q;
}

bool Query::has(std::string_view key) const {
  return std::any_of(items_.begin(), items_.end(), [&](const auto& i) { return i.first == key; });
}

std::string Query::get(std::string_view key) const {
  for (const auto& [k, v] : items_)
    if (k == key) return v;
  return {};
}

std::vector<std::string> Query::get_all(std::string_view key) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : items_)
    if (k == key) out.push_back(v);
  return out;
}

bool Query::get_bool(std::string_view key) const {
  std::string s = lower_trimmed(get(key));
  return !(s.empty() || s == "0" || s == "no" || s == "false" || s == "none");
}

bool Query::get_bool_or(std::string_view key, bool def) const {
  if (get(key).empty()) return def;
  return get_bool(key);
}

Result<int64_t> Query::get_int(std::string_view key, int64_t def) const {
  std::string s = get(key);
  if (s.empty()) return def;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size())
    return fail(Code::Invalid,
                "invalid value for " + std::string(key) + ": \"" + s + "\" is not an integer");
  return v;
}

Result<Filters> parse_filters(std::string_view text) {
  Filters out;
  if (text.empty()) return out;
  Json j;
  try {
    j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  } catch (const nlohmann::json::exception&) {
    j = Json(Json::value_t::discarded);
  }
  if (j.is_discarded()) return fail(Code::Invalid, "invalid filter: filters must be a JSON object");
  if (!j.is_object()) return fail(Code::Invalid, "invalid filter: filters must be a JSON object");
  for (const auto& [name, value] : j.items()) {
    auto& values = out[name];
    if (value.is_object()) {  // {"label":{"a=b":true}}
      for (const auto& [v, flag] : value.items()) {
        if (!flag.is_boolean())
          return fail(Code::Invalid, "invalid filter: '" + name + "' must map values to booleans");
        values.push_back(v);
      }
    } else if (value.is_array()) {  // legacy {"label":["a=b"]}
      for (const auto& v : value) {
        if (!v.is_string())
          return fail(Code::Invalid, "invalid filter: '" + name + "' must be a list of strings");
        values.push_back(v.get<std::string>());
      }
      std::sort(values.begin(), values.end());
      values.erase(std::unique(values.begin(), values.end()), values.end());
    } else {
      return fail(Code::Invalid, "invalid filter: '" + name + "' must be an object or a list");
    }
  }
  return out;
}

std::string_view Request::param(std::string_view name) const {
  auto it = params.find(std::string(name));
  return it == params.end() ? std::string_view() : std::string_view(it->second);
}

bool Request::version_at_least(std::string_view v) const {
  return compare_versions(version, v) >= 0;
}

Status Request::check_json_content_type() const {
  auto ct = headers.get("Content-Type");
  if (!ct || ct->empty()) {
    if (body.empty()) return {};
    return fail(Code::Invalid, "Content-Type specified () must be 'application/json'");
  }
  if (media_type(*ct) == "application/json") return {};
  return fail(Code::Invalid,
              "Content-Type specified (" + std::string(*ct) + ") must be 'application/json'");
}

Result<Json> Request::json() const {
  SILO_TRY(check_json_content_type());
  if (body.find_first_not_of(" \t\r\n") == std::string::npos)
    return fail(Code::Invalid, "invalid JSON: got EOF while reading request body");
  try {
    return Json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    // parse_error, and out_of_range for a number too large ("1e999"). nlohmann's text is
    // "[json.exception.parse_error.101] parse error at line 1, ..."; keep the part after
    // the bracketed id.
    std::string what = e.what();
    if (auto close = what.find("] "); close != std::string::npos) what.erase(0, close + 2);
    return fail(Code::Invalid, "invalid JSON: " + what);
  }
}

Result<Json> Request::json_object(bool empty_ok) const {
  if (empty_ok && body.find_first_not_of(" \t\r\n") == std::string::npos) {
    SILO_TRY(check_json_content_type());
    return Json::object();
  }
  auto j = json();
  if (!j) return j;
  if (!j->is_object())
    return fail(Code::Invalid,
                std::string("invalid JSON: expected an object, got ") + j->type_name());
  return j;
}

int status_for(Code code) {
  switch (code) {
    case Code::Invalid:
      return 400;
    case Code::NotFound:
      return 404;
    case Code::Conflict:
      return 409;
    case Code::Permission:
      return 403;
    case Code::Unavailable:
      return 503;
    case Code::Internal:
      return 500;
  }
  return 500;
}

Response Response::json(const Json& j, int status) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  // Invalid UTF-8 in a string is replaced rather than thrown: a container name or log
  // line from the outside must not turn into a 500.
  r.body = j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  return r;
}

Response Response::text(std::string body, int status) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

Response Response::empty(int status) {
  Response r;
  r.status = status;
  return r;
}

Response Response::error(const Error& e) {
  return error(status_for(e.code), e.message);
}

Response Response::error(int status, std::string_view message) {
  return json(Json{{"message", std::string(message)}}, status);
}

}  // namespace silo::api
