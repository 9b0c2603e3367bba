// /images routes: list, inspect, tag, remove, history, as dockerd answers them.

#include "api/http.h"
#include "daemon/daemon.h"
#include "engine/images.h"

namespace silo::daemon {
namespace {

using api::Call;
using api::Response;

// GET /images/json: filters reference, dangling, label (before/since accepted).
Result<Response> images_list(const Context& ctx, Call& c) {
  auto filters = c.req.query.filters();
  if (!filters) return std::unexpected(filters.error());
  auto all = ctx.engine->images();
  if (!all) return std::unexpected(all.error());
  Json list = Json::array();
  for (const auto& img : *all) {
    bool ok = true;
    engine::ImageRef shown = img;
    for (const auto& [key, values] : *filters) {
      if (key == "reference") {
        // As dockerd: only the tags that match stay in the summary.
        std::vector<std::string> kept;
        for (const auto& t : shown.tags)
          for (const auto& v : values)
            if (engine::tag_matches(t, v)) {
              kept.push_back(t);
              break;
            }
        ok = ok && !kept.empty();
        shown.tags = kept;
      } else if (key == "dangling") {
        // A build's intermediate images are not dangling: they go with their last child.
        bool want = values.size() == 1 && values[0] == "true";
        ok = ok && ((img.tags.empty() && !img.has_children) == want);
      } else if (key == "label") {
        for (const auto& v : values) ok = ok && engine::image_has_label(img, v);
      } else if (key != "before" && key != "since") {
        return fail(Code::Invalid, "invalid filter '" + key + "'");
      }
    }
    // A build's intermediate images (untagged, with children) show only with all=1.
    if (img.tags.empty() && img.has_children && !c.req.query.get_bool("all")) ok = false;
    if (ok) list.push_back(engine::image_summary(shown));
  }
  return Response::json(list);
}

}  // namespace

Status add_image_routes(api::Router& router, const Context& ctx) {
  auto add = [&](const char* method, const char* pattern, auto fn) {
    return router.add(method, pattern,
                      [&ctx, fn](Call& c) -> Result<Response> { return fn(ctx, c); });
  };
  SILO_TRY(add("GET", "/images/json", images_list));
  SILO_TRY(add("GET", "/images/{name:.*}/json", [](const Context& cx, Call& c) -> Result<Response> {
    auto img = cx.engine->image(c.req.param("name"));
    if (!img) return std::unexpected(img.error());
    return Response::json(img->inspect);
  }));
  SILO_TRY(
      add("GET", "/images/{name:.*}/history", [](const Context& cx, Call& c) -> Result<Response> {
        auto h = cx.engine->image_history(c.req.param("name"));
        if (!h) return std::unexpected(h.error());
        return Response::json(*h);
      }));
  // POST /images/{name}/tag?repo=…&tag=…: 201 with no body, as dockerd.
  SILO_TRY(add("POST", "/images/{name:.*}/tag", [](const Context& cx, Call& c) -> Result<Response> {
    if (c.req.query.get("repo").empty())
      return fail(Code::Invalid, "repository name must have at least one component");
    SILO_TRY(cx.engine->tag_image(c.req.param("name"), repo_tag(c.req.query)));
    return Response::empty(201);
  }));
  SILO_TRY(add("POST", "/images/prune", [](const Context& cx, Call& c) -> Result<Response> {
    auto f = c.req.query.filters();
    if (!f) return std::unexpected(f.error());
    auto j = cx.engine->prune_images(*f);
    if (!j) return std::unexpected(j.error());
    return Response::json(*j);
  }));
  return add("DELETE", "/images/{name:.*}", [](const Context& cx, Call& c) -> Result<Response> {
    auto r = cx.engine->remove_image(c.req.param("name"), c.req.query.get_bool("force"));
    if (!r) return std::unexpected(r.error());
    return Response::json(*r);
  });
}

}  // namespace silo::daemon
