#pragma once
// The host compute service: the container state machine over the store, the runtime and
// silo-shim (DESIGN.md, "A request, end to end").
//
// Files of one container (ContainerPaths):
//   <root>/containers/<id>/            bundle (config.json), upper/ work/ (overlay),
//                                      rootfs/ (the merged root, mounted from create to rm),
//                                      <id>-json.log (+ .1 .2 rotations), exit.json,
//                                      hostname, hosts, resolv.conf
//   <exec-root>/shims/<id[:16]>/a.sock the shim's attach socket while it runs
//   <exec-root>/runtime/               the runtime library's state (runtime::StateDir)
//
// Images: until the image service lands (issue #4) the engine knows one seeded image,
// `busybox` (busybox:latest), made at open() from the host's static busybox; any other
// reference is NotFound "No such image: <ref>" as dockerd answers.
//
// Networking: the network service (network_service.h) gives a container on a network a
// namespace of its own with an endpoint per network; "none" gets a namespace with only
// `lo`, "host" shares the daemon's, "container:<x>" joins x's.
//
// Thread-safe: every method may be called from any API handler thread; operations on one
// container are serialised, different containers proceed in parallel.

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/json.h"
#include "engine/config.h"
#include "engine/container_config.h"
#include "engine/events.h"
#include "engine/store.h"
#include "image/config.h"
#include "image/image_archive.h"
#include "image/registry.h"

namespace silo::engine {

struct EngineOptions {
  DaemonConfig config;
  Store* store = nullptr;                     // owned by the caller, outlives the engine
  EventBus* events = nullptr;                 // owned by the caller, outlives the engine
  std::string shim_path;                      // silo-shim (next to silod)
  std::string init_path;                      // the --init binary (silo-init or tini), "" when none
  std::string busybox_path = "/bin/busybox";  // static busybox that seeds busybox:latest
};

struct CreateResult {
  std::string id;
  std::vector<std::string> warnings;
};

struct WaitResult {
  int64_t status_code = 0;
  std::string error;  // Docker's WaitResponse.Error.Message, "" when none
};

// Where one container's files are (see the top of this file).
struct ContainerPaths {
  std::string dir;
  std::string bundle;  // == dir
  std::string rootfs;  // merged root (mounted while the container exists)
  std::string upper;   // overlay upper dir: the container's changes
  std::string log_path;
  std::string exit_file;
  std::string shim_dir;
  std::string attach_socket;
};

// Filters as the API parses them: key -> values.
using FilterMap = std::map<std::string, std::vector<std::string>>;

// The image a reference resolves to.
struct ImageRef {
  std::string id;                    // "sha256:..." of the config
  std::string name;                  // the first tag, "busybox:latest"; "" when untagged
  std::vector<std::string> tags;     // familiar: "busybox:latest", "localhost:5000/a:1"
  std::vector<std::string> digests;  // familiar digest refs: "busybox@sha256:…"
  std::vector<std::string> lowers;   // unpacked layers for overlayfs, top first
  std::string parent;                // the image a build step ran on, "" for others
  bool has_children = false;         // a build step ran on it (an intermediate image)
  ImageConfig config;
  Json inspect = Json::object();  // Docker's ImageInspect
};

// One progress message of a pull or push, as dockerd's jsonmessage carries it: `id` is a
// layer's 12-hex short digest (or the tag for "Pulling from"), `current`/`total` are bytes
// moved while "Downloading" or "Pushing" (-1 when the message has none). `layer` marks a
// per-layer message, which dockerd sends with an (empty) progressDetail.
struct RegistryProgress {
  std::string id;
  std::string status;
  int64_t current = -1, total = -1;
  bool layer = false;
};
// Called from the pull's or push's worker threads, one call at a time.
using RegistryProgressFn = std::function<void(const RegistryProgress&)>;

// What a pull did: the manifest digest it recorded and whether the tag moved.
struct PullResult {
  std::string id;        // image id
  std::string digest;    // "sha256:…" of the manifest (or index) pulled
  std::string familiar;  // "busybox:latest", or "name@sha256:…" when pulled by digest
  bool updated = false;  // false: "Image is up to date for …"
};

// What a push did for one tag: the tag, the manifest's digest and its size in bytes.
struct PushResult {
  std::string tag;
  std::string digest;
  size_t size = 0;
};
// Called once per tag pushed, after that tag's progress and before the next tag's.
using PushedFn = std::function<void(const PushResult&)>;

class Engine {
 public:
  // Seeds the busybox image, then restores (live restore: re-attaches to every shim that
  // is still running, records exits that happened while no daemon ran, applies restart
  // policies) and reconciles (removes mounts, cgroups, shims and rows a crash left; each
  // repair logged). Errors: those of the store and of the data directories.
  [[nodiscard]] static Result<std::unique_ptr<Engine>> open(const EngineOptions& opts);
  // Stops watching; running containers keep running (they belong to their shims).
  ~Engine();

