#include "image/build_cache.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "common/sha256.h"
#include "image/dockerignore.h"

// The command strings copy moby's builder/dockerfile/dispatchers.go so that images built
// here show the same `docker history` as the classic builder's, and so that a step's
// recorded command can serve as its cache identity the way the classic builder's image
// cache compares ContainerConfig.

namespace silo::image {

namespace {

const std::vector<std::string> kDefaultShell = {"/bin/sh", "-c"};

const std::vector<std::string>& shell_of(const RunConfig& c) {
  return c.shell.empty() ? kDefaultShell : c.shell;
}

Result<int> port_number(std::string_view s, std::string_view whole) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 1 || v > 65535)
    return fail(Code::Invalid, "invalid containerPort: " + std::string(whole));
  return v;
}

// "80", "80/udp", "8000-8002" -> "80/tcp", ... (nat.ParsePortSpecs).
Status add_ports(const std::string& spec, std::set<std::string>& out) {
  if (spec.find(':') != std::string::npos)
    return fail(Code::Invalid, "EXPOSE " + spec +
                                   ": EXPOSE takes container ports only (80, 80/udp, "
                                   "8000-8002); publish host ports with `run -p`");
  size_t slash = spec.find('/');
  std::string proto = slash == std::string::npos ? "tcp" : spec.substr(slash + 1);
  std::string ports = spec.substr(0, slash);
  if (proto != "tcp" && proto != "udp" && proto != "sctp")
    return fail(Code::Invalid, "EXPOSE " + spec + ": invalid proto: " + proto);
  size_t dash = ports.find('-');
  auto lo = port_number(ports.substr(0, dash), ports);
  if (!lo) return wrap(lo.error(), "EXPOSE " + spec);
  int hi = *lo;
  if (dash != std::string::npos) {
    auto h = port_number(ports.substr(dash + 1), ports);
    if (!h || *h < *lo) return fail(Code::Invalid, "EXPOSE " + spec + ": invalid range: " + ports);
    hi = *h;
  }
  for (int p = *lo; p <= hi; ++p) out.insert(std::to_string(p) + "/" + proto);
  return {};
}

Status check_signal(const std::string& sig) {
  static constexpr std::string_view kNames[] = {
      "HUP",  "INT",   "QUIT", "ILL",  "TRAP", "ABRT", "IOT",   "BUS",    "FPE",
      "KILL", "USR1",  "SEGV", "USR2", "PIPE", "ALRM", "TERM",  "STKFLT", "CHLD",
      "CONT", "STOP",  "TSTP", "TTIN", "TTOU", "URG",  "XCPU",  "XFSZ",   "VTALRM",
      "PROF", "WINCH", "IO",   "POLL", "PWR",  "SYS",  "RTMIN", "RTMAX"};
  int n = 0;
  auto [p, ec] = std::from_chars(sig.data(), sig.data() + sig.size(), n);
  if (ec == std::errc() && p == sig.data() + sig.size() && n > 0 && n <= 64) return {};
  std::string name = sig.starts_with("SIG") ? sig.substr(3) : sig;
  if (std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames)) return {};
  return fail(Code::Invalid, "STOPSIGNAL " + sig + ": Invalid signal: " + sig +
                                 " (use a name like SIGTERM or a number)");
}

void set_env(std::vector<std::string>& env, const std::string& key, const std::string& value) {
  auto it = std::find_if(env.begin(), env.end(),
                         [&](const std::string& kv) { return kv.starts_with(key + "="); });
  if (it != env.end())
    *it = key + "=" + value;
  else
    env.push_back(key + "=" + value);
}

std::vector<std::string> command_of(const Instruction& ins, const RunConfig& c) {
  if (ins.json_form) return ins.args;
  std::vector<std::string> cmd = shell_of(c);
  cmd.insert(cmd.end(), ins.args.begin(), ins.args.end());
  return cmd;
}

