// The image service: index, layer unpacking, resolve, tag, remove, history.

#include "engine/images.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <time.h>

#include <algorithm>
#include <set>

#include "common/log.h"
#include "common/sha256.h"
#include "common/sys.h"
#include "engine/seed_image.h"
#include "engine/units.h"
#include "image/config.h"
#include "image/layer_apply.h"
#include "image/reference.h"

namespace silo::engine {
namespace {

ImageConfig run_defaults(const image::RunConfig& c) {
  return ImageConfig{.env = c.env,
                     .cmd = c.cmd,
                     .entrypoint = c.entrypoint,
                     .working_dir = c.working_dir,
                     .user = c.user,
                     .labels = c.labels,
                     .stop_signal = c.stop_signal,
                     .exposed_ports = c.exposed_ports};
}

// Docker's Config object: the config blob's "config" with every field present.
Json inspect_config(const Json& raw) {
  Json c = raw.contains("config") && raw["config"].is_object() ? raw["config"] : Json::object();
  const Json zero = {{"Hostname", ""},       {"Domainname", ""},      {"User", ""},
                     {"AttachStdin", false}, {"AttachStdout", false}, {"AttachStderr", false},
                     {"Tty", false},         {"OpenStdin", false},    {"StdinOnce", false},
                     {"Env", nullptr},       {"Cmd", nullptr},        {"Image", ""},
                     {"Volumes", nullptr},   {"WorkingDir", ""},      {"Entrypoint", nullptr},
                     {"OnBuild", nullptr},   {"Labels", nullptr}};
  for (const auto& [k, v] : zero.items())
    if (!c.contains(k)) c[k] = v;
  return c;
}

}  // namespace

bool is_hex(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string familiar_ref(const std::string& ref) {
  auto r = image::parse_reference(ref, false);
  return r ? r->familiar_str() : ref;
}

std::string short_image_id(const std::string& id) {
  return id.substr(id.find(':') + 1, 12);
}

bool image_has_label(const ImageRef& img, const std::string& want) {
  const Json labels = img.inspect["Config"].value("Labels", Json::object());
  auto eq = want.find('=');
  std::string k = want.substr(0, eq);
  return labels.is_object() && labels.contains(k) &&
         (eq == std::string::npos || labels[k] == want.substr(eq + 1));
}

bool tag_matches(const std::string& familiar_tag, std::string_view pattern) {
  std::string pat(pattern);
  auto colon = familiar_tag.rfind(':');
  std::string name = familiar_tag.substr(0, colon);
  // FNM_PATHNAME: '*' does not cross '/', as Go's path.Match.
  return ::fnmatch(pat.c_str(), familiar_tag.c_str(), FNM_PATHNAME) == 0 ||
         ::fnmatch(pat.c_str(), name.c_str(), FNM_PATHNAME) == 0;
}

Error no_such_image(std::string_view ref) {
  std::string r(ref);
  auto slash = r.rfind('/');
  bool tagged = r.find(':', slash == std::string::npos ? 0 : slash) != std::string::npos ||
                r.find('@') != std::string::npos;
  return Error{.code = Code::NotFound,
               .message = "No such image: " + r + (tagged ? "" : ":latest")};
}

Json image_summary(const ImageRef& img) {
  const Json& i = img.inspect;
  int64_t created = rfc3339_seconds(i.value("Created", ""));
  Json labels = i["Config"].value("Labels", Json());
  return {{"Containers", -1},
          {"Created", created},
          {"Id", img.id},
          {"Labels", labels},
          {"ParentId", img.parent},
          {"RepoDigests", img.digests},
          {"RepoTags", img.tags.empty() ? Json::array({"<none>:<none>"}) : Json(img.tags)},
          {"SharedSize", -1},
          {"Size", i.value("Size", 0)},
          {"VirtualSize", i.value("Size", 0)}};
}

std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> out;
  std::string prev;
  for (const auto& d : diff_ids) {
    prev = prev.empty() ? d : "sha256:" + sha256_hex(prev + " " + d);
    out.push_back(prev.substr(prev.find(':') + 1));
  }
  return out;
}

ImageService::ImageService(Store* store, std::string root)
    : store_(store), root_(std::move(root)), blobs_(std::make_unique<image::BlobStore>(root_)) {}

Status ImageService::init() {
  SILO_TRY_CTX(blobs_->init(), "image store " + root_);
  return sys::mkdir_p(root_ + "/layers", 0700);
}

std::string ImageService::layer_dir(const std::string& chain_hex) const {
  return root_ + "/layers/" + chain_hex;
}

// Unpacks into a temporary directory renamed into place, so a layer directory that exists
// is always whole (a crash leaves only a *.tmp that the next unpack replaces).
Status ImageService::unpack(const Json& layer, const std::string& chain_hex) {
  std::lock_guard lock(unpack_mu_);
  const std::string dir = layer_dir(chain_hex);
  if (sys::is_directory(dir)) return {};
  auto digest = image::Digest::parse(layer.value("digest", ""));
  if (!digest) return std::unexpected(digest.error());
  auto fd = blobs_->open(*digest);
  if (!fd) return std::unexpected(fd.error());
  const std::string tmp = dir + ".tmp";
  SILO_TRY(sys::remove_all(tmp));
  SILO_TRY(sys::mkdir_p(tmp, 0755));
  auto applied = image::apply_layer(fd->get(), tmp);
  if (!applied || applied->diff_id.str() != layer.value("diff_id", "")) {
    (void)sys::remove_all(tmp);
    if (!applied) return wrap(applied.error(), "unpack layer " + digest->short_str());
    return fail(Code::Invalid, "layer " + digest->str() + " is corrupt: its content is " +
                                   applied->diff_id.str() + ", the image config says " +
                                   layer.value("diff_id", "") + "; pull or load the image again");
  }
  if (::rename(tmp.c_str(), dir.c_str()) != 0) {
    int err = errno;
    (void)sys::remove_all(tmp);
    return fail_errno(err, "unpack layer " + digest->short_str() + ": rename " + tmp);
  }
  return {};
}

Result<std::string> ImageService::add(const std::string& config, const Json& layers,
                                      const std::vector<std::string>& refs,
                                      std::string_view parent) {
  auto parsed = image::parse_image_config(config);
  if (!parsed) return wrap(parsed.error(), "image config");
  if (!layers.is_array() || layers.size() != parsed->diff_ids.size())
    return fail(Code::Invalid, "image config lists " + std::to_string(parsed->diff_ids.size()) +
                                   " layers, the image has " + std::to_string(layers.size()));
  std::vector<std::string> diff_ids;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i].value("diff_id", "") != parsed->diff_ids[i].str())
      return fail(Code::Invalid, "layer " + std::to_string(i) + " is " +
                                     layers[i].value("diff_id", "") + ", the config says " +
                                     parsed->diff_ids[i].str());
    diff_ids.push_back(parsed->diff_ids[i].str());
  }
  auto config_digest = blobs_->put(config);
  if (!config_digest) return std::unexpected(config_digest.error());
  auto chains = chain_ids(diff_ids);
  int64_t size = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    SILO_TRY(unpack(layers[i], chains[i]));
    size += layers[i].value("uncompressed_size", layers[i].value("size", int64_t{0}));
  }
  ImageRecord rec{.id = config_digest->str(),
                  .config = config,
                  .layers = layers,
                  .created = now_rfc3339(),
                  .size = size,
                  .parent = std::string(parent)};
  SILO_TRY(store_->run_in_transaction([&]() -> Status {
    SILO_TRY(store_->put_image(rec));
    for (const auto& r : refs) SILO_TRY(store_->set_image_ref(r, rec.id));
    return {};
  }));
  return rec.id;
}