  // --- lifecycle (POST /containers/create and friends) ---
  [[nodiscard]] Result<CreateResult> create(std::string_view name, const Json& body);
  [[nodiscard]] Status start(std::string_view ref);
  // Sends the stop signal (`signal`, else the container's, else SIGTERM), waits up to
  // `timeout_s` (else the container's StopTimeout, else 10) and then SIGKILL. A stopped
  // container is no error here; the route answers 304 for it (see is_running()).
  [[nodiscard]] Status stop(std::string_view ref, std::optional<int> timeout_s,
                            std::string_view signal = "");
  [[nodiscard]] Status restart(std::string_view ref, std::optional<int> timeout_s,
                               std::string_view signal = "");
  // Errors: Conflict "Container <id> is not running" as dockerd.
  [[nodiscard]] Status kill(std::string_view ref, std::string_view signal);
  [[nodiscard]] Status pause(std::string_view ref);
  [[nodiscard]] Status unpause(std::string_view ref);
  [[nodiscard]] Status rename(std::string_view ref, std::string_view new_name);
  // Blocks until `condition` ("not-running" (default, ""), "next-exit", "removed") holds,
  // or `cancelled()` returns true (checked every ~200 ms) -> Unavailable. `armed`, when
  // given, is called once the exit count to wait past has been taken, before blocking:
  // an exit after that call is this wait's (the API answers its headers there, so a
  // client that waits for them before `start` cannot miss the exit).
  [[nodiscard]] Result<WaitResult> wait(std::string_view ref, std::string_view condition,
                                        const std::function<bool()>& cancelled,
                                        const std::function<void()>& armed = {});
  // Errors: Conflict "You cannot remove a running container <id>. Stop the container
  // before attempting removal or force remove" without `force`.
  [[nodiscard]] Status remove(std::string_view ref, bool force, bool remove_volumes);
  // --- networks (networks.cc; the network service is network_service.h) ---
  // POST /networks/create: Docker's NetworkCreateRequest; returns {"Id","Warning"}.
  [[nodiscard]] Result<Json> network_create(const Json& body);
  // Docker's NetworkResource, with Containers.
  [[nodiscard]] Result<Json> network_inspect(std::string_view ref);
  [[nodiscard]] Result<Json> network_list(const FilterMap& filters);
  // Errors: Permission for the pre-defined networks and networks with endpoints.
  [[nodiscard]] Status network_remove(std::string_view ref);
  // {"NetworksDeleted": [names]}
  [[nodiscard]] Result<Json> network_prune(const FilterMap& filters);
  // Docker's NetworkConnect / NetworkDisconnect bodies.
  [[nodiscard]] Status network_connect(std::string_view net, const Json& body);
  [[nodiscard]] Status network_disconnect(std::string_view net, const Json& body);
  // Static NAT mappings (silo network nat); see NetworkService.
  [[nodiscard]] Result<Json> nat_list(std::string_view network);
  [[nodiscard]] Status nat_add(const Json& body);
  [[nodiscard]] Result<Json> nat_remove(std::string_view network, std::optional<uint16_t> port,
                                        std::string_view proto);

  // Removes stopped containers matching `filters` (label, until). Returns Docker's
  // {"ContainersDeleted":[...],"SpaceReclaimed":N}.
  [[nodiscard]] Result<Json> prune(const FilterMap& filters);

  // --- queries ---
  [[nodiscard]] Result<ContainerRecord> get(std::string_view ref);
  // Docker's ContainerJSON; `size` adds SizeRw/SizeRootFs.
  [[nodiscard]] Result<Json> inspect(std::string_view ref, bool size);
  [[nodiscard]] ContainerPaths paths(std::string_view id) const;
  // Host pids of every process in the container (for top). Conflict when not running.
  [[nodiscard]] Result<std::vector<pid_t>> processes(std::string_view ref);
  // The container's cgroup directory for `controller` ("memory", "cpu", "pids", ... on
  // v1; any on v2: the unified dir). Conflict when not running.
  [[nodiscard]] Result<std::string> cgroup_dir(std::string_view ref, std::string_view controller);
  // The init's pid as the host sees it; Conflict when not running.
  [[nodiscard]] Result<pid_t> init_pid(std::string_view ref);

