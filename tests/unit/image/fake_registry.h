#pragma once
// An in-memory Distribution registry behind the Transport seam, for the registry client's
// unit tests: manifests and blobs per repository, Range, uploads and mounts, Bearer or
// Basic auth (and GET /v2/ for login), an http-only mode, a stall after N bytes, and a log
// of every request.

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "image/digest.h"
#include "image/http_transport.h"

namespace silo::image::testing {

class FakeRegistry : public Transport {
 public:
  enum class Auth { None, Bearer, Basic };

  // Contents.
  std::map<std::string, std::map<std::string, std::pair<std::string, std::string>>>
      manifests;  // repo -> tag or digest -> (media type, body)
  std::map<std::string, std::map<std::string, std::string>> blobs;  // repo -> digest -> data

  // Behaviour.
  Auth auth = Auth::None;
  std::string user = "alice", password = "secret";  // for Basic and the token endpoint
  bool http_only = false;           // https requests fail as an http server would make them
  bool ignore_range = false;        // answer a Range request with the whole blob (200)
  size_t fail_after = SIZE_MAX;     // a blob GET breaks off after this many bytes (once)
  std::string wrong_digest_header;  // sent as Docker-Content-Digest instead of the real one
  int delay_ms = 0;                 // per blob GET, to see parallel fetches overlap
  int v2_status = 200;              // GET /v2/ once authorized (404: not a registry)

  // Observations.
  struct Seen {
    std::string method, url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string header(const std::string& name) const {
      for (const auto& [k, v] : headers)
        if (k == name) return v;
      return "";
    }
  };
  std::vector<Seen> requests;
  int token_requests = 0, max_in_flight = 0;

  Result<HttpResponse> send(const HttpRequest& req, const BodySink& sink) override {
    Seen seen{req.method, req.url, req.headers, req.body};
    if (req.open_body) {
      auto rd = req.open_body();
      if (!rd) return std::unexpected(rd.error());
      char buf[4096];
      while (true) {
        auto n = (*rd)(buf, sizeof buf);
        if (!n) return std::unexpected(n.error());
        if (*n == 0) break;
        seen.body.append(buf, *n);
      }
    }
    {
      std::lock_guard lock(mu_);
      requests.push_back(seen);
      max_in_flight = std::max(max_in_flight, ++in_flight_);
    }
    auto r = handle(seen, sink);
    std::lock_guard lock(mu_);
    --in_flight_;
    return r;
  }

  std::vector<Seen> requests_to(std::string_view method, std::string_view path_part) {
    std::lock_guard lock(mu_);
    std::vector<Seen> out;
    for (const auto& s : requests)
      if (s.method == method && s.url.find(path_part) != std::string::npos) out.push_back(s);
    return out;
  }

