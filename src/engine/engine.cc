// Engine: opening (seed image, restore, reconcile), queries, and the bookkeeping the
// lifecycle sources share. The operations live in lifecycle_*.cc, the exit monitor in
// monitor.cc, restore and reconcile in reconcile_apply.cc.

#include <sys/stat.h>

#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>

#include "common/log.h"
#include "common/sha256.h"
#include "common/sys.h"
#include "engine/engine_impl.h"
#include "engine/seed_image.h"
#include "image/platform.h"
#include "image/reference.h"
#include "runtime/cgroup/cgroup.h"
#include "runtime/container.h"

namespace silo::engine {

bool is_running_status(const std::string& status) {
  return status == "running" || status == "paused" || status == "restarting";
}

// A pid is one of our shims when its argv[0] ends in "silo-shim" and it supervises
// containers in our runtime root: pids are reused, and the check keeps reconcile from
// ever signalling a stranger.
bool shim_alive(pid_t pid, const std::string& runtime_root) {
  if (pid <= 0) return false;
  auto cmd = sys::read_file("/proc/" + std::to_string(pid) + "/cmdline");
  if (!cmd || cmd->empty()) return false;
  std::vector<std::string> argv;
  size_t start = 0;
  while (start < cmd->size()) {
    size_t end = cmd->find('\0', start);
    if (end == std::string::npos) end = cmd->size();
    argv.push_back(cmd->substr(start, end - start));
    start = end + 1;
  }
  if (argv.empty() || !argv[0].ends_with("silo-shim")) return false;
  for (size_t i = 1; i + 1 < argv.size(); ++i)
    if (argv[i] == "--runtime-root" && argv[i + 1] == runtime_root) return true;
  return false;
}

bool json_flag(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

std::string json_str(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string mountinfo_unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> mounts_under(const std::string& prefix) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // id parent major:minor root mount-point ...
    std::istringstream fields(line);
    std::string id, parent, dev, root, escaped;
    if (!(fields >> id >> parent >> dev >> root >> escaped)) continue;
    std::string mp = mountinfo_unescape(escaped);
    if (mp.starts_with(prefix + "/")) out.push_back(mp);
  }
  return out;
}

std::shared_ptr<std::mutex> Engine::Impl::lock_of(const std::string& id) {
  std::lock_guard g(mu);
  auto& l = locks[id];
  if (!l) l = std::make_shared<std::mutex>();
  return l;
}

Result<Engine::Impl::Locked> Engine::Impl::lock_container(std::string_view ref) {
  auto found = store->get_container(ref);
  if (!found) return std::unexpected(found.error());
  Locked l;
  l.mu = lock_of(found->id);
  l.lock = std::unique_lock(*l.mu);
  auto rec = store->get_container(found->id);
  if (!rec) return std::unexpected(rec.error());
  l.rec = std::move(*rec);
  return l;
}

uint64_t Engine::Impl::exit_count(const std::string& id) {
  std::lock_guard g(mu);
  return exits[id];
}

bool Engine::Impl::wait_exit(const std::string& id, uint64_t seen,
                             std::chrono::milliseconds timeout) {
  std::unique_lock g(mu);
  return cv.wait_for(g, timeout, [&] { return exits[id] > seen || removed_codes.contains(id); });
}

void Engine::Impl::notify_exit(const std::string& id) {
  {
    std::lock_guard g(mu);
    ++exits[id];
  }
  cv.notify_all();
}

bool Engine::Impl::attach_held(const std::string& id) {
  std::lock_guard g(mu);
  auto it = attach_holds.find(id);
  return it != attach_holds.end() && it->second > 0;
}

void Engine::hold_start_for_attach(std::string_view id, bool hold) {
  std::lock_guard g(impl_->mu);
  int& n = impl_->attach_holds[std::string(id)];
  n += hold ? 1 : -1;
  if (n <= 0) impl_->attach_holds.erase(std::string(id));
}

void Engine::Impl::event(std::string_view action, const ContainerRecord& rec, Json attrs) {
  for (const auto& [k, v] : rec.labels) attrs[k] = v;
  attrs["image"] = rec.image;
  attrs["name"] = rec.name;
  events->container(action, rec.id, std::move(attrs));
}

Engine::Engine(EngineOptions opts) : opts_(std::move(opts)), impl_(std::make_unique<Impl>()) {}

Engine::~Engine() {
  // The monitor thread calls into impl_; stop it before anything else goes.
  if (impl_) impl_->monitor.reset();
  if (impl_) impl_->net.reset();
}

Result<std::unique_ptr<Engine>> Engine::open(const EngineOptions& opts) {
  if (!opts.store || !opts.events) return fail(Code::Internal, "engine: store and events needed");
  std::unique_ptr<Engine> e(new Engine(opts));
  Impl& im = *e->impl_;
  im.self = e.get();
  im.opts = opts;
  im.store = opts.store;
  im.events = opts.events;
  const DaemonConfig& cfg = opts.config;
  SILO_TRY_CTX(sys::mkdir_p(cfg.containers_dir(), 0710), "containers dir");
  SILO_TRY_CTX(sys::mkdir_p(cfg.shims_dir(), 0700), "shims dir");
  SILO_TRY_CTX(sys::mkdir_p(e->runtime_root(), 0700), "runtime root");
  im.state_dir = runtime::StateDir(e->runtime_root());
  // One cgroup parent per data root, so daemons side by side never touch each other's.
  im.cgroup_parent = "/silo-" + sha256_hex(cfg.root).substr(0, 12);
  im.images = std::make_unique<ImageService>(im.store, cfg.root + "/image");
  SILO_TRY(im.images->init());
  SILO_TRY(seed_busybox(*im.images, cfg.root + "/image", opts.busybox_path));
  {
    auto all = im.store->list_containers();
    if (!all) return std::unexpected(all.error());
    std::vector<ContainerRecord> running;
    for (auto& c : *all)
      if (is_running_status(c.state.status)) running.push_back(std::move(c));
    auto net = NetworkService::open(cfg, *im.store, running);
    if (!net) return wrap(net.error(), "network service");
    im.net = std::move(*net);
    im.net->start_dhcp_renewal([&im](const std::string& id) -> pid_t {
      auto rec = im.store->get_container(id);
      if (!rec || rec->state.status != "running") return 0;
      return static_cast<pid_t>(rec->state.pid);
    });
  }
  im.monitor = std::make_unique<Monitor>([&im](const std::string& id) { im.on_shim_exit(id); },
                                         [&im](const std::string& id) { im.on_restart_due(id); });
  SILO_TRY_CTX(im.monitor->start(), "start the exit monitor");
  SILO_TRY_CTX(im.restore(), "restore containers");
  SILO_TRY_CTX(im.reconcile(), "reconcile");
  if (auto ok = im.net->reconcile(); !ok)
    spdlog::error("reconcile networks: {}", ok.error().message);
  return e;
}

std::string Engine::runtime_root() const {
  return opts_.config.exec_root + "/runtime";
}

ContainerPaths Engine::paths(std::string_view id_view) const {
  std::string id(id_view);
  ContainerPaths p;
  p.dir = opts_.config.containers_dir() + "/" + id;
  p.bundle = p.dir;
  p.rootfs = p.dir + "/rootfs";
  p.upper = p.dir + "/upper";
  p.log_path = p.dir + "/" + id + "-json.log";
  p.exit_file = p.dir + "/exit.json";
  // 16 hex of the id and a short name: a socket path must fit sun_path (107 bytes), and
  // exec roots under /tmp (tests, benches) are long already.
  p.shim_dir = opts_.config.shims_dir() + "/" + std::string(id.substr(0, 16));
  p.attach_socket = p.shim_dir + "/a.sock";
  return p;
}

Result<ContainerRecord> Engine::get(std::string_view ref) {
  return impl_->store->get_container(ref);
}

int64_t disk_usage(const std::string& dir) {
  int64_t n = 0;
  std::error_code ec;
  namespace fs = std::filesystem;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_regular_file(ec) && !it->is_symlink(ec))
      n += static_cast<int64_t>(it->file_size(ec));
  return n;
}

