#include "image/registry.h"

#include "common/base64.h"
#include "common/json.h"
#include "image/registry_call.h"

namespace silo::image {

namespace {

bool is_loopback_host(std::string_view host_port) {
  std::string_view host = host_port;
  if (host.starts_with("[")) {
    host = host.substr(1, host.find(']') - 1);
  } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

std::string query_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// A WWW-Authenticate challenge: `Bearer realm="…",service="…",scope="…"`. Parsed here because
// libcurl keeps its parser private; quoted values may hold commas (a scope "pull,push").
struct Challenge {
  std::string scheme;
  std::map<std::string, std::string> params;
};

Challenge parse_challenge(std::string_view h) {
  Challenge c;
  auto sp = h.find(' ');
  c.scheme = std::string(h.substr(0, sp));
  std::transform(c.scheme.begin(), c.scheme.end(), c.scheme.begin(),
                 [](unsigned char ch) { return std::tolower(ch); });
  size_t i = sp == std::string_view::npos ? h.size() : sp + 1;
  while (i < h.size()) {
    while (i < h.size() && (h[i] == ' ' || h[i] == ',')) ++i;
    size_t eq = h.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string key(h.substr(i, eq - i));
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    std::string value;
    i = eq + 1;
    if (i < h.size() && h[i] == '"') {
      for (++i; i < h.size() && h[i] != '"'; ++i) {
        if (h[i] == '\\' && i + 1 < h.size()) ++i;
        value += h[i];
      }
      ++i;
    } else {
      size_t end = h.find(',', i);
      value = std::string(h.substr(i, end == std::string_view::npos ? end : end - i));
      i = end == std::string_view::npos ? h.size() : end;
    }
    c.params[key] = value;
  }
  return c;
}

std::string auth_key(const Endpoint& ep, const std::vector<std::string>& scopes) {
  std::string k = ep.host;
  for (const auto& s : scopes) k += " " + s;
  return k;
}

// What to do when a transport error comes from a TLS mismatch.
std::string tls_hint(const Endpoint& ep, const std::string& message) {
  if (message.find("server gave HTTP response to HTTPS client") != std::string::npos)
    return "; add \"" + ep.host + "\" to insecure-registries in daemon.json";
  if (message.find("is not trusted") != std::string::npos)
    return "; give the registry's CA certificate (certs.d/" + ep.host + "/ca.crt) or add \"" +
           ep.host + "\" to insecure-registries";
  return "";
}

// A string member of a JSON object from a registry, "" when absent or of another type
// (json::value() would throw on a wrong type).
std::string str_at(const Json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

namespace registry_detail {

std::string v2_path(const Endpoint& ep, const std::string& rest) {
  return "/v2/" + ep.repository + "/" + rest;
}

std::string error_text(const HttpResponse& r) {
  auto j = parse_json(r.body, "registry error");
  if (!j || !j->is_object() || !j->contains("errors") || !(*j)["errors"].is_array()) return "";
  std::string out;
  for (const auto& e : (*j)["errors"]) {
    if (!e.is_object()) continue;
    std::string code = str_at(e, "code"), message = str_at(e, "message");
    std::transform(code.begin(), code.end(), code.begin(), [](unsigned char ch) {
      return ch == '_' ? ' ' : static_cast<char>(std::tolower(ch));
    });
    out += (out.empty() ? "" : "; ") + code + ": " + message;
  }
  return out;
}

bool has_error_code(const HttpResponse& r, std::string_view code) {
  auto j = parse_json(r.body, "registry error");
  if (!j || !j->is_object() || !j->contains("errors") || !(*j)["errors"].is_array()) return false;
  for (const auto& e : (*j)["errors"])
    if (str_at(e, "code") == code) return true;
  return false;
}

Error access_denied(const RegistryClient::Call& call, const HttpResponse& r) {
  std::string detail = error_text(r);
  if (detail.empty()) detail = "denied: requested access to the resource is denied";
  std::string msg = call.push ? "push access denied for " + call.ep.display +
                                    ", the repository may not exist or may require "
                                    "'docker login " +
                                    call.ep.host + "': " + detail
                              : "pull access denied for " + call.ep.display +
                                    ", repository does not exist or may require 'docker "
                                    "login': " +
                                    detail;
  return Error{0, r.status == 404 ? Code::NotFound : Code::Permission, msg};
}

Error unexpected_status(const RegistryClient::Call& call, std::string_view what,
                        const HttpResponse& r) {
  std::string detail = error_text(r);
  if (detail.empty()) detail = r.body.substr(0, 200);
  Code code = r.status >= 500   ? Code::Unavailable
              : r.status == 404 ? Code::NotFound
                                : Code::Invalid;
  return Error{0, code,
               std::string(what) + " for " + call.ep.display + " at " + call.ep.host + ": HTTP " +
                   std::to_string(r.status) + (detail.empty() ? "" : ": " + detail)};
}

}  // namespace registry_detail

Endpoint resolve_endpoint(const Reference& ref, const RegistryOptions& options) {
  Endpoint ep;
  // Docker Hub's API lives on another name than the one in image references.
  ep.host = ref.domain == kDefaultDomain ? "registry-1.docker.io" : ref.domain;
  ep.repository = ref.path;
  ep.display = ref.familiar_name();
  ep.insecure = is_loopback_host(ref.domain) ||
                std::find(options.insecure_registries.begin(), options.insecure_registries.end(),
                          ref.domain) != options.insecure_registries.end();
  ep.schemes =
      ep.insecure ? std::vector<std::string>{"https", "http"} : std::vector<std::string>{"https"};
  if (auto it = options.ca_files.find(ref.domain); it != options.ca_files.end())
    ep.ca_file = it->second;
  return ep;
}

RegistryClient::RegistryClient(Transport& transport, RegistryOptions options)
    : transport_(transport), options_(std::move(options)) {}

Result<HttpResponse> RegistryClient::send_once(Call& call, HttpRequest& req, const BodySink& sink,
                                               const std::string& scheme) {
  HttpRequest r = req;
  if (r.url.starts_with("/")) r.url = scheme + "://" + call.ep.host + r.url;
  // An insecure registry is tried over https without checking its certificate, as Docker.
  r.tls_verify = !(call.ep.insecure && scheme == "https");
  r.ca_file = call.ep.ca_file;
  {
    std::lock_guard lock(mu_);
    if (auto it = auth_.find(auth_key(call.ep, call.scopes)); it != auth_.end())
      r.headers.emplace_back("Authorization", it->second);
  }
  return transport_.send(r, sink);
}

Result<HttpResponse> RegistryClient::send(Call& call, HttpRequest req, const BodySink& sink) {
  std::vector<std::string> schemes = call.ep.schemes;
  {
    std::lock_guard lock(mu_);
    if (auto it = scheme_.find(call.ep.host); it != scheme_.end()) schemes = {it->second};
  }
  Result<HttpResponse> r = fail(Code::Internal, "no scheme to reach " + call.ep.host);
  // Fall back to the next scheme only when this one got no answer at all (connect or TLS
  // failure), never after part of a body arrived.
  bool answered = false;
  BodySink watched;
  if (sink)
    watched = [&](const HttpResponse& head, std::string_view chunk) {
      answered = true;
      return sink(head, chunk);
    };
  for (size_t i = 0; i < schemes.size(); ++i) {
    r = send_once(call, req, watched, schemes[i]);
    if (!r && r.error().code == Code::Unavailable && !answered && i + 1 < schemes.size()) continue;
    if (r) {
      std::lock_guard lock(mu_);
      scheme_[call.ep.host] = schemes[i];
    }
    if (r && r->status == 401 && !r->header("www-authenticate").empty()) {
      SILO_TRY(authorize(call, *r));
      r = send_once(call, req, watched, schemes[i]);
    }
    break;
  }
  if (!r && r.error().code == Code::Unavailable)
    return fail(Code::Unavailable, "registry " + call.ep.host + " for " + call.ep.display + ": " +
                                       r.error().message + tls_hint(call.ep, r.error().message));
  return r;
}

Status RegistryClient::check_login(const std::string& host) {
  Call call{.ep = resolve_endpoint(Reference{.domain = host}, options_)};
  call.ep.display = host;
  HttpRequest req;
  req.url = "/v2/";
  auto r = send(call, req);
  std::string url;
  {
    std::lock_guard lock(mu_);
    auto it = scheme_.find(call.ep.host);
    url = (it != scheme_.end() ? it->second : call.ep.schemes.front()) + "://" + call.ep.host +
          "/v2/";
  }
  // dockerd's wording, whether /v2/ or the token service refused the credentials.
  auto refused = [&] {
    return fail(Code::Permission,
                "Get \"" + url + "\": unauthorized: incorrect username or password");
  };
  if (!r && r.error().code == Code::Permission) return refused();
  if (!r) return wrap(r.error(), "login to " + host);
  if (r->status == 200) return {};
  if (r->status == 401 || r->status == 403) return refused();
  return fail(Code::Unavailable, "login to " + host + ": " + url + " answered HTTP " +
                                     std::to_string(r->status) +
                                     "; is it a Docker registry (Distribution v2)? Check the "
                                     "server name and port");
}

Status RegistryClient::authorize(Call& call, const HttpResponse& challenge_response) {
  Challenge c = parse_challenge(challenge_response.header("www-authenticate"));
  const Credentials* creds = nullptr;
  std::string domain = call.ep.host == "registry-1.docker.io" ? "docker.io" : call.ep.host;
  if (auto it = options_.credentials.find(domain); it != options_.credentials.end())
    creds = &it->second;
  std::string basic =
      creds ? "Basic " + base64_encode(creds->username + ":" + creds->password) : "";
  std::string value;
  if (c.scheme == "basic") {
    if (!creds) return {};  // the retry gets 401 again, reported as access denied
    value = basic;
  } else if (c.scheme == "bearer") {
    auto token = fetch_token(call, c.params, basic);
    if (!token) return std::unexpected(token.error());
    value = "Bearer " + *token;
  } else {
    return fail(Code::Invalid, "registry " + call.ep.host + " asks for auth scheme \"" + c.scheme +
                                   "\", which is not supported (Bearer or Basic)");
  }
  std::lock_guard lock(mu_);
  auth_[auth_key(call.ep, call.scopes)] = value;
  return {};
}

Result<std::string> RegistryClient::fetch_token(Call& call,
                                                const std::map<std::string, std::string>& params,
                                                const std::string& basic) {
  auto realm = params.find("realm");
  if (realm == params.end() || realm->second.empty())
    return fail(Code::Invalid, "registry " + call.ep.host +
                                   " sent a Bearer challenge without a realm; it is misconfigured");
  HttpRequest req;
  req.url = realm->second;
  char sep = req.url.find('?') == std::string::npos ? '?' : '&';
  if (auto s = params.find("service"); s != params.end()) {
    req.url += sep + std::string("service=") + query_escape(s->second);
    sep = '&';
  }
  for (const auto& scope : call.scopes) {
    req.url += sep + std::string("scope=") + query_escape(scope);
    sep = '&';
  }
  if (!basic.empty()) req.headers.emplace_back("Authorization", basic);
  auto r = transport_.send(req);
  if (!r) return wrap(r.error(), "get a token for " + call.ep.display + " from " + realm->second);
  if (r->status == 401 || r->status == 403)
    return fail(Code::Permission,
                "login to " + call.ep.host + " for " + call.ep.display + " failed: " +
                    (registry_detail::error_text(*r).empty() ? "unauthorized: incorrect username "
                                                               "or password"
                                                             : registry_detail::error_text(*r)) +
                    "; run 'docker login " + call.ep.host + "' again");
  if (r->status != 200)
    return std::unexpected(registry_detail::unexpected_status(call, "get a token", *r));
  auto j = parse_json(r->body, "token response from " + realm->second);
  if (!j) return std::unexpected(j.error());
  std::string token = str_at(*j, "token");
  if (token.empty()) token = str_at(*j, "access_token");
  if (token.empty())
    return fail(Code::Invalid, "token response from " + realm->second + " has no token");
  return token;
}

}  // namespace silo::image
