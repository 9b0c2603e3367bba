// Container I/O: GET /containers/{name}/logs, POST /containers/{name}/attach and
// /resize; exec: POST /containers/{name}/exec, POST /exec/{id}/start, GET /exec/{id}/json,
// POST /exec/{id}/resize. Output comes from silo-shim's attach socket and json-file log.

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <thread>

#include "api/http.h"
#include "common/sys.h"
#include "daemon/daemon.h"
#include "daemon/io_logs.h"
#include "daemon/io_pump.h"
#include "engine/exec.h"

namespace silo::daemon {
namespace {

using namespace std::chrono_literals;
using api::Call;
using api::Response;

constexpr const char kDefaultDetachKeys[] = "ctrl-p,ctrl-q";
constexpr uint8_t kReplay = 4;

bool has_tty(const engine::ContainerRecord& c) {
  return c.config.value("Tty", false);
}
bool is_running(const engine::ContainerRecord& c) {
  return c.state.status == "running" || c.state.status == "paused";
}

Result<LogQuery> log_query(const api::Query& q) {
  LogQuery out;
  out.stdout_ = q.get_bool("stdout");
  out.stderr_ = q.get_bool("stderr");
  out.timestamps = q.get_bool("timestamps");
  auto since = parse_log_time(q.get("since"), "since");
  if (!since) return std::unexpected(since.error());
  auto until = parse_log_time(q.get("until"), "until");
  if (!until) return std::unexpected(until.error());
  auto tail = parse_tail(q.get("tail"));
  if (!tail) return std::unexpected(tail.error());
  out.since_ns = *since, out.until_ns = *until, out.tail = *tail;
  return out;
}

std::string encode_all(const std::vector<LogEntry>& entries, const LogQuery& q, bool tty) {
  std::string out;
  for (const auto& e : entries) out += encode_log_entry(e, q, tty);
  return out;
}

// GET /containers/{name}/logs
Result<Response> logs(const Context& ctx, Call& call) {
  auto c = ctx.engine->get(call.req.param("name"));
  if (!c) return std::unexpected(c.error());
  auto q = log_query(call.req.query);
  if (!q) return std::unexpected(q.error());
  if (!q->stdout_ && !q->stderr_)
    return fail(Code::Invalid, "Bad parameters: you must choose at least one stream");
  bool tty = has_tty(*c);
  std::string path = ctx.engine->paths(c->id).log_path;
  uint64_t offset = 0;
  auto entries = read_log(path, *q, &offset);
  if (!entries) return std::unexpected(entries.error());
  SILO_TRY(call.begin_stream(200, "application/vnd.docker.raw-stream"));
  if (!entries->empty() && !call.write(encode_all(*entries, *q, tty))) return Response::empty(200);
  if (!call.req.query.get_bool("follow") || !is_running(*c)) return Response::empty(200);
  LogFollower follower(path, offset);
  for (;;) {
    std::this_thread::sleep_for(100ms);
    auto now = ctx.engine->get(c->id);
    bool running = now && is_running(*now) && now->state.started_at == c->state.started_at;
    std::vector<LogEntry> fresh;
    for (auto& e : follower.poll())
      if (log_wanted(e, *q)) fresh.push_back(std::move(e));
    if (!fresh.empty() && !call.write(encode_all(fresh, *q, tty))) break;
    if (!running || call.stopping() || call.client_gone()) break;
    if (q->until_ns && std::chrono::system_clock::now().time_since_epoch().count() > q->until_ns)
      break;
  }
  return Response::empty(200);
}

// True when the hijacked client closed its connection.
bool client_gone(int fd) {
  pollfd p{fd, 0, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR));
}

// Replays the log of the run that started at `started_at` (a container that ran and
// exited while the attach waited for it).
void replay_run(const Context& ctx, const engine::ContainerRecord& c, LogQuery q, int fd) {
  q.since_ns = parse_rfc3339_ns(c.state.started_at).value_or(0);
  auto entries = read_log(ctx.engine->paths(c.id).log_path, q);
  if (entries) {
    std::string data = encode_all(*entries, q, has_tty(c));
    (void)sys::write_all(fd, data.data(), data.size());
  }
}

// Engine::hold_start_for_attach for the life of one attach request.
class AttachHold {
 public:
  AttachHold(engine::Engine& e, std::string id, bool hold) : e_(e), id_(std::move(id)), on_(hold) {
    if (on_) e_.hold_start_for_attach(id_, true);
  }
  ~AttachHold() { release(); }
  void release() {
    if (on_) e_.hold_start_for_attach(id_, false);
    on_ = false;
  }

