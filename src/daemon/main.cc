// silod: the Silo host daemon: the Engine API over the state store, the event bus and the
// container engine.
//
// Start-up reads as dockerd's: flags, then daemon.json, then directories, pid file,
// store, API socket; it runs until SIGTERM or SIGINT and then removes its socket and pid
// file and exits 0. Containers keep running across a stop (live restore): the engine
// only stops watching them.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "api/server.h"
#include "api/version.h"
#include "common/id.h"
#include "common/log.h"
#include "common/sys.h"
#include "daemon/daemon.h"
#include "daemon/pidfile.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "engine/store.h"

namespace silo::daemon {
namespace {

struct Flags {
  std::string config_file{engine::kDefaultConfigFile};
  bool config_file_given = false;
  std::string data_root, exec_root, log_level, pidfile;
  std::vector<std::string> hosts;
  bool debug = false;
};

// Lexically absolute, as Go's filepath.Abs: a relative --data-root is relative to the cwd.
std::string absolute(const std::string& p) {
  return std::filesystem::absolute(p).lexically_normal().string();
}

// The flags that override daemon.json keys, in daemon.json's own form.
Json flag_overrides(const Flags& f) {
  Json o = Json::object();
  if (!f.data_root.empty()) o["data-root"] = absolute(f.data_root);
  if (!f.exec_root.empty()) o["exec-root"] = absolute(f.exec_root);
  if (!f.hosts.empty()) o["hosts"] = f.hosts;
  if (!f.log_level.empty()) o["log-level"] = f.log_level;
  if (f.debug) o["debug"] = true;
  return o;
}

// The socket path of the one host silod listens on. Only unix:// sockets for now: TCP
// needs TLS before it may leave loopback.
Result<std::string> unix_socket_path(const std::vector<std::string>& hosts) {
  if (hosts.size() != 1)
    return fail(Code::Invalid, "hosts: silod listens on exactly one socket for now, got " +
                                   std::to_string(hosts.size()) + "; give one -H unix:///path");
  const std::string& h = hosts.front();
  if (!h.starts_with("unix://") || h.size() <= 7 || h[7] != '/')
    return fail(Code::Invalid,
                "host \"" + h + "\": only unix:///absolute/path sockets are supported for now");
  return h.substr(7);
}

// Root holds container and volume data: owner-only, as dockerd's. The exec root holds the
// default socket, so others may traverse it (0711) to reach the socket the group owns.
Status make_dirs(const engine::DaemonConfig& cfg, const std::string& socket_path) {
  SILO_TRY_CTX(sys::mkdir_p(cfg.root, 0700), "data root");
  if (::chmod(cfg.root.c_str(), 0700) != 0) return fail_errno(errno, "chmod data root " + cfg.root);
  SILO_TRY_CTX(sys::mkdir_p(cfg.volumes_dir(), 0700), "volumes dir");
  SILO_TRY_CTX(sys::mkdir_p(cfg.exec_root, 0711), "exec root");
  auto dir = std::filesystem::path(socket_path).parent_path().string();
  SILO_TRY_CTX(sys::mkdir_p(dir, 0755), "socket dir");
  return {};
}

// A stable daemon ID (Info.ID), kept in <root>/engine-id as dockerd does.
Result<std::string> engine_id(const std::string& root) {
  const std::string path = root + "/engine-id";
  if (sys::path_exists(path)) {
    auto text = sys::read_file(path);
    if (!text) return wrap(text.error(), "read engine id");
    if (!text->empty()) return *text;
  }
  std::string h = new_id();
  std::string id = h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" +
                   h.substr(16, 4) + "-" + h.substr(20, 12);
  SILO_TRY_CTX(sys::write_file_atomic(path, id, 0600), "write engine id " + path);
  return id;
}

// A binary installed next to silod (build/silo-runc, /usr/bin/silo-shim).
std::string sibling(const char* name) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return name;
  return (self.parent_path() / name).string();
}

std::string runtime_path() {
  return sibling("silo-runc");
}

// --init runs tini as Docker's docker-init; the static build works in any image.
std::string init_path() {
  for (const char* p : {"/usr/bin/tini-static", "/usr/bin/docker-init"})
    if (sys::path_exists(p)) return p;
  return "";
}

std::string spdlog_level(const std::string& level) {
  return level == "fatal" ? "critical" : level;
}

Result<api::Router> make_router(const Context& ctx) {
  api::Router r;
  SILO_TRY(add_system_info_routes(r, ctx));
  SILO_TRY(add_container_list_routes(r, ctx));
  SILO_TRY(add_volume_routes(r, ctx));
  SILO_TRY(add_network_routes(r, ctx));
  SILO_TRY(add_lifecycle_routes(r, ctx));
  SILO_TRY(add_image_routes(r, ctx));
  SILO_TRY(add_image_archive_routes(r, ctx));
  SILO_TRY(add_image_registry_routes(r, ctx));
  SILO_TRY(add_build_routes(r, ctx));
  SILO_TRY(add_io_routes(r, ctx));
  SILO_TRY(add_observe_routes(r, ctx));
  return r;
}

// Blocks until SIGTERM or SIGINT (blocked in every thread since start-up) arrives.
int wait_for_stop_signal(const sigset_t& set) {
  int sig = 0;
  while (::sigwait(&set, &sig) != 0) {
  }
  return sig;
}

Status run(const Flags& flags, const sigset_t& stop_signals) {
  auto cfg =
      engine::load_daemon_config(flags.config_file, flags.config_file_given, flag_overrides(flags));
  if (!cfg) return std::unexpected(cfg.error());
  log::init("", log::Format::Text, spdlog_level(cfg->log_level));
  auto socket = unix_socket_path(cfg->hosts);
  if (!socket) return std::unexpected(socket.error());
  SILO_TRY(make_dirs(*cfg, *socket));
  auto pid = PidFile::acquire(flags.pidfile.empty() ? cfg->exec_root + "/silod.pid"
                                                    : absolute(flags.pidfile));
  if (!pid) return std::unexpected(pid.error());
  auto store = engine::Store::open(cfg->db_path());
  if (!store) return wrap(store.error(), "open state store " + cfg->db_path());
  Context ctx{.config = *cfg, .store = store->get(), .version = api::with_host_defaults({})};
  auto id = engine_id(cfg->root);
  if (!id) return std::unexpected(id.error());
  ctx.daemon_id = *id;
  ctx.runtime_path = runtime_path();
  engine::EventBus events(store->get());
  ctx.events = &events;
  auto eng = engine::Engine::open({.config = *cfg,
                                   .store = store->get(),
                                   .events = &events,
                                   .shim_path = sibling("silo-shim"),
                                   .init_path = init_path()});
  if (!eng) return wrap(eng.error(), "start the container engine");
  ctx.engine = eng->get();
  auto router = make_router(ctx);
  if (!router) return std::unexpected(router.error());
  auto server =
      api::Server::start(std::move(*router), {.unix_path = *socket, .version = ctx.version});
  if (!server) return std::unexpected(server.error());
  spdlog::info("Silo daemon {} (Docker Engine API {}), data root {}, config {}",
               ctx.version.silo_version, api::kMaxApiVersion, cfg->root,
               cfg->config_file.empty() ? "(none)" : cfg->config_file);
  spdlog::info("API listen on {}", *socket);
  int sig = wait_for_stop_signal(stop_signals);
  spdlog::info("Processing signal '{}'", ::sigabbrev_np(sig));
  (*server)->stop();
  eng->reset();  // stops watching; the containers keep running under their shims
  spdlog::info("Daemon shutdown complete");
  return {};
}

}  // namespace
}  // namespace silo::daemon

