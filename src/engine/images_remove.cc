// The image service: DELETE /images/{name} and GET /images/{name}/history, as dockerd.

#include <time.h>

#include <set>

#include "common/log.h"
#include "common/sys.h"
#include "engine/images.h"
#include "engine/seed_image.h"
#include "engine/units.h"
#include "image/config.h"
#include "image/reference.h"

namespace silo::engine {
namespace {

// dockerd's conflicts when an image that containers use is deleted by id.
Status check_users(const std::string& id, bool force, const ImageUsers& users) {
  if (!users.running.empty())
    return fail(Code::Conflict, "conflict: unable to delete " + short_image_id(id) +
                                    " (cannot be forced) - image is being used by running "
                                    "container " +
                                    users.running.front().substr(0, 12));
  if (!users.stopped.empty() && !force)
    return fail(Code::Conflict, "conflict: unable to delete " + short_image_id(id) +
                                    " (must be forced) - image is being used by stopped "
                                    "container " +
                                    users.stopped.front().substr(0, 12));
  return {};
}

}  // namespace

Result<Json> ImageService::remove(std::string_view ref, bool force, const ImageUsers& users) {
  auto id = resolve_id(ref);
  if (!id) return std::unexpected(id.error());
  auto rec = store_->get_image(*id);
  if (!rec) return std::unexpected(rec.error());
  Json out = Json::array();
  std::string hex = std::string(ref.starts_with("sha256:") ? ref.substr(7) : ref);
  bool by_id = is_hex(hex) && rec->id.substr(7).starts_with(hex);
  bool used = !users.running.empty() || !users.stopped.empty();
  if (!by_id) {
    auto named = image::parse_reference(ref);
    if (!named) return std::unexpected(named.error());
    // As dockerd: when the last tag of a repository goes, that repository's digest refs
    // (name@sha256:…, left by a pull or push) go with it.
    std::vector<std::string> remaining, with_it;
    bool repo_tag_left = false;
    for (const auto& r : rec->refs) {
      if (r == named->str()) continue;
      auto other = image::parse_reference(r, false);
      bool same_repo = other && other->name() == named->name();
      if (same_repo && !other->digest) repo_tag_left = true;
      remaining.push_back(r);
    }
    if (!named->digest && !repo_tag_left)
      std::erase_if(remaining, [&](const std::string& r) {
        auto other = image::parse_reference(r, false);
        bool drop = other && other->digest && other->name() == named->name();
        if (drop) with_it.push_back(r);
        return drop;
      });
    if (!remaining.empty() || !used || force) {
      // Only this name goes while others remain; the last name takes the image with it.
      SILO_TRY(store_->remove_image_ref(named->str()));
      out.push_back({{"Untagged", familiar_ref(named->str())}});
      for (const auto& r : with_it) {
        SILO_TRY(store_->remove_image_ref(r));
        out.push_back({{"Untagged", familiar_ref(r)}});
      }
      if (!remaining.empty()) return out;
      if (used) return out;  // forced: the image stays, untagged, for its containers
    } else {
      std::string user = users.running.empty() ? users.stopped.front() : users.running.front();
      return fail(Code::Conflict, "conflict: unable to remove repository reference \"" +
                                      std::string(ref) + "\" (must force) - container " +
                                      user.substr(0, 12) + " is using its referenced image " +
                                      short_image_id(rec->id));
    }
  } else {
    if (rec->refs.size() > 1 && !force)
      return fail(Code::Conflict, "conflict: unable to delete " + short_image_id(rec->id) +
                                      " (must be forced) - image is referenced in multiple "
                                      "repositories");
    SILO_TRY(check_users(rec->id, force, users));
    auto children = store_->image_children(rec->id);
    if (!children) return std::unexpected(children.error());
    if (!children->empty())
      return fail(Code::Conflict, "conflict: unable to delete " + short_image_id(rec->id) +
                                      " (cannot be forced) - image has dependent child images");
    for (const auto& r : rec->refs) {
      SILO_TRY(store_->remove_image_ref(r));
      out.push_back({{"Untagged", familiar_ref(r)}});
    }
    if (used) return out;  // forced over stopped containers: untagged, kept for them
  }
  SILO_TRY(store_->remove_image(rec->id));
  out.push_back({{"Deleted", rec->id}});
  auto gone = remove_unused(*rec);
  if (!gone) spdlog::warn("image {}: {}", rec->id, gone.error().message);
  // The intermediate images of a build go with the last image built on them, as dockerd
  // prunes untagged parents that nothing else needs.
  for (std::string parent = rec->parent; !parent.empty();) {
    auto p = store_->get_image(parent);
    if (!p || !p->refs.empty() || users.in_use.contains(p->id)) break;
    auto children = store_->image_children(p->id);
    if (!children || !children->empty()) break;
    if (!store_->remove_image(p->id)) break;
    out.push_back({{"Deleted", p->id}});
    if (auto g = remove_unused(*p); !g) spdlog::warn("image {}: {}", p->id, g.error().message);
    parent = p->parent;
  }
  return out;
}

// Layers (by chain id) and blobs of `gone` that no remaining image uses.
Status ImageService::remove_unused(const ImageRecord& gone) {
  auto rest = store_->list_images();
  if (!rest) return std::unexpected(rest.error());
  std::set<std::string> chains_kept, blobs_kept;
  auto chains_of = [](const ImageRecord& r) {
    std::vector<std::string> diff_ids;
    for (const auto& l : r.layers) diff_ids.push_back(l.value("diff_id", ""));
    return chain_ids(diff_ids);
  };
  for (const auto& r : *rest) {
    for (const auto& c : chains_of(r)) chains_kept.insert(c);
    for (const auto& l : r.layers) blobs_kept.insert(l.value("digest", ""));
    blobs_kept.insert(r.id);
  }
  for (const auto& c : chains_of(gone))
    if (!chains_kept.contains(c)) SILO_TRY(sys::remove_all(layer_dir(c)));
  std::vector<std::string> blobs = {gone.id};
  for (const auto& l : gone.layers) blobs.push_back(l.value("digest", ""));
  for (const auto& b : blobs) {
    if (blobs_kept.contains(b)) continue;
    if (auto d = image::Digest::parse(b); d && blobs_->exists(*d)) SILO_TRY(blobs_->remove(*d));
  }
  return {};
}

Result<Json> ImageService::prune(const std::map<std::string, std::vector<std::string>>& filters,
                                 const std::set<std::string>& used) {
  bool dangling_only = true;
  int64_t until = 0;
  for (const auto& [key, values] : filters) {
    if (key == "dangling" && !values.empty()) {
      dangling_only = values.front() != "false" && values.front() != "0";
    } else if (key == "until" && !values.empty()) {
      auto t = parse_docker_time(values.front(), now_unix_nano());
      if (!t) return std::unexpected(t.error());
      until = *t / 1000000000;
    } else if (key != "label" && key != "label!") {
      return fail(Code::Invalid, "invalid filter '" + key + "'");
    }
  }
  auto all = list();
  if (!all) return std::unexpected(all.error());
  Json deleted = Json::array();
  int64_t reclaimed = 0;
  for (const auto& img : *all) {
    // An image with children is a build's intermediate: it goes with its last child.
    if (used.contains(img.id) || img.has_children || (dangling_only && !img.tags.empty())) continue;
    if (until && rfc3339_seconds(img.inspect.value("Created", "")) >= until) continue;
    bool ok = true;
    if (auto it = filters.find("label"); it != filters.end())
      for (const auto& w : it->second) ok = ok && image_has_label(img, w);
    if (auto it = filters.find("label!"); it != filters.end())
      for (const auto& w : it->second) ok = ok && !image_has_label(img, w);
    if (!ok) continue;
    auto gone = remove(img.id, true, {.in_use = used});
    if (!gone) {
      spdlog::warn("image prune {}: {}", img.id, gone.error().message);
      continue;
    }
    for (const auto& e : *gone) deleted.push_back(e);
    reclaimed += img.inspect.value("Size", int64_t{0});
  }
  return Json{{"ImagesDeleted", deleted.empty() ? Json() : deleted}, {"SpaceReclaimed", reclaimed}};
}

Result<Json> ImageService::history(std::string_view ref) {
  auto id = resolve_id(ref);
  if (!id) return std::unexpected(id.error());
  auto rec = store_->get_image(*id);
  if (!rec) return std::unexpected(rec.error());
  auto cfg = image::parse_image_config(rec->config);
  if (!cfg) return wrap(cfg.error(), "image " + rec->id + " config");
  Json out = Json::array();
  size_t layer = 0;
  for (const auto& h : cfg->history) {
    int64_t size = 0;
    if (!h.empty_layer && layer < rec->layers.size())
      size = rec->layers[layer++].value("uncompressed_size", int64_t{0});
    out.push_back({{"Id", "<missing>"},
                   {"Created", rfc3339_seconds(h.created)},
                   {"CreatedBy", h.created_by},
                   {"Tags", nullptr},
                   {"Size", size},
                   {"Comment", h.comment}});
  }
  std::reverse(out.begin(), out.end());
  if (!out.empty()) {
    out[0]["Id"] = rec->id;
    Json tags = Json::array();
    for (const auto& r : rec->refs)
      if (r.find('@') == std::string::npos) tags.push_back(familiar_ref(r));
    if (!tags.empty()) out[0]["Tags"] = tags;
  }
  return out;
}

}  // namespace silo::engine