 private:
  static HttpResponse reply(int status, std::string body = {}) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static HttpResponse error(int status, const std::string& code, const std::string& message) {
    return reply(status, R"({"errors":[{"code":")" + code + R"(","message":")" + message +
                             R"(","detail":null}]})");
  }

  bool authorized(const Seen& s) {
    std::string a = s.header("Authorization");
    if (auth == Auth::None) return true;
    if (auth == Auth::Bearer) return a == "Bearer tok-" + user;
    return a == "Basic " + basic();
  }
  std::string basic() {
    // base64("alice:secret"), the only pair the tests use.
    return user == "alice" && password == "secret" ? "YWxpY2U6c2VjcmV0" : "?";
  }

  Result<HttpResponse> handle(const Seen& s, const BodySink& sink) {
    bool https = s.url.starts_with("https://");
    if (https && http_only)
      return fail(Code::Unavailable, s.method + " " + s.url +
                                         ": server gave HTTP response to HTTPS client (wrong "
                                         "version number)");
    std::string rest = s.url.substr(s.url.find("://") + 3);
    std::string path = rest.substr(rest.find('/'));
    std::string query;
    if (auto q = path.find('?'); q != std::string::npos) {
      query = path.substr(q + 1);
      path = path.substr(0, q);
    }
    if (path == "/token") {
      ++token_requests;
      if (s.header("Authorization") != "Basic " + basic() && !s.header("Authorization").empty())
        return error(401, "UNAUTHORIZED", "incorrect username or password");
      last_token_query = query;
      return reply(200, R"({"token":"tok-)" + user + R"("})");
    }
    if (!authorized(s)) {
      HttpResponse r = error(401, "UNAUTHORIZED", "authentication required");
      if (auth == Auth::Bearer)
        r.headers.emplace("www-authenticate",
                          R"(Bearer realm="https://auth.test/token",service="fake.test")");
      else
        r.headers.emplace("www-authenticate", R"(Basic realm="fake")");
      return r;
    }
    if (path == "/v2/") return reply(v2_status, "{}");
    // /v2/<repo>/{manifests,blobs}/<ref> or /v2/<repo>/blobs/uploads/[id]
    path = path.substr(4);
    if (auto p = path.find("/blobs/uploads/"); p != std::string::npos)
      return upload(s, path.substr(0, p), path.substr(p + 15), query);
    auto m = path.find("/manifests/");
    if (m != std::string::npos) return manifest(s, path.substr(0, m), path.substr(m + 11));
    auto b = path.find("/blobs/");
    if (b != std::string::npos) return blob(s, path.substr(0, b), path.substr(b + 7), sink);
    return error(404, "NOT_FOUND", "no route");
  }

  Result<HttpResponse> manifest(const Seen& s, const std::string& repo, const std::string& ref) {
    if (s.method == "PUT") {
      std::string d = Digest::of(s.body).str();
      manifests[repo][ref] = manifests[repo][d] = {s.header("Content-Type"), s.body};
      HttpResponse r = reply(201);
      r.headers.emplace("docker-content-digest", d);
      return r;
    }
    if (!manifests.count(repo))
      return error(404, "NAME_UNKNOWN", "repository name not known to registry");
    auto it = manifests[repo].find(ref);
    if (it == manifests[repo].end()) return error(404, "MANIFEST_UNKNOWN", "manifest unknown");
    HttpResponse r = reply(200, s.method == "HEAD" ? "" : it->second.second);
    r.headers.emplace("content-type", it->second.first);
    r.headers.emplace("content-length", std::to_string(it->second.second.size()));
    r.headers.emplace("docker-content-digest", wrong_digest_header.empty()
                                                   ? Digest::of(it->second.second).str()
                                                   : wrong_digest_header);
    return r;
  }

  Result<HttpResponse> blob(const Seen& s, const std::string& repo, const std::string& digest,
                            const BodySink& sink) {
    // find(), not operator[]: parallel fetches read the maps from several threads.
    auto r = blobs.find(repo);
    if (r == blobs.end()) return error(404, "BLOB_UNKNOWN", "blob unknown to registry");
    auto it = r->second.find(digest);
    if (it == r->second.end()) return error(404, "BLOB_UNKNOWN", "blob unknown to registry");
    if (s.method == "HEAD") return reply(200);
    if (delay_ms) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    std::string data = it->second;
    HttpResponse head = reply(200);
    std::string range = s.header("Range");
    if (!range.empty() && !ignore_range) {
      size_t from = std::stoull(range.substr(6));
      if (from > data.size()) return reply(416);
      data = data.substr(from);
      head.status = 206;
    }
    bool cut = false;
    {
      std::lock_guard lock(mu_);
      if (fail_after < data.size()) {
        data = data.substr(0, fail_after);
        fail_after = SIZE_MAX;
        cut = true;
      }
    }
    for (size_t i = 0; i < data.size(); i += 7)  // small chunks, as a network gives them
      if (auto st = sink(head, std::string_view(data).substr(i, 7)); !st)
        return std::unexpected(st.error());
    if (cut) return fail(Code::Unavailable, "GET " + s.url + ": Connection reset by peer");
    return head;
  }

  Result<HttpResponse> upload(const Seen& s, const std::string& repo, const std::string& id,
                              const std::string& query) {
    if (s.method == "POST") {
      if (auto m = query.find("mount="); m != std::string::npos) {
        std::string digest = "sha256:" + query.substr(m + 15, 64);
        std::string from = query.substr(query.find("from=") + 5);
        if (blobs[from].count(digest)) {
          blobs[repo][digest] = blobs[from][digest];
          return reply(201);
        }
      }
      HttpResponse r = reply(202);
      r.headers.emplace("location", "/v2/" + repo + "/blobs/uploads/u1?_state=x");
      return r;
    }
    if (s.method == "PUT" && id == "u1") {
      std::string digest = "sha256:" + query.substr(query.find("digest=sha256%3A") + 16, 64);
      if (Digest::of(s.body).str() != digest)
        return error(400, "DIGEST_INVALID", "digest mismatch");
      blobs[repo][digest] = s.body;
      return reply(201);
    }
    return error(404, "BLOB_UPLOAD_UNKNOWN", "upload unknown");
  }

  std::mutex mu_;
  int in_flight_ = 0;

 public:
  std::string last_token_query;
};

}  // namespace silo::image::testing