int main(int argc, char** argv) {
  using namespace silo;
  // Before any thread exists, so every thread inherits the mask and only sigwait() sees
  // the stop signals. SIGPIPE: a write to a client that left must fail with EPIPE.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  ::pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"silod: the Silo container host daemon (speaks the Docker Engine API)", "silod"};
  app.set_version_flag("-v,--version", std::string("Silo version ") + SILO_VERSION + ", API " +
                                           std::string(api::kMaxApiVersion) +
                                           " (Docker Engine 20.10 compatible)");
  daemon::Flags f;
  auto* cf = app.add_option("--config-file", f.config_file, "daemon configuration file")
                 ->capture_default_str();
  app.add_option("--data-root,--root", f.data_root,
                 "root of persistent state (default /var/lib/silo)");
  app.add_option("--exec-root", f.exec_root, "root of runtime state (default /run/silo)");
  app.add_option("-H,--host", f.hosts, "socket to listen on (default unix:///run/silo/silo.sock)");
  app.add_option("-l,--log-level", f.log_level, "debug, info, warn, error or fatal (default info)");
  app.add_flag("-D,--debug", f.debug, "log at debug level");
  app.add_option("-p,--pidfile", f.pidfile, "pid file (default <exec-root>/silod.pid)");
  CLI11_PARSE(app, argc, argv);
  f.config_file_given = cf->count() > 0;

  if (auto ok = daemon::run(f, stop); !ok) {
    std::fprintf(stderr, "silod: %s\n", ok.error().message.c_str());
    return 1;
  }
  return 0;
}