Result<std::string> ImageService::resolve_id(std::string_view ref) {
  std::string_view hex = ref;
  bool is_id = hex.starts_with("sha256:");
  if (is_id) hex.remove_prefix(7);
  if (!is_id) {
    if (auto r = image::parse_reference(ref)) {
      auto id = store_->image_by_ref(r->str());
      if (!id) return std::unexpected(id.error());
      if (*id) return **id;
    } else if (!is_hex(hex)) {
      return std::unexpected(r.error());
    }
  }
  if (is_hex(hex) && hex.size() <= 64) {
    auto ids = store_->image_ids_by_prefix(hex);
    if (!ids) return std::unexpected(ids.error());
    if (ids->size() == 1) return ids->front();
    if (ids->size() > 1)
      return fail(Code::Invalid,
                  "ambiguous image id prefix " + std::string(ref) + ": give more of the id");
  }
  return std::unexpected(no_such_image(ref));
}

Result<ImageRef> ImageService::to_ref(const ImageRecord& rec) {
  auto parsed = image::parse_image_config(rec.config);
  if (!parsed) return wrap(parsed.error(), "image " + rec.id + " config");
  Json raw = Json::parse(rec.config, nullptr, false);
  ImageRef out{.id = rec.id, .parent = rec.parent, .config = run_defaults(parsed->config)};
  auto children = store_->image_children(rec.id);
  if (!children) return std::unexpected(children.error());
  out.has_children = !children->empty();
  for (const auto& r : rec.refs)
    (r.find('@') == std::string::npos ? out.tags : out.digests).push_back(familiar_ref(r));
  if (!out.tags.empty()) out.name = out.tags.front();
  std::vector<std::string> diff_ids;
  for (const auto& d : parsed->diff_ids) diff_ids.push_back(d.str());
  auto chains = chain_ids(diff_ids);
  for (auto it = chains.rbegin(); it != chains.rend(); ++it) out.lowers.push_back(layer_dir(*it));
  Json cfg = inspect_config(raw);
  out.inspect = {{"Id", rec.id},
                 {"RepoTags", out.tags},
                 {"RepoDigests", out.digests},
                 {"Parent", rec.parent},
                 {"Comment", parsed->history.empty() ? "" : parsed->history.back().comment},
                 {"Created", parsed->created},
                 {"Container", ""},
                 {"ContainerConfig", cfg},
                 {"DockerVersion", raw.value("docker_version", "")},
                 {"Author", parsed->author},
                 {"Config", cfg},
                 {"Architecture", parsed->platform.architecture},
                 {"Os", parsed->platform.os},
                 {"Size", rec.size},
                 {"VirtualSize", rec.size},
                 {"GraphDriver",
                  {{"Data", {{"LowerDir", out.lowers.empty() ? "" : out.lowers.front()}}},
                   {"Name", "overlay2"}}},
                 {"RootFS", {{"Type", "layers"}, {"Layers", diff_ids}}},
                 {"Metadata", {{"LastTagTime", "0001-01-01T00:00:00Z"}}}};
  if (!parsed->platform.variant.empty()) out.inspect["Variant"] = parsed->platform.variant;
  return out;
}

