#pragma once
// Private to the engine's sources: the state Engine::Impl keeps between calls, and the
// exit monitor. Not a contract; other subsystems use engine.h.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/fd.h"
#include "engine/engine.h"
#include "engine/images.h"
#include "engine/network_service.h"
#include "engine/restart.h"
#include "runtime/state.h"

namespace silo::engine {

// One thread that waits on the pidfds of running shims (epoll) and on restart timers, and
// calls back when a shim exits or a restart is due. Callbacks run on the monitor thread.
class Monitor {
 public:
  using Callback = std::function<void(const std::string& id)>;
  Monitor(Callback on_exit, Callback on_timer);
  ~Monitor();  // stops the thread; the shims keep running
  [[nodiscard]] Status start();
  // Watches the shim `pid` of container `id`. A shim that is already gone reports at once.
  void watch(const std::string& id, pid_t pid);
  // Calls on_timer(id) after `delay` (replacing an earlier timer of `id`).
  void schedule(const std::string& id, std::chrono::milliseconds delay);
  // Cancels a pending timer of `id`; true when one was pending.
  bool cancel(const std::string& id);

 private:
  void loop();
  void wake();
  Callback on_exit_, on_timer_;
  UniqueFd epoll_, wake_;
  std::mutex mu_;
  std::map<int, std::pair<std::string, UniqueFd>> watched_;  // pidfd -> id
  std::map<std::string, std::chrono::steady_clock::time_point> timers_;
  std::set<std::string> gone_;  // shims found dead at watch()
  bool stop_ = false;
  std::thread thread_;
};

// Engine-private bookkeeping kept in ContainerRecord::shim (a JSON object):
//   pid (shim), init_pid, cgroups_path, manually_stopped, anon_volumes [names].
struct Engine::Impl {
  Engine* self = nullptr;
  EngineOptions opts;
  Store* store = nullptr;
  EventBus* events = nullptr;
  runtime::StateDir state_dir{""};
  std::string cgroup_parent;  // "/silo-<12 hex of sha256(root)>"
  std::unique_ptr<ImageService> images;
  std::unique_ptr<NetworkService> net;

  std::mutex mu;               // guards the maps below
  std::condition_variable cv;  // an exit was recorded or a container removed
  std::map<std::string, std::shared_ptr<std::mutex>> locks;
  std::map<std::string, uint64_t> exits;         // exits recorded since open
  std::map<std::string, int64_t> removed_codes;  // last exit code of removed containers
  std::map<std::string, RestartTracker> trackers;
  std::map<std::string, int> attach_holds;  // attach clients waiting for a start
  std::unique_ptr<Monitor> monitor;

  // The per-container operation lock.
  std::shared_ptr<std::mutex> lock_of(const std::string& id);
  // A container's record read under its operation lock (held until this is dropped).
  struct Locked {
    std::shared_ptr<std::mutex> mu;  // declared first: outlives `lock`
    std::unique_lock<std::mutex> lock;
    ContainerRecord rec;
  };
  // Resolves `ref`, takes the container's lock, then reads the record again, so the
  // state the caller acts on is the one no other operation can change meanwhile.
  Result<Locked> lock_container(std::string_view ref);
  uint64_t exit_count(const std::string& id);
  // Waits until container `id` has more than `seen` exits recorded (or is removed), at
  // most `timeout`; true when it did.
  bool wait_exit(const std::string& id, uint64_t seen, std::chrono::milliseconds timeout);
  void notify_exit(const std::string& id);
  bool attach_held(const std::string& id);

  std::string cgroups_path(const std::string& id) const { return cgroup_parent + "/" + id; }
  void event(std::string_view action, const ContainerRecord& rec, Json attrs = Json::object());

  // lifecycle_create.cc
  [[nodiscard]] Status prepare(ContainerRecord& rec, const CreateRequest& req, const ImageRef& img);
  [[nodiscard]] Status ensure_rootfs(const ContainerRecord& rec);
  // lifecycle_start.cc
  [[nodiscard]] Status start_locked(ContainerRecord& rec);
  // The container's namespace and endpoints, hosts and resolv.conf, and the spec's
  // network namespace; undone (and the error returned) when any step fails.
  [[nodiscard]] Status setup_network(ContainerRecord& rec);
  // monitor.cc
  void on_shim_exit(const std::string& id);
  void on_restart_due(const std::string& id);
  void record_exit(ContainerRecord& rec);
  // lifecycle_remove.cc
  [[nodiscard]] Status remove_locked(ContainerRecord& rec, bool remove_volumes);
  [[nodiscard]] Status unmount_rootfs(const std::string& id);
  // Stops the container's processes with SIGKILL and waits for its exit to be recorded
  // (container lock NOT held).
  [[nodiscard]] Status kill_and_wait(const std::string& id, std::chrono::milliseconds timeout);
  // reconcile_apply.cc
  [[nodiscard]] Status restore();
  [[nodiscard]] Status reconcile();
};

// Helpers shared by the engine's sources.
// A boolean / string field of Docker's Config or HostConfig; null or absent (Go's nil
// pointers, e.g. HostConfig.Init) reads as false / "".
// Bytes in the regular files under `dir` (SizeRw, prune's SpaceReclaimed).
int64_t disk_usage(const std::string& dir);
bool json_flag(const Json& obj, const char* key);
std::string json_str(const Json& obj, const char* key);
bool is_running_status(const std::string& status);            // running, paused, restarting
bool shim_alive(pid_t pid, const std::string& runtime_root);  // pid is our silo-shim
std::string mountinfo_unescape(std::string_view s);
// Mount points listed in /proc/self/mountinfo below `prefix`.
std::vector<std::string> mounts_under(const std::string& prefix);

}  // namespace silo::engine
