#pragma once
// The exec service: Docker's exec instances (POST /containers/{id}/exec, /exec/{id}/start,
// GET /exec/{id}/json). Each started exec runs under a silo-shim of its own in exec mode
// (src/shim/shim.h), which is the process's subreaper, owns its stdio or pty, serves the
// attach protocol on a socket and writes an exit file. Exec instances live in memory
// only (dockerd forgets them at restart too).
//
// Files of one exec: <exec-root>/execs/<first 12 hex of the exec id>/
//   process.json (the OCI process), attach.sock, exit.json
// where <exec-root> is the parent of the runtime root.
//
// Thread-safe.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "common/json.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "engine/store.h"

namespace silo::engine {

// What the exec service needs from the container service; exec_host() builds it from
// an Engine, unit tests from fakes.
struct ExecHost {
  std::function<Result<ContainerRecord>(std::string_view ref)> get;
  std::function<ContainerPaths(std::string_view id)> paths;
  std::string runtime_root;
  std::string shim_path;
  EventBus* events = nullptr;  // may be null
};

// The host for a real Engine.
inline ExecHost exec_host(Engine& e) {
  ExecHost h;
  h.get = [&e](std::string_view ref) { return e.get(ref); };
  h.paths = [&e](std::string_view id) { return e.paths(id); };
  h.runtime_root = e.runtime_root();
  h.shim_path = e.options().shim_path;
  h.events = e.options().events;
  return h;
}

// One exec instance as Docker's ExecConfig describes it, plus its state.
struct ExecInstance {
  std::string id;  // 64 hex
  std::string container_id;
  std::string container_name;
  std::string image;
  std::vector<std::string> cmd;
  std::vector<std::string> env;
  std::string user;
  std::string working_dir;
  std::string detach_keys;
  bool tty = false, privileged = false;
  bool attach_stdin = false, attach_stdout = false, attach_stderr = false;
  bool started = false, running = false;
  bool died_reported = false;
  std::optional<int> exit_code;
  int pid = 0;
  int shim_pid = 0;
  std::string dir;  // where process.json, attach.sock and exit.json are
};

// Parses the body of POST /containers/{id}/exec (Docker's ExecConfig). Invalid errors
// as dockerd: "No exec command specified" for an empty Cmd.
[[nodiscard]] Result<ExecInstance> parse_exec_config(const Json& body);

// Builds the OCI process (process.json) for `x` from the container's own process
// (config.json's "process"): args = Cmd, Env appended, User (uid[:gid] or names looked up
// in the container's /etc/passwd and /etc/group under `rootfs`), WorkingDir, Tty, and
// every capability with Privileged.
[[nodiscard]] Result<Json> exec_process_json(const ExecInstance& x, const Json& container_process,
                                             const std::string& rootfs);

// Docker's ExecInspect for `x`.
Json exec_inspect_json(const ExecInstance& x);

// How an exec's I/O is reached after start.
struct ExecStream {
  UniqueFd attach;  // connected to the exec shim's attach socket (invalid when detached)
  bool tty = false;
};

class ExecService {
 public:
  explicit ExecService(ExecHost host) : host_(std::move(host)) {}
  ~ExecService();  // stops the watcher; running execs keep running under their shims

  // Starts the watcher thread, as dockerd's exec monitor: exec_die is published the
  // moment an exec's shim exits (not when someone next inspects it), and the execs of a
  // container are forgotten when the bus reports it destroyed. Needs host.events.
  [[nodiscard]] Status watch();

  // Creates an exec instance in container `ref` from Docker's ExecConfig `body`; returns
  // its id. Errors: NotFound "No such container: <ref>"; Conflict "Container <id> is not
  // running" / "Container <id> is paused, unpause the container before exec"; Invalid.
  [[nodiscard]] Result<std::string> create(std::string_view ref, const Json& body);
  // Starts exec `id`. With `detach` the process runs with no stdio attached and the
  // result has no attach fd; otherwise the returned socket is connected before the
  // process starts, so it sees all the output. `tty` and `console` ({h, w}) override the
  // instance's. Errors: NotFound "No such exec instance: <id>"; Conflict "Error: Exec
  // command <id> is already running" / "... has already run"; the container's errors.
  [[nodiscard]] Result<ExecStream> start(std::string_view id, bool detach, std::optional<bool> tty,
                                         std::optional<std::pair<int, int>> console);
  // Docker's ExecInspect. NotFound "No such exec instance: <id>".
  [[nodiscard]] Result<Json> inspect(std::string_view id);
  // The attach socket of a running exec (for resize). NotFound / Conflict as above.
  [[nodiscard]] Result<std::string> attach_socket(std::string_view id);
  // Forgets the execs of a container (after it was removed).
  void forget_container(std::string_view container_id);

 private:
  // Reads the exit file of a started exec; publishes exec_die once. Holds mu_.
  void refresh(ExecInstance& x);
  // Adds the exec's shim to the watcher (a no-op without one). Holds mu_.
  void watch_shim(const ExecInstance& x);
  void watch_loop();
  [[nodiscard]] Result<ExecInstance*> find(std::string_view id);
  void publish(const ExecInstance& x, const std::string& action, Json attrs);

  ExecHost host_;
  std::mutex mu_;
  std::map<std::string, ExecInstance, std::less<>> execs_;
  // The watcher: an epoll set of the running execs' shim pidfds (pidfd -> exec id) and
  // the bus subscription that reports destroyed containers.
  UniqueFd epoll_, wake_;
  std::map<int, std::pair<std::string, UniqueFd>> watched_;
  std::unique_ptr<Subscription> destroyed_;
  std::atomic<bool> stop_{false};
  std::thread watcher_;
};

}  // namespace silo::engine