Status apply_to(RunConfig& c, std::string& author, const Instruction& x, bool cmd_set) {
  switch (x.keyword) {
    case Keyword::Env:
      for (const KeyValue& kv : x.pairs) set_env(c.env, kv.key, kv.value);
      break;
    case Keyword::Label:
      for (const KeyValue& kv : x.pairs) c.labels[kv.key] = kv.value;
      break;
    case Keyword::Cmd:
      c.cmd = command_of(x, c);
      break;
    case Keyword::Entrypoint:
      c.entrypoint = command_of(x, c);
      if (!cmd_set) c.cmd.clear();
      break;
    case Keyword::Workdir: {
      std::string wd = x.args[0];
      if (!wd.starts_with("/")) wd = (c.working_dir.empty() ? "/" : c.working_dir) + "/" + wd;
      c.working_dir = clean_path(wd);
      break;
    }
    case Keyword::User:
      c.user = x.args[0];
      break;
    case Keyword::Expose:
      for (const std::string& p : x.args) SILO_TRY(add_ports(p, c.exposed_ports));
      break;
    case Keyword::Volume:
      for (const std::string& v : x.args) c.volumes.insert(v);
      break;
    case Keyword::StopSignal:
      SILO_TRY(check_signal(x.args[0]));
      c.stop_signal = x.args[0];
      break;
    case Keyword::Healthcheck:
      c.healthcheck = x.healthcheck;
      break;
    case Keyword::Shell:
      c.shell = x.args;
      break;
    case Keyword::Onbuild:
      c.on_build.push_back(x.rest);
      break;
    case Keyword::Maintainer:
      author = x.args[0];
      break;
    default:
      break;
  }
  return {};
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? std::string(sep) : "") + v[i];
  return out;
}

// Go's %q of an int (a rune literal), as HEALTHCHECK's record prints Retries.
std::string go_rune(int r) {
  if (r == '\'' || r == '\\') return std::string("'\\") + static_cast<char>(r) + "'";
  if (r >= 0x20 && r < 0x7f) return std::string("'") + static_cast<char>(r) + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, r < 0x80 ? "'\\x%02x'" : "'\\u%04x'", r);
  return buf;
}

// The nop comment for a metadata step (the text after "#(nop) ").
std::string comment_for(const Instruction& x, const RunConfig& after) {
  std::string kw(keyword_name(x.keyword));
  std::string out = kw;
  switch (x.keyword) {
    case Keyword::Env:
    case Keyword::Label:
    case Keyword::Arg:
      for (const KeyValue& kv : x.pairs) out += " " + kv.key + (kv.has_value ? "=" + kv.value : "");
      return out;
    case Keyword::Cmd:
      return out + " " + go_quote(after.cmd);
    case Keyword::Entrypoint:
      return out + " " + go_quote(after.entrypoint);
    case Keyword::Volume:
      return out + " " + go_quote(x.args);
    case Keyword::Shell:
      return out + " [" + join(x.args, " ") + "]";
    case Keyword::Healthcheck: {
      const Healthcheck& h = *after.healthcheck;
      return out + " &{" + go_quote(h.test) + " " + go_quote(format_go_duration(h.interval_ns)) +
             " " + go_quote(format_go_duration(h.timeout_ns)) + " " +
             go_quote(format_go_duration(h.start_period_ns)) + " " +
             go_quote(format_go_duration(h.start_interval_ns)) + " " + go_rune(h.retries) + "}";
    }
    case Keyword::Onbuild:
      return out + " " + x.rest;
    default:
      return out + " " + join(x.args, " ");
  }
}

}  // namespace

std::string go_quote(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + go_quote(v[i]);
  return out + "]";
}