  // --- images (images.h has the service) ---
  [[nodiscard]] Result<ImageRef> image(std::string_view ref);
  [[nodiscard]] Result<std::vector<ImageRef>> images();
  // docker tag SOURCE TARGET.
  [[nodiscard]] Status tag_image(std::string_view source, std::string_view target);
  // DELETE /images/{name}: untag or delete, with dockerd's conflicts for images that
  // containers use; Docker's [{"Untagged"}, {"Deleted"}] list.
  [[nodiscard]] Result<Json> remove_image(std::string_view ref, bool force);
  // POST /images/prune: dangling (or, with dangling=false, all) images no container uses.
  [[nodiscard]] Result<Json> prune_images(const FilterMap& filters);
  // GET /images/{name}/history.
  [[nodiscard]] Result<Json> image_history(std::string_view ref);
  // docker import / load / save (images.h says how each behaves).
  [[nodiscard]] Result<std::string> import_image(const std::function<Result<size_t>(char*, size_t)>& src,
                                                 std::string_view ref,
                                                 const std::vector<std::string>& changes,
                                                 std::string_view message);
  [[nodiscard]] Result<std::vector<std::string>> load_images(
      const std::function<Result<size_t>(char*, size_t)>& src);
  [[nodiscard]] Status save_images(const std::vector<std::string>& refs,
                                   image::ArchiveFormat format,
                                   const std::function<Status(std::string_view)>& out);
  // docker commit CONTAINER [REF]: the container's changes as a new image; returns its id.
  [[nodiscard]] Result<std::string> commit(std::string_view container, std::string_view ref,
                                           const std::vector<std::string>& changes,
                                           std::string_view author, std::string_view comment);
  // docker pull `ref` (normalised with :latest) for `platform` ("" = the host's) from its
  // registry with `creds` when given; insecure-registries from daemon.json. Errors: the
  // registry client's (NotFound "manifest for … not found: manifest unknown", Permission),
  // Invalid for a platform that does not match.
  [[nodiscard]] Result<PullResult> pull_image(std::string_view ref, std::string_view platform,
                                              const std::optional<image::Credentials>& creds,
                                              const RegistryProgressFn& progress);
  // docker push `ref` (a local name that is also the target): its tag or, when it has
  // none, every tag of the repository, as dockerd does for an empty `tag` (docker push -a);
  // `pushed` is called after each tag. Errors: NotFound "An image does not exist locally
  // with the tag: …", Invalid for a digest reference, the registry's.
  [[nodiscard]] Status push_image(std::string_view ref,
                                  const std::optional<image::Credentials>& creds,
                                  const RegistryProgressFn& progress, const PushedFn& pushed);
  // docker login: checks `creds` against registry `server` ("" = Docker Hub). Permission
  // "unauthorized: incorrect username or password" when the registry refuses them.
  [[nodiscard]] Status registry_login(std::string_view server, const image::Credentials& creds);
  // --- docker build (build.cc; the daemon's builder drives these) ---

  // The full config of image `ref` (what a build stage starts from).
  [[nodiscard]] Result<image::ImageConfig> image_build_config(std::string_view ref);
  // The image of a build step (ImageService::build_step): the changes of the stopped
  // container `container` on `parent_id` ("" = scratch); with no container, the files of
  // `dir` (a step on an image with no layers), or no layer at all (a metadata step).
  [[nodiscard]] Result<std::string> build_step(std::string_view container,
                                               std::string_view parent_id,
                                               const image::ImageConfig& after,
                                               const std::vector<std::string>& cmd,
                                               const std::string& dir = {});
  [[nodiscard]] Result<std::optional<std::string>> cached_build_step(std::string_view key);
  [[nodiscard]] Status remember_build_step(std::string_view key, std::string_view id);
  // COPY/ADD --chown: `spec` ("1000", "app:app", "app") as uid and gid, names looked up in
  // container `container`'s /etc/passwd and /etc/group ("" = no files: numeric ids only).
  // A spec without a group uses the user's name or id as the group too, as Docker's
  // --chown does. Errors: Invalid, dockerd's "unable to find user app: no matching entries
  // in passwd file".
  [[nodiscard]] Result<std::pair<uint32_t, uint32_t>> chown_ids(std::string_view container,
                                                                std::string_view spec);

  // The overlay lower directories of container `rec`, top layer first.
  [[nodiscard]] Result<std::vector<std::string>> lowers(const ContainerRecord& rec);

  // --- for the exec service and the stream routes ---
  const EngineOptions& options() const { return opts_; }
  // An attach client is waiting for container `id` to start (`docker run` attaches
  // before it starts): while held, start() makes the shim wait (up to 3 s) for a first
  // attach client before the process runs, so not one byte of a short run's output is
  // lost, also with --rm. Each hold(true) is paired with a hold(false).
  void hold_start_for_attach(std::string_view id, bool hold);
  std::string runtime_root() const;  // the runtime library's StateDir root

 private:
  explicit Engine(EngineOptions opts);
  struct Impl;
  EngineOptions opts_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace silo::engine
