#pragma once
// The daemon's state store: one SQLite database (WAL) holding containers, volumes and
// the references between them, the journal of kernel objects, and recent events.
// Every write runs in a transaction; run_in_transaction() lets a caller group several.
// Thread-safe: one connection guarded by a mutex.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/json.h"
#include "engine/sqlite.h"

namespace silo::engine {

using Labels = std::map<std::string, std::string>;

// The State part of a container (Docker's ContainerJSON.State). Times are RFC 3339 strings
// as the API returns them; empty means "never".
struct ContainerState {
  std::string status = "created";  // created, running, paused, restarting, removing, exited, dead
  int64_t pid = 0;
  int64_t exit_code = 0;
  bool oom_killed = false;
  std::string started_at;
  std::string finished_at;
  int64_t restart_count = 0;
  std::string error;
};

// One container as stored. `name` has no leading '/'.
struct ContainerRecord {
  std::string id;  // 64 hex
  std::string name;
  std::string image;                  // the reference the user gave ("nginx:latest")
  std::string image_id;               // "sha256:..."
  std::string created;                // RFC 3339
  Json config = Json::object();       // Docker's Config
  Json host_config = Json::object();  // Docker's HostConfig
  ContainerState state;
  Json shim = Json::object();              // shim socket, pid, ...
  Json network_settings = Json::object();  // Docker's NetworkSettings
  Labels labels;
};

// A named volume. Only the "local" driver exists today.
struct VolumeRecord {
  std::string name;
  std::string driver = "local";
  std::string mountpoint;
  std::string created;
  Labels labels;
  Labels options;
};

// An image in the index: its config blob's text and its layers, base first.
struct ImageRecord {
  std::string id;       // "sha256:<hex>" of the config blob
  std::string config;   // the config blob, as stored
  Json layers = Json::array();  // [{"digest","diff_id","media_type","size"}]
  std::string created;  // when it entered this store
  int64_t size = 0;     // unpacked size of its layers
  std::vector<std::string> refs;  // normalised tags and digest refs, sorted
  std::string parent;             // the image a build step ran on; "" for others
};

// A network: its id, unique name, and everything else as the network service's JSON
// (driver, options, IPAM state). The store does not look inside `data`.
struct NetworkRecord {
  std::string id;  // 64 hex
  std::string name;
  Json data = Json::object();
};

// A static NAT mapping (`silo network nat add`) on network `network_id`.
struct StaticNatRecord {
  int64_t id = 0;
  std::string network_id;
  Json data = Json::object();
};

// A kernel object some step is about to create (mount, cgroup, shim, netns, veth...),
// recorded before it exists so reconcile-on-boot can find and remove leftovers.
struct KernelObject {
  int64_t id = 0;
  std::string kind;   // "mount", "cgroup", "shim", "netns", ...
  std::string key;    // unique within kind: a path, a cgroup path, an interface name
  std::string owner;  // container id, or empty
  Json data = Json::object();
  std::string created;
};

// One entry of the recent-events ring (Docker's events message).
struct EventRecord {
  int64_t seq = 0;
  int64_t time_nano = 0;
  std::string type;    // "container", "volume", "network", ...
  std::string action;  // "create", "start", "die", ...
  std::string actor_id;
  Json attributes = Json::object();
};

// The current time as RFC 3339 with nanoseconds, UTC ("2026-11-23T10:11:12.123456789Z").
std::string now_rfc3339();
// Nanoseconds since the epoch, for EventRecord.time_nano.
int64_t now_unix_nano();

class Store {
 public:
  // Opens or creates the database at `path` and migrates it to the latest schema.
  // Errors: Unavailable (cannot open, schema too new) or the failing migration's error.
  [[nodiscard]] static Result<std::unique_ptr<Store>> open(const std::string& path);

  // Runs `body` in one transaction: committed when it returns success, rolled back on
  // error. Store calls made inside join the transaction (as savepoints).
  [[nodiscard]] Status run_in_transaction(const std::function<Status()>& body);

  // --- containers (store_containers.cc) ---

  // Inserts a new container. An empty `rec.name` gets a random name (retried on
  // collision). Returns the stored name. Errors: Invalid (bad name or id), Conflict
  // (Docker's "The container name ... is already in use" message).
  [[nodiscard]] Result<std::string> create_container(const ContainerRecord& rec);
  // Finds a container as Docker does: exact id, then exact name (with or without '/'),
  // then unique id prefix. Errors: NotFound "No such container: <ref>", Invalid
  // "multiple IDs found with provided prefix: <ref>".
  [[nodiscard]] Result<ContainerRecord> get_container(std::string_view ref);
  // All containers, oldest first.
  [[nodiscard]] Result<std::vector<ContainerRecord>> list_containers();
  // Replaces every mutable field of container `rec.id` (all but id, name, created).
  [[nodiscard]] Status update_container(const ContainerRecord& rec);
  // Replaces the state fields only.
  [[nodiscard]] Status set_state(std::string_view id, const ContainerState& state);
  // Renames container `ref` with Docker's checks and messages.
  [[nodiscard]] Status rename_container(std::string_view ref, std::string_view new_name);
  // Deletes a container and its volume references. Errors: NotFound.
  [[nodiscard]] Status remove_container(std::string_view id);