Result<ImageConfig> apply_step(const ImageConfig& config, const Instruction& ins,
                               const BuildArgs& args, bool cmd_set_in_stage) {
  auto x = expand_instruction(ins, args.stage_vars(config.config.env));
  if (!x) return std::unexpected(x.error());
  ImageConfig out = config;
  if (auto s = apply_to(out.config, out.author, *x, cmd_set_in_stage); !s)
    return wrap(s.error(), "Dockerfile line " + std::to_string(ins.line));
  return out;
}

Result<StepRecord> step_record(const ImageConfig& before, const Instruction& ins,
                               const BuildArgs& args, std::string_view source_checksum) {
  auto x = expand_instruction(ins, args.stage_vars(before.config.env));
  if (!x) return std::unexpected(x.error());
  StepRecord r;
  const std::vector<std::string>& shell = shell_of(before.config);
  r.cmd = shell;
  if (x->keyword == Keyword::Run) {
    r.empty_layer = false;
    r.cmd = command_of(*x, before.config);
    auto env = args.run_env(before.config.env, true);
    if (!env.empty()) {  // "|2 A=1 B=2 /bin/sh -c ...": build args are part of the step
      env.insert(env.begin(), "|" + std::to_string(env.size()));
      r.cmd.insert(r.cmd.begin(), env.begin(), env.end());
    }
  } else if (x->keyword == Keyword::Copy || x->keyword == Keyword::Add) {
    r.empty_layer = false;
    r.cmd.push_back("#(nop) " + std::string(keyword_name(x->keyword)) + " " +
                    std::string(source_checksum) + " in " + x->args.back() + " ");
  } else if (x->keyword == Keyword::Workdir) {
    auto after = apply_step(before, ins, args);
    if (!after) return std::unexpected(after.error());
    r.cmd.push_back("#(nop) WORKDIR " + after->config.working_dir);
  } else if (x->keyword == Keyword::From) {
    return fail(Code::Invalid, "FROM starts a stage and has no step record");
  } else {
    auto after = apply_step(before, ins, args);
    if (!after) return std::unexpected(after.error());
    r.cmd.push_back("#(nop) ");
    r.cmd.push_back(comment_for(*x, after->config));
  }
  r.created_by = join(r.cmd, " ");
  return r;
}

std::string cache_key(std::string_view parent_id, const StepRecord& record,
                      const ImageConfig& after, const Instruction& ins,
                      std::string_view source_checksum) {
  // Length-prefixed fields, so no two different inputs serialize alike.
  std::string s;
  auto add = [&](std::string_view f) { s += std::to_string(f.size()) + ":" + std::string(f); };
  auto add_all = [&](const auto& list) {
    add(std::to_string(list.size()));
    for (const auto& e : list) add(e);
  };
  add(parent_id);
  add_all(record.cmd);
  const RunConfig& c = after.config;
  add_all(c.env), add_all(c.cmd), add_all(c.entrypoint), add(c.working_dir), add(c.user);
  add_all(c.exposed_ports), add_all(c.volumes), add(c.stop_signal), add_all(c.shell);
  add_all(c.on_build), add(after.author);
  for (const auto& [k, v] : c.labels) add(k), add(v);
  if (c.healthcheck) {
    add_all(c.healthcheck->test);
    for (int64_t n :
         {c.healthcheck->interval_ns, c.healthcheck->timeout_ns, c.healthcheck->start_period_ns,
          c.healthcheck->start_interval_ns, int64_t{c.healthcheck->retries}})
      add(std::to_string(n));
  }
  add(source_checksum);
  // Docker leaves --chown/--chmod out of the recorded command; here they are part of the
  // key, so a changed owner or mode never reuses a layer made with the old one.
  for (const Flag& f : ins.flags) add(f.name), add(f.value);
  return "sha256:" + sha256_hex(s);
}

HistoryEntry history_entry(const StepRecord& record, std::string created) {
  HistoryEntry h;
  h.created = std::move(created);
  h.created_by = record.created_by;
  h.empty_layer = record.empty_layer;
  return h;
}

}  // namespace silo::image
