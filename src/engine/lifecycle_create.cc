// POST /containers/create: the record, the container directory, the overlay root (journaled
// before it is mounted), hostname/hosts/resolv.conf, volumes, and config.json.

#include <sys/mount.h>

#include "common/id.h"
#include "common/log.h"
#include "common/sys.h"
#include "engine/engine_impl.h"

namespace silo::engine {
namespace {

constexpr const char* kHosts =
    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

Labels labels_of(const Json& config) {
  Labels out;
  auto it = config.find("Labels");
  if (it == config.end() || !it->is_object()) return out;
  for (const auto& [k, v] : it->items())
    if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

// A volume the container uses: named ("data") or anonymous (name generated, keyed by its
// destination in SpecPaths.volumes).
struct VolumeUse {
  std::string name;
  std::string target;
  bool anonymous = false;
};

std::vector<VolumeUse> volumes_of(const Json& config, const Json& host_config) {
  std::vector<VolumeUse> out;
  std::set<std::string> targets;
  if (auto b = host_config.find("Binds"); b != host_config.end() && b->is_array()) {
    for (const auto& bind : *b) {
      if (!bind.is_string()) continue;
      std::string s = bind;
      size_t colon = s.find(':');
      if (colon == std::string::npos || s[0] == '/') {
        if (colon != std::string::npos)
          targets.insert(s.substr(colon + 1, s.find(':', colon + 1) - colon - 1));
        continue;
      }
      std::string target = s.substr(colon + 1, s.find(':', colon + 1) - colon - 1);
      out.push_back({s.substr(0, colon), target, false});
      targets.insert(target);
    }
  }
  if (auto m = host_config.find("Mounts"); m != host_config.end() && m->is_array()) {
    for (const auto& mount : *m) {
      if (!mount.is_object() || json_str(mount, "Type") != "volume") {
        if (mount.is_object()) targets.insert(json_str(mount, "Target"));
        continue;
      }
      std::string src = json_str(mount, "Source"), target = json_str(mount, "Target");
      out.push_back({src.empty() ? new_id() : src, target, src.empty()});
      targets.insert(target);
    }
  }
  if (auto v = config.find("Volumes"); v != config.end() && v->is_object())
    for (const auto& [target, _] : v->items())
      if (!targets.contains(target)) out.push_back({new_id(), target, true});
  return out;
}

}  // namespace

Result<CreateResult> Engine::create(std::string_view name, const Json& body) {
  Impl& im = *impl_;
  if (!body.is_object())
    return fail(Code::Invalid, "config cannot be empty in order to create a container");
  std::string ref = json_str(body, "Image");
  if (ref.empty()) return fail(Code::Invalid, "No image specified: give an image, e.g. busybox");
  auto img = image(ref);
  if (!img) return std::unexpected(img.error());
  auto req = parse_create_request(body, img->config);
  if (!req) return std::unexpected(req.error());

  ContainerRecord rec;
  rec.id = new_id();
  rec.name = std::string(name.starts_with('/') ? name.substr(1) : name);
  rec.image = ref;
  rec.image_id = img->id;
  rec.created = now_rfc3339();
  rec.config = req->config;
  rec.host_config = req->host_config;
  rec.labels = labels_of(rec.config);
  rec.network_settings = req->networking_config;
  if (auto ok = im.net->prepare(rec); !ok) return std::unexpected(ok.error());
  rec.shim = {{"cgroups_path", im.cgroups_path(rec.id)}, {"lowers", img->lowers}};
  auto stored = im.store->create_container(rec);
  if (!stored) return std::unexpected(stored.error());
  rec.name = *stored;

  auto lock = im.lock_of(rec.id);
  std::lock_guard g(*lock);
  auto made = im.prepare(rec, *req, *img);
  if (!made) {
    // Leave nothing: undo what prepare did, then the row.
    (void)im.unmount_rootfs(rec.id);
    (void)sys::remove_all(paths(rec.id).dir);
    if (auto it = rec.shim.find("anon_volumes"); it != rec.shim.end() && it->is_array())
      for (const auto& v : *it)
        if (v.is_string()) (void)im.store->remove_volume(v.get<std::string>());
    (void)im.store->remove_container(rec.id);
    return wrap(made.error(), "create " + rec.name);
  }
  im.event("create", rec);
  return CreateResult{.id = rec.id, .warnings = req->warnings};
}

Status Engine::Impl::prepare(ContainerRecord& rec, const CreateRequest& req, const ImageRef& img) {
  auto p = self->paths(rec.id);
  for (const auto& d : {p.dir, p.upper, p.dir + "/work", p.rootfs}) SILO_TRY(sys::mkdir_p(d, 0755));
  SILO_TRY(ensure_rootfs(rec));

  SpecPaths sp;
  sp.rootfs = p.rootfs;
  sp.cgroups_path = cgroups_path(rec.id);
  std::string hostname = json_str(rec.config, "Hostname");
  if (hostname.empty()) hostname = rec.id.substr(0, 12);
  sp.hostname = hostname;
  bool host_net = json_str(rec.host_config, "NetworkMode") == "host";
  auto host_file = [](const char* path) { return sys::read_file(path).value_or(""); };
  sp.hostname_file = p.dir + "/hostname";
  sp.hosts_file = p.dir + "/hosts";
  sp.resolv_conf = p.dir + "/resolv.conf";
  SILO_TRY(sys::write_file_atomic(sp.hostname_file, hostname + "\n"));
  SILO_TRY(sys::write_file_atomic(sp.hosts_file, host_net ? host_file("/etc/hosts") : kHosts));
  SILO_TRY(sys::write_file_atomic(sp.resolv_conf, host_file("/etc/resolv.conf")));
  if (json_flag(rec.host_config, "Init")) {
    if (opts.init_path.empty())
      return fail(Code::Invalid,
                  "--init: no init binary on this host; install tini "
                  "(/usr/bin/tini-static) or run without --init");
    sp.init_path = opts.init_path;
  }

  Json anon = Json::array();
  for (const auto& v : volumes_of(rec.config, rec.host_config)) {
    VolumeRecord vr{.name = v.name,
                    .mountpoint = opts.config.volumes_dir() + "/" + v.name + "/_data"};
    if (v.anonymous) {
      vr.labels["com.docker.volume.anonymous"] = "";
      anon.push_back(v.name);
      rec.shim["anon_volumes"] = anon;
    }
    auto made = store->create_volume(vr);
    if (!made) return wrap(made.error(), "volume " + v.name);
    SILO_TRY_CTX(sys::mkdir_p(made->mountpoint, 0755), "volume " + v.name);
    SILO_TRY(store->add_volume_ref(rec.id, v.name));
    sp.volumes[v.name] = made->mountpoint;
    if (v.anonymous) sp.volumes[v.target] = made->mountpoint;
  }
  rec.shim["anon_volumes"] = anon;
  rec.shim["volumes"] = sp.volumes;
  SILO_TRY(store->update_container(rec));

  auto spec = build_oci_spec(req, rec.id, sp);
  if (!spec) return std::unexpected(spec.error());
  (void)img;
  return sys::write_file_atomic(p.bundle + "/config.json", spec->dump(2), 0600);
}

Status Engine::Impl::ensure_rootfs(const ContainerRecord& rec) {
  auto p = self->paths(rec.id);
  for (const auto& m : mounts_under(p.dir))
    if (m == p.rootfs) return {};
  // Journal first: a crash between here and the mount leaves a row reconcile forgets;
  // a crash after it leaves a mount reconcile finds.
  SILO_TRY(store->record_kernel_object(
      {.kind = "mount", .key = p.rootfs, .owner = rec.id, .data = {{"type", "overlay"}}}));
  auto lowers = self->lowers(rec);
  if (!lowers) return wrap(lowers.error(), "image of container " + rec.id);
  std::string lowerdir;
  for (const auto& l : *lowers) lowerdir += (lowerdir.empty() ? "" : ":") + l;
  std::string data = "lowerdir=" + lowerdir + ",upperdir=" + p.upper + ",workdir=" + p.dir + "/work";
  SILO_TRY_CTX(sys::mount("overlay", p.rootfs, "overlay", 0, data), "mount the container's root");
  return {};
}

}  // namespace silo::engine