Result<Json> Engine::inspect(std::string_view ref, bool size) {
  auto rec = get(ref);
  if (!rec) return std::unexpected(rec.error());
  auto p = paths(rec->id);
  Json j = inspect_json(*rec, p.log_path, p.rootfs);
  if (size) {
    int64_t rw = disk_usage(p.upper);
    j["SizeRw"] = rw;
    auto img = impl_->images->resolve(rec->image_id);
    j["SizeRootFs"] = rw + (img ? img->inspect.value("Size", int64_t{0}) : 0);
  }
  return j;
}

Result<std::vector<pid_t>> Engine::processes(std::string_view ref) {
  auto rec = get(ref);
  if (!rec) return std::unexpected(rec.error());
  if (rec->state.status != "running" && rec->state.status != "paused")
    return fail(Code::Conflict, "Container " + rec->id + " is not running");
  return runtime::processes(impl_->state_dir, rec->id);
}

Result<std::string> Engine::cgroup_dir(std::string_view ref, std::string_view controller) {
  auto rec = get(ref);
  if (!rec) return std::unexpected(rec.error());
  if (rec->state.status != "running" && rec->state.status != "paused")
    return fail(Code::Conflict, "Container " + rec->id + " is not running");
  auto mgr = runtime::cgroup::open(impl_->cgroups_path(rec->id), rec->id);
  if (!mgr) return std::unexpected(mgr.error());
  for (const auto& [name, dir] : (*mgr)->paths())
    if (name.empty() || name == controller ||
        ("," + name + ",").find("," + std::string(controller) + ",") != std::string::npos)
      return dir;
  return fail(Code::NotFound,
              "cgroup controller " + std::string(controller) + " is not mounted on this host");
}

Result<pid_t> Engine::init_pid(std::string_view ref) {
  auto rec = get(ref);
  if (!rec) return std::unexpected(rec.error());
  if (rec->state.status != "running" && rec->state.status != "paused")
    return fail(Code::Conflict, "Container " + rec->id + " is not running");
  return static_cast<pid_t>(rec->state.pid);
}