 private:
  engine::Engine& e_;
  std::string id_;
  bool on_;
};

// POST /containers/{name}/attach
Result<Response> attach(const Context& ctx, Call& call) {
  auto c = ctx.engine->get(call.req.param("name"));
  if (!c) return std::unexpected(c.error());
  const auto& qs = call.req.query;
  std::string keys_spec = qs.get("detachKeys");
  if (keys_spec.empty()) keys_spec = kDefaultDetachKeys;
  auto keys = parse_detach_keys(keys_spec);
  if (!keys) return std::unexpected(keys.error());
  LogQuery q;
  q.stdout_ = qs.get_bool("stdout");
  q.stderr_ = qs.get_bool("stderr");
  bool tty = has_tty(*c);
  auto h = call.hijack();
  if (!h) return std::unexpected(h.error());
  if (qs.get_bool("logs")) {
    auto entries = read_log(ctx.engine->paths(c->id).log_path, q);
    if (entries) {
      std::string data = encode_all(*entries, q, tty);
      (void)sys::write_all(h->fd.get(), data.data(), data.size());
    }
  }
  if (!qs.get_bool("stream")) return Response::empty(200);
  // `docker run` attaches before it starts the container: wait for it to run. The
  // hold makes the next start's shim wait for us before the process runs, so a run
  // that is over in a millisecond (and removed at once with --rm) still reaches us.
  bool waited = false;
  engine::ContainerRecord now = *c;
  const std::string socket_path = ctx.engine->paths(c->id).attach_socket;
  AttachHold hold(*ctx.engine, c->id, !is_running(now));
  std::optional<UniqueFd> early;  // connected before the process ran: nothing to replay
  while (!is_running(now)) {
    if (now.state.started_at != c->state.started_at) {
      replay_run(ctx, now, q, h->fd.get());
      return Response::empty(200);
    }
    if (sys::path_exists(socket_path)) {
      if (auto s = sys::connect_unix(socket_path, "attach socket")) {
        early = std::move(*s);
        break;
      }
    }
    if (client_gone(h->fd.get()) || call.stopping()) return Response::empty(200);
    std::this_thread::sleep_for(2ms);
    waited = true;
    auto r = ctx.engine->get(c->id);
    if (!r) return Response::empty(200);
    now = std::move(*r);
  }
  hold.release();
  auto shim =
      early ? Result<UniqueFd>(std::move(*early)) : sys::connect_unix(socket_path, "attach socket");
  if (!shim) {
    // It exited between our look and the connect: what it wrote is in the log.
    auto r = ctx.engine->get(c->id);
    if (r) replay_run(ctx, *r, q, h->fd.get());
    return Response::empty(200);
  }
  if (waited && !early) (void)send_shim_request(shim->get(), kReplay, {});
  PumpOptions o;
  o.forward_stdin = qs.get_bool("stdin") && now.config.value("OpenStdin", false);
  o.close_stdin_on_eof = now.config.value("StdinOnce", false);
  o.detach_keys = *keys;
  o.tty = tty;
  o.want_stdout = q.stdout_, o.want_stderr = q.stderr_;
  (void)pump(*h, *shim, o);
  return Response::empty(200);
}

Result<std::pair<int, int>> console_size(const api::Query& q) {
  auto h = q.get_int("h", 0);
  if (!h) return std::unexpected(h.error());
  auto w = q.get_int("w", 0);
  if (!w) return std::unexpected(w.error());
  return std::pair<int, int>(static_cast<int>(*h), static_cast<int>(*w));
}

// POST /containers/{name}/resize
Result<Response> resize(const Context& ctx, Call& call) {
  auto c = ctx.engine->get(call.req.param("name"));
  if (!c) return std::unexpected(c.error());
  auto size = console_size(call.req.query);
  if (!size) return std::unexpected(size.error());
  if (!is_running(*c)) return fail(Code::Conflict, "Container " + c->id + " is not running");
  SILO_TRY(send_resize(ctx.engine->paths(c->id).attach_socket, size->first, size->second));
  return Response::empty(200);
}

// POST /exec/{id}/start
Result<Response> exec_start(engine::ExecService& execs, Call& call) {
  auto body = call.req.json_object(true);
  if (!body) return std::unexpected(body.error());
  bool detach = body->value("Detach", false);
  std::optional<bool> tty;
  if (body->contains("Tty") && (*body)["Tty"].is_boolean()) tty = (*body)["Tty"].get<bool>();
  std::optional<std::pair<int, int>> console;
  if (auto cs = body->find("ConsoleSize"); cs != body->end() && cs->is_array() && cs->size() == 2)
    console = std::pair<int, int>((*cs)[0].get<int>(), (*cs)[1].get<int>());
  std::string id(call.req.param("id"));
  auto info = execs.inspect(id);
  if (!info) return std::unexpected(info.error());
  auto stream = execs.start(id, detach, tty, console);
  if (!stream) return std::unexpected(stream.error());
  if (detach) return Response::empty(200);
  std::string keys_spec = info->value("DetachKeys", "");
  auto keys = parse_detach_keys(keys_spec.empty() ? kDefaultDetachKeys : keys_spec);
  auto h = call.hijack();
  if (!h) return std::unexpected(h.error());
  PumpOptions o;
  o.forward_stdin = info->value("OpenStdin", false);
  o.close_stdin_on_eof = true;
  o.detach_keys = keys ? *keys : "";
  o.tty = stream->tty;
  o.want_stdout = info->value("OpenStdout", false);
  o.want_stderr = info->value("OpenStderr", false);
  (void)pump(*h, stream->attach, o);
  return Response::empty(200);
}

}  // namespace

