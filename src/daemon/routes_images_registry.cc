// POST /images/create (pull; an import goes to images_import), POST /images/{name}/push,
// POST /auth: the registry routes,
// streaming dockerd's JSON progress messages.

#include "api/http.h"
#include "daemon/daemon.h"
#include "daemon/registry_progress.h"

namespace silo::daemon {
namespace {

using api::Call;
using api::Response;

// The stream begins with the first progress message, so an error before it (an unknown
// manifest, access denied) is an ordinary JSON error with its status, as dockerd answers.
class ProgressStream {
 public:
  explicit ProgressStream(Call& c) : c_(c) {}
  void write(const std::string& line) {
    if (!begun_) {
      begun_ = true;
      if (!c_.begin_stream(200, "application/json")) gone_ = true;
    }
    if (!gone_ && !c_.write(line)) gone_ = true;
  }
  engine::RegistryProgressFn fn() {
    return [this](const engine::RegistryProgress& p) { write(progress_line(p)); };
  }
  // The error as the stream's last message once begun; else the HTTP error.
  Result<Response> finish(const Error& e) {
    if (!begun_) return std::unexpected(e);
    write(error_line(e.message));
    return Response::empty(200);
  }

 private:
  Call& c_;
  bool begun_ = false, gone_ = false;
};

Result<std::optional<image::Credentials>> credentials(const Call& c) {
  auto header = c.req.headers.get("X-Registry-Auth");
  auto auth = decode_registry_auth(header ? *header : std::string_view());
  if (!auth) return std::unexpected(auth.error());
  if (!*auth) return std::nullopt;
  return (*auth)->credentials;
}

// fromImage, with tag as ":tag" or, for a digest, "@sha256:…".
std::string pull_reference(const std::string& from, const std::string& tag) {
  if (tag.empty()) return from;
  return from + (tag.find(':') != std::string::npos ? "@" : ":") + tag;
}

Result<Response> images_create(const Context& ctx, Call& c) {
  std::string from = c.req.query.get("fromImage");
  if (from.empty()) {
    if (!c.req.query.get("fromSrc").empty()) return images_import(ctx, c);
    return fail(Code::Invalid, "missing fromImage: give the image to pull (fromImage=busybox)");
  }
  auto creds = credentials(c);
  if (!creds) return std::unexpected(creds.error());
  ProgressStream out(c);
  auto r = ctx.engine->pull_image(pull_reference(from, c.req.query.get("tag")),
                                  c.req.query.get("platform"), *creds, out.fn());
  if (!r) return out.finish(r.error());
  out.write(status_line("Digest: " + r->digest));
  out.write(status_line(r->updated ? "Status: Downloaded newer image for " + r->familiar
                                   : "Status: Image is up to date for " + r->familiar));
  return Response::empty(200);
}

Result<Response> images_push(const Context& ctx, Call& c) {
  std::string name(c.req.param("name")), tag = c.req.query.get("tag");
  auto creds = credentials(c);
  if (!creds) return std::unexpected(creds.error());
  ProgressStream out(c);
  // An empty tag pushes every tag of the repository, as dockerd (docker push --all-tags);
  // each tag ends with its digest line and dockerd's aux message.
  auto st = ctx.engine->push_image(
      pull_reference(name, tag), *creds, out.fn(), [&out](const engine::PushResult& r) {
        out.write(
            status_line(r.tag + ": digest: " + r.digest + " size: " + std::to_string(r.size)));
        nlohmann::ordered_json aux;
        aux["progressDetail"] = nlohmann::ordered_json::object();
        aux["aux"] = {{"Tag", r.tag}, {"Digest", r.digest}, {"Size", r.size}};
        out.write(aux.dump() + "\n");
      });
  if (!st) return out.finish(st.error());
  return Response::empty(200);
}

// "https://index.docker.io/v1/" -> "docker.io"; "http://reg:5000/" -> "reg:5000".
std::string registry_host(std::string server) {
  if (auto p = server.find("://"); p != std::string::npos) server.erase(0, p + 3);
  if (auto slash = server.find('/'); slash != std::string::npos) server.resize(slash);
  if (server.empty() || server == "index.docker.io" || server == "registry-1.docker.io")
    return std::string(image::kDefaultDomain);
  return server;
}

Result<Response> auth(const Context& ctx, Call& c) {
  auto body = c.req.json_object();
  if (!body) return std::unexpected(body.error());
  image::Credentials creds{body->value("username", ""), body->value("password", "")};
  if (creds.username.empty())
    return fail(Code::Invalid, "login: missing username; give one (docker login -u NAME)");
  SILO_TRY(ctx.engine->registry_login(registry_host(body->value("serveraddress", "")), creds));
  return Response::json({{"IdentityToken", ""}, {"Status", "Login Succeeded"}});
}

}  // namespace

Status add_image_registry_routes(api::Router& router, const Context& ctx) {
  auto add = [&](const char* method, const char* pattern, auto fn) {
    return router.add(method, pattern,
                      [&ctx, fn](Call& c) -> Result<Response> { return fn(ctx, c); });
  };
  // The body is a rootfs tarball for an import (fromSrc=-): read as it comes.
  SILO_TRY(router.add(
      "POST", "/images/create", [&ctx](Call& c) { return images_create(ctx, c); },
      api::RouteOptions{.stream_body = true}));
  SILO_TRY(add("POST", "/images/{name:.*}/push", images_push));
  SILO_TRY(add("POST", "/auth", auth));
  return {};
}

}  // namespace silo::daemon
