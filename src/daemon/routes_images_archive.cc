// docker import, load, save and commit: POST /images/create?fromSrc=-, POST /images/load,
// GET /images/get and /images/{name}/get (with silo's format=oci-archive), POST /commit, as
// dockerd answers them.

#include "api/http.h"
#include "common/log.h"
#include "daemon/daemon.h"

namespace silo::daemon {
namespace {

using api::Call;
using api::Response;

// The request body, streamed (a rootfs or an image archive may be large).
std::function<Result<size_t>(char*, size_t)> body_reader(Call& c) {
  return [&c](char* buf, size_t n) { return c.read_body(buf, n); };
}

// format= of GET /images/get: docker-archive (the default, what dockerd writes) or
// oci-archive (an OCI image layout in a tar, podman's name for it).
Result<image::ArchiveFormat> archive_format(const std::string& format) {
  if (format.empty() || format == "docker-archive") return image::ArchiveFormat::DockerArchive;
  if (format == "oci-archive") return image::ArchiveFormat::OciLayout;
  return fail(Code::Invalid, "invalid format \"" + format +
                                 "\": use format=docker-archive (the default) or "
                                 "format=oci-archive");
}

}  // namespace

std::string repo_tag(const api::Query& q) {
  std::string repo = q.get("repo"), tag = q.get("tag");
  if (repo.empty()) return "";
  return tag.empty() ? repo : repo + ":" + tag;
}

// POST /images/create?fromSrc=-&repo=&tag=&changes=&message=: the body is the rootfs.
// dockerd streams progress and ends with {"status":"sha256:<id>"}.
Result<Response> images_import(const Context& ctx, Call& c) {
  if (c.req.query.get("fromSrc") != "-")
    return fail(Code::Invalid,
                "import from a URL is not supported; pipe the tarball: "
                "silo import - or cat rootfs.tar | docker import -");
  auto id = ctx.engine->import_image(body_reader(c), repo_tag(c.req.query),
                                     c.req.query.get_all("changes"), c.req.query.get("message"));
  if (!id) return std::unexpected(id.error());
  SILO_TRY(c.begin_stream(200, "application/json"));
  (void)c.write(Json{{"status", *id}}.dump() + "\n");
  return Response::empty(200);
}

Status add_image_archive_routes(api::Router& router, const Context& ctx) {
  const Context* cx = &ctx;
  SILO_TRY(router.add(
      "POST", "/images/load",
      [cx](Call& c) -> Result<Response> {
        auto lines = cx->engine->load_images(body_reader(c));
        if (!lines) return std::unexpected(lines.error());
        SILO_TRY(c.begin_stream(200, "application/json"));
        for (const auto& l : *lines) (void)c.write(Json{{"stream", l + "\n"}}.dump() + "\n");
        return Response::empty(200);
      },
      api::RouteOptions{.stream_body = true}));
  auto save = [cx](Call& c, std::vector<std::string> names) -> Result<Response> {
    if (names.empty()) return fail(Code::Invalid, "no image names given: name one or more images");
    auto format = archive_format(c.req.query.get("format"));
    if (!format) return std::unexpected(format.error());
    // Resolve all before the 200 goes out, so a missing image is a 404, as dockerd.
    for (const auto& n : names)
      if (auto img = cx->engine->image(n); !img) return std::unexpected(img.error());
    SILO_TRY(c.begin_stream(200, "application/x-tar"));
    auto st =
        cx->engine->save_images(names, *format, [&c](std::string_view d) { return c.write(d); });
    if (!st) spdlog::warn("save {}: {}", names.front(), st.error().message);
    return Response::empty(200);
  };
  SILO_TRY(router.add("GET", "/images/get",
                      [save](Call& c) { return save(c, c.req.query.get_all("names")); }));
  SILO_TRY(router.add("GET", "/images/{name:.*}/get",
                      [save](Call& c) { return save(c, {std::string(c.req.param("name"))}); }));
  return router.add("POST", "/commit", [cx](Call& c) -> Result<Response> {
    std::string container = c.req.query.get("container");
    if (container.empty()) return fail(Code::Invalid, "no container given: commit?container=NAME");
    auto id = cx->engine->commit(container, repo_tag(c.req.query), c.req.query.get_all("changes"),
                                 c.req.query.get("author"), c.req.query.get("comment"));
    if (!id) return std::unexpected(id.error());
    return Response::json({{"Id", *id}}, 201);
  });
}

}  // namespace silo::daemon