Status add_io_routes(api::Router& r, const Context& ctx) {
  if (!ctx.engine) return {};
  const Context* c = &ctx;
  SILO_TRY(r.add("GET", "/containers/{name}/logs", [c](Call& call) { return logs(*c, call); }));
  SILO_TRY(
      r.add("POST", "/containers/{name}/attach", [c](Call& call) { return attach(*c, call); }));
  SILO_TRY(
      r.add("POST", "/containers/{name}/resize", [c](Call& call) { return resize(*c, call); }));
  auto execs = std::make_shared<engine::ExecService>(engine::exec_host(*ctx.engine));
  if (ctx.engine->options().events) SILO_TRY(execs->watch());
  SILO_TRY(r.add("POST", "/containers/{name}/exec", [execs](Call& call) -> Result<Response> {
    auto body = call.req.json_object();
    if (!body) return std::unexpected(body.error());
    auto id = execs->create(call.req.param("name"), *body);
    if (!id) return std::unexpected(id.error());
    return Response::json({{"Id", *id}}, 201);
  }));
  SILO_TRY(
      r.add("POST", "/exec/{id}/start", [execs](Call& call) { return exec_start(*execs, call); }));
  SILO_TRY(r.add("GET", "/exec/{id}/json", [execs](Call& call) -> Result<Response> {
    auto j = execs->inspect(call.req.param("id"));
    if (!j) return std::unexpected(j.error());
    return Response::json(*j);
  }));
  SILO_TRY(r.add("POST", "/exec/{id}/resize", [execs](Call& call) -> Result<Response> {
    auto size = console_size(call.req.query);
    if (!size) return std::unexpected(size.error());
    auto sock = execs->attach_socket(call.req.param("id"));
    if (!sock) return std::unexpected(sock.error());
    SILO_TRY(send_resize(*sock, size->first, size->second));
    return Response::empty(200);
  }));
  return {};
}

}  // namespace silo::daemon