  // --- volumes (store_volumes.cc) ---

  // Creates a volume; if one of that name exists it is returned unchanged (Docker's
  // `volume create` is idempotent). Errors: Invalid for a bad name.
  [[nodiscard]] Result<VolumeRecord> create_volume(const VolumeRecord& rec);
  // Errors: NotFound "get <name>: no such volume".
  [[nodiscard]] Result<VolumeRecord> get_volume(std::string_view name);
  [[nodiscard]] Result<std::vector<VolumeRecord>> list_volumes();
  // Errors: NotFound; Conflict "remove <name>: volume is in use - [<id>, ...]".
  [[nodiscard]] Status remove_volume(std::string_view name);
  // Records that container `id` uses volume `name` (idempotent). Errors: NotFound.
  [[nodiscard]] Status add_volume_ref(std::string_view id, std::string_view name);
  [[nodiscard]] Status remove_volume_ref(std::string_view id, std::string_view name);
  // Ids of the containers using volume `name`, sorted.
  [[nodiscard]] Result<std::vector<std::string>> volume_users(std::string_view name);

  // --- images (store_images.cc) ---

  // Inserts an image, or leaves an existing one of that id as it is (refs untouched).
  [[nodiscard]] Status put_image(const ImageRecord& rec);
  // By full id ("sha256:<hex>"), with its refs. Errors: NotFound.
  [[nodiscard]] Result<ImageRecord> get_image(std::string_view id);
  // The ids that start with `hex_prefix` (hex digits only), at most two.
  [[nodiscard]] Result<std::vector<std::string>> image_ids_by_prefix(std::string_view hex_prefix);
  // The image `ref` points at, or nullopt.
  [[nodiscard]] Result<std::optional<std::string>> image_by_ref(std::string_view ref);
  // All images with their refs, newest first.
  [[nodiscard]] Result<std::vector<ImageRecord>> list_images();
  // Points `ref` at image `id` (moving it from another image). Errors: NotFound (no image).
  [[nodiscard]] Status set_image_ref(std::string_view ref, std::string_view id);
  // Drops `ref`; true when it existed.
  [[nodiscard]] Result<bool> remove_image_ref(std::string_view ref);
  // Deletes the image row and its refs; NotFound when absent.
  [[nodiscard]] Status remove_image(std::string_view id);
  // The ids of the images whose parent is `id`.
  [[nodiscard]] Result<std::vector<std::string>> image_children(std::string_view id);
  // The image a build step with cache key `key` made, or nullopt.
  [[nodiscard]] Result<std::optional<std::string>> build_cache(std::string_view key);
  // Records that the step with cache key `key` made image `id` (replacing an older one).
  [[nodiscard]] Status set_build_cache(std::string_view key, std::string_view id);

  // --- networks (store_networks.cc) ---

  // Inserts network `rec`, or replaces the data of the one with its id. Errors: Conflict
  // "network with name <name> already exists" when another network has the name.
  [[nodiscard]] Status put_network(const NetworkRecord& rec);
  // All networks, by name.
  [[nodiscard]] Result<std::vector<NetworkRecord>> list_networks();
  // Deletes the network and its static NAT mappings. Errors: NotFound.
  [[nodiscard]] Status remove_network(std::string_view id);
  // Adds a static mapping; returns its id.
  [[nodiscard]] Result<int64_t> add_static_nat(const StaticNatRecord& rec);
  [[nodiscard]] Result<std::vector<StaticNatRecord>> list_static_nat();
  // Deletes one; NotFound when there is no such mapping.
  [[nodiscard]] Status remove_static_nat(int64_t id);

  // --- kernel objects and events (store_journal.cc) ---

  // Records (or re-records, replacing owner and data) the object (kind, key). Returns its id.
  [[nodiscard]] Result<int64_t> record_kernel_object(const KernelObject& obj);
  // Forgets (kind, key) once the object is gone; forgetting an unknown one is not an error.
  [[nodiscard]] Status forget_kernel_object(std::string_view kind, std::string_view key);
  // Recorded objects, oldest first; only those of `owner` when given.
  [[nodiscard]] Result<std::vector<KernelObject>> kernel_objects(
      std::optional<std::string_view> owner = std::nullopt);
  // Appends an event (time_nano 0 = now), dropping the oldest beyond kEventRing. Returns seq.
  [[nodiscard]] Result<int64_t> append_event(const EventRecord& ev);
  // Events with time_nano >= since_nano, oldest first.
  [[nodiscard]] Result<std::vector<EventRecord>> events_since(int64_t since_nano);

  // How many events the ring keeps.
  static constexpr int64_t kEventRing = 1024;

  // The connection, for tests and for checks (PRAGMA journal_mode).
  SqliteDb& db() { return db_; }

 private:
  explicit Store(SqliteDb db) : db_(std::move(db)) {}
  Result<std::string> insert_container(const ContainerRecord& rec, const std::string& name);
  Result<std::optional<ContainerRecord>> find_container(std::string_view column,
                                                        std::string_view value);
  Result<std::optional<std::string>> id_by_prefix(std::string_view prefix);
  Status name_conflict(std::string_view name);

  std::recursive_mutex mu_;
  SqliteDb db_;
};

}  // namespace silo::engine