Result<ImageRef> ImageService::resolve(std::string_view ref) {
  auto id = resolve_id(ref);
  if (!id) return std::unexpected(id.error());
  auto rec = store_->get_image(*id);
  if (!rec) return std::unexpected(rec.error());
  return to_ref(*rec);
}

Result<std::vector<ImageRef>> ImageService::list() {
  auto all = store_->list_images();
  if (!all) return std::unexpected(all.error());
  std::vector<ImageRef> out;
  for (const auto& rec : *all) {
    auto r = to_ref(rec);
    if (!r) return std::unexpected(r.error());
    out.push_back(std::move(*r));
  }
  return out;
}

Result<std::vector<std::string>> ImageService::lowers(std::string_view id) {
  auto r = resolve(id);
  if (!r) return std::unexpected(r.error());
  return r->lowers;
}

Status ImageService::tag(std::string_view source, std::string_view target) {
  auto id = resolve_id(source);
  if (!id) return std::unexpected(id.error());
  auto ref = tag_ref(target);
  if (!ref) return std::unexpected(ref.error());
  return store_->set_image_ref(*ref, *id);
}

Result<std::string> ImageService::tag_ref(std::string_view ref) {
  auto r = image::parse_reference(ref);
  if (!r) return std::unexpected(r.error());
  if (r->digest) return fail(Code::Invalid, "refusing to create a tag with a digest reference");
  return r->str();
}

}  // namespace silo::engine