Result<ImageRef> Engine::image(std::string_view ref) {
  return impl_->images->resolve(ref);
}

Result<std::vector<ImageRef>> Engine::images() {
  return impl_->images->list();
}

Status Engine::tag_image(std::string_view source, std::string_view target) {
  return impl_->images->tag(source, target);
}

Result<Json> Engine::remove_image(std::string_view ref, bool force) {
  auto img = impl_->images->resolve(ref);
  if (!img) return std::unexpected(img.error());
  auto all = impl_->store->list_containers();
  if (!all) return std::unexpected(all.error());
  ImageUsers users;
  for (const auto& c : *all) {
    users.in_use.insert(c.image_id);
    if (c.image_id != img->id) continue;
    (is_running_status(c.state.status) ? users.running : users.stopped).push_back(c.id);
  }
  return impl_->images->remove(ref, force, users);
}

Result<Json> Engine::prune_images(const FilterMap& filters) {
  auto all = impl_->store->list_containers();
  if (!all) return std::unexpected(all.error());
  std::set<std::string> used;
  for (const auto& c : *all) used.insert(c.image_id);
  return impl_->images->prune(filters, used);
}

Result<Json> Engine::image_history(std::string_view ref) {
  return impl_->images->history(ref);
}

Result<std::string> Engine::import_image(const std::function<Result<size_t>(char*, size_t)>& src,
                                         std::string_view ref,
                                         const std::vector<std::string>& changes,
                                         std::string_view message) {
  auto id = impl_->images->import(src, ref, {.changes = changes, .message = std::string(message)});
  if (id) impl_->events->publish({.type = "image", .action = "import", .actor_id = *id});
  return id;
}

Result<std::vector<std::string>> Engine::load_images(
    const std::function<Result<size_t>(char*, size_t)>& src) {
  return impl_->images->load(src);
}

Status Engine::save_images(const std::vector<std::string>& refs, image::ArchiveFormat format,
                           const std::function<Status(std::string_view)>& out) {
  return impl_->images->save(refs, format, out);
}

Result<std::string> Engine::commit(std::string_view container, std::string_view ref,
                                   const std::vector<std::string>& changes,
                                   std::string_view author, std::string_view comment) {
  auto rec = get(container);
  if (!rec) return std::unexpected(rec.error());
  image::CommitOptions o{.author = std::string(author),
                         .comment = std::string(comment),
                         .changes = changes,
                         .container_id = rec->id,
                         .run_config = rec->config};
  if (auto cmd = rec->config.find("Cmd"); cmd != rec->config.end() && cmd->is_array())
    o.container_cmd = cmd->get<std::vector<std::string>>();
  auto id = impl_->images->commit(rec->image_id, paths(rec->id).upper, ref, std::move(o));
  if (id) impl_->events->publish({.type = "image", .action = "commit", .actor_id = *id});
  return id;
}

namespace {

// The registry options of daemon.json, with the caller's credentials for `domain`.
image::RegistryOptions registry_options(const DaemonConfig& cfg, const std::string& domain,
                                        const std::optional<image::Credentials>& creds) {
  image::RegistryOptions o;
  o.insecure_registries = cfg.insecure_registries;
  if (creds && !creds->username.empty()) o.credentials[domain] = *creds;
  return o;
}

}  // namespace

Result<PullResult> Engine::pull_image(std::string_view ref, std::string_view platform,
                                      const std::optional<image::Credentials>& creds,
                                      const RegistryProgressFn& progress) {
  auto r = image::parse_reference(ref);
  if (!r) return std::unexpected(r.error());
  image::Platform want = image::host_platform();
  if (!platform.empty()) {
    auto p = image::parse_platform(platform);
    if (!p) return std::unexpected(p.error());
    want = *p;
  }
  return impl_->images->pull(*r, want, registry_options(opts_.config, r->domain, creds),
                             progress);
}

Status Engine::push_image(std::string_view ref, const std::optional<image::Credentials>& creds,
                          const RegistryProgressFn& progress, const PushedFn& pushed) {
  // No default tag: a bare name pushes every tag of the repository.
  auto r = image::parse_reference(ref, false);
  if (!r) return std::unexpected(r.error());
  return impl_->images->push(*r, registry_options(opts_.config, r->domain, creds), progress,
                             pushed);
}

Status Engine::registry_login(std::string_view server, const image::Credentials& creds) {
  std::string host(server.empty() ? image::kDefaultDomain : server);
  return ImageService::login(host, registry_options(opts_.config, host, creds));
}

// Recorded at create; a container made before the lowers were recorded gets its image's.
Result<std::vector<std::string>> Engine::lowers(const ContainerRecord& rec) {
  if (auto it = rec.shim.find("lowers"); it != rec.shim.end() && it->is_array() && !it->empty())
    return it->get<std::vector<std::string>>();
  return impl_->images->lowers(rec.image_id);
}

}  // namespace silo::engine
