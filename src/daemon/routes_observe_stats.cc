// GET /containers/{name}/stats (cgroup counters as Docker's StatsJSON, once or every
// second) and GET /containers/{name}/top (the host's `ps`, cut to the container's pids).

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

#include "api/http.h"
#include "common/sys.h"
#include "daemon/routes_observe.h"
#include "engine/stats.h"

extern char** environ;

namespace silo::daemon {
namespace {

using engine::StatsSample;

bool is_running(const engine::ContainerRecord& c) {
  return c.state.status == "running" || c.state.status == "paused";
}

Result<StatsSample> sample(const Context& ctx, const std::string& id) {
  return engine::read_stats(
      [&](std::string_view controller) { return ctx.engine->cgroup_dir(id, controller); });
}

// Sleeps about `ms`, returning early (false) when the server is stopping.
bool pause_for(api::Call& call, int ms) {
  for (int waited = 0; waited < ms; waited += 100) {
    if (call.stopping() || call.client_gone()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return !call.stopping() && !call.client_gone();
}

Result<api::Response> stats(const Context& ctx, api::Call& call) {
  auto rec = ctx.engine->get(call.req.param("name"));
  if (!rec) return std::unexpected(rec.error());
  const std::string name = "/" + rec->name, id = rec->id;
  bool stream = call.req.query.get_bool_or("stream", true);
  bool one_shot = call.req.query.get_bool("one-shot");
  if (!stream) {
    // A stopped container: dockerd's zeroed object with the name and id.
    if (!is_running(*rec)) return api::Response::json(engine::stats_json({}, {}, name, id));
    auto first = sample(ctx, id);
    if (!first) return api::Response::json(engine::stats_json({}, {}, name, id));
    if (one_shot) return api::Response::json(engine::stats_json(*first, {}, name, id));
    // Without one-shot dockerd waits for a second sample so the cpu delta is real.
    if (!pause_for(call, 1000)) return api::Response::empty(200);
    auto second = sample(ctx, id);
    if (!second) return api::Response::json(engine::stats_json(*first, {}, name, id));
    return api::Response::json(engine::stats_json(*second, *first, name, id));
  }
  SILO_TRY(call.begin_stream(200, "application/json"));
  StatsSample prev;
  for (;;) {
    // A container that stopped shows zeros (as dockerd's collector publishes); one that
    // was removed ends the stream.
    auto now = ctx.engine->get(id);
    if (!now) return api::Response::empty(200);
    StatsSample cur;
    if (is_running(*now)) {
      if (auto s = sample(ctx, id)) cur = std::move(*s);
    }
    if (!call.write(engine::stats_json(cur, prev, name, id).dump() + "\n"))
      return api::Response::empty(200);
    prev = std::move(cur);
    if (!pause_for(call, 1000)) return api::Response::empty(200);
  }
}

// Runs `ps` with `args`; its stdout, or an error with its exit status.
Result<std::string> run_ps(const std::vector<std::string>& args) {
  auto pipe = sys::pipe2(O_CLOEXEC);
  if (!pipe) return wrap(pipe.error(), "run ps");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipe->second.get(), 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> argv;
  std::string ps = "ps";
  argv.push_back(ps.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "ps", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  pipe->second.reset();
  if (rc != 0) return fail_errno(rc, "Error running ps");
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(pipe->first.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  auto status = sys::waitpid(pid, 0);
  if (!status) return wrap(status.error(), "Error running ps");
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
    return fail(Code::Internal, "Error running ps: exit status " +
                                    std::to_string(WIFEXITED(*status) ? WEXITSTATUS(*status) : 1));
  return out;
}

std::vector<std::string> fields(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    size_t j = i;
    while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
    if (j > i) out.emplace_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

// dockerd's parsePSOutput: the header's titles, and the rows whose PID is one of `pids`
// (with thread rows, PID "-", following a kept row); the last column keeps its spaces.
Result<Json> parse_ps(const std::string& output, const std::set<pid_t>& pids) {
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < output.size();) {
    size_t nl = output.find('\n', pos);
    if (nl == std::string::npos) nl = output.size();
    lines.emplace_back(output.data() + pos, nl - pos);
    pos = nl + 1;
  }
  if (lines.empty()) return fail(Code::Internal, "Couldn't find PID field in ps output");
  auto titles = fields(lines[0]);
  auto pid_col = std::find(titles.begin(), titles.end(), "PID") - titles.begin();
  if (static_cast<size_t>(pid_col) == titles.size())
    return fail(Code::Internal, "Couldn't find PID field in ps output");
  Json procs = Json::array();
  bool prev_kept = false;
  auto keep = [&](const std::vector<std::string>& f) {
    Json row = Json::array();
    size_t last = titles.size() - 1;
    for (size_t i = 0; i < f.size() && i < last; ++i) row.push_back(f[i]);
    std::string tail;
    for (size_t i = last; i < f.size(); ++i) tail += (i > last ? " " : "") + f[i];
    row.push_back(tail);
    procs.push_back(row);
  };
  for (size_t i = 1; i < lines.size(); ++i) {
    auto f = fields(lines[i]);
    if (f.size() <= static_cast<size_t>(pid_col)) continue;
    const std::string& p = f[pid_col];
    if (p == "-") {
      if (prev_kept) keep(f);
      continue;
    }
    char* end = nullptr;
    long v = std::strtol(p.c_str(), &end, 10);
    if (end == p.c_str() || *end) return fail(Code::Internal, "Unexpected pid '" + p + "'");
    prev_kept = pids.contains(static_cast<pid_t>(v));
    if (prev_kept) keep(f);
  }
  return Json{{"Titles", titles}, {"Processes", procs}};
}

Result<api::Response> top(const Context& ctx, const api::Request& req) {
  auto pids = ctx.engine->processes(req.param("name"));
  if (!pids) return std::unexpected(pids.error());
  std::string ps_args = req.query.get("ps_args");
  if (ps_args.empty()) ps_args = "-ef";
  auto args = fields(ps_args);
  // As dockerd: ask ps for just these pids (-q, procps), and without when the other
  // options refuse it (f cannot go with q).
  std::string list;
  for (pid_t p : *pids) list += (list.empty() ? "" : ",") + std::to_string(p);
  auto with_q = args;
  with_q.push_back("-q");
  with_q.push_back(list.empty() ? "0" : list);
  auto out = run_ps(with_q);
  if (!out) out = run_ps(args);
  if (!out) return std::unexpected(out.error());
  auto j = parse_ps(*out, std::set<pid_t>(pids->begin(), pids->end()));
  if (!j) return std::unexpected(j.error());
  return api::Response::json(*j);
}

}  // namespace

Status add_stats_routes(api::Router& router, const Context& ctx) {
  SILO_TRY(router.add("GET", "/containers/{name}/stats",
                      [&ctx](api::Call& c) { return stats(ctx, c); }));
  return router.add("GET", "/containers/{name}/top",
                    [&ctx](api::Call& c) { return top(ctx, c.req); });
}

}  // namespace silo::daemon
