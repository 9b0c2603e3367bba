// The HostConfig checks dockerd makes when a container is created (daemon/container.go
// validateHostConfig, daemon/daemon_unix.go verifyPlatformContainerSettings and
// verifyPlatformContainerResources), with dockerd 20.10's messages.

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>

#include "engine/container_config.h"
#include "engine/container_config_internal.h"
#include "engine/units.h"
#include "runtime/caps.h"

namespace silo::engine::detail {
namespace {

constexpr int64_t kMinMemory = 6 * 1024 * 1024;  // linuxMinMemory
constexpr int64_t kMinCpuShares = 2, kMaxCpuShares = 262144;

Status invalid(std::string msg) {
  return fail(Code::Invalid, std::move(msg));
}

std::string i2s(int64_t v) {
  return std::to_string(v);
}

// parsers.ParseUintList: "0-2,4" -> {0,1,2,4}. Errors: "invalid format: x".
Result<std::set<int>> parse_uint_list(std::string_view val) {
  std::set<int> out;
  if (val.empty()) return out;
  auto bad = [&] { return fail(Code::Invalid, "invalid format: " + std::string(val)); };
  size_t pos = 0;
  while (pos <= val.size()) {
    size_t comma = val.find(',', pos);
    std::string_view part =
        val.substr(pos, comma == std::string_view::npos ? val.npos : comma - pos);
    auto num = [](std::string_view s, int& n) {
      if (s.empty() || s.size() > 6) return false;
      n = 0;
      for (char c : s) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + (c - '0');
      }
      return true;
    };
    size_t dash = part.find('-');
    int a = 0, b = 0;
    if (dash == std::string_view::npos) {
      if (!num(part, a)) return bad();
      out.insert(a);
    } else {
      if (!num(part.substr(0, dash), a) || !num(part.substr(dash + 1), b) || b < a) return bad();
      for (int i = a; i <= b; ++i) out.insert(i);
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

Status validate_restart(Json& hc) {
  const Json& rp = hc["RestartPolicy"];
  Json name = rp.value("Name", Json(""));
  Json c = rp.value("MaximumRetryCount", Json(0));
  SILO_TRY(check_type(name, "RestartPolicy.HostConfig.RestartPolicy.Name", GoType::String));
  SILO_TRY(check_type(c, "RestartPolicy.HostConfig.RestartPolicy.MaximumRetryCount", GoType::Int));
  std::string n = name.is_null() ? "" : name.get<std::string>();
  int64_t retries = c.is_null() ? 0 : c.get<int64_t>();
  hc["RestartPolicy"] = Json{{"Name", n}, {"MaximumRetryCount", retries}};
  if (n == "always" || n == "unless-stopped" || n == "no") {
    if (retries != 0)
      return invalid("maximum retry count cannot be used with restart policy '" + n + "'");
  } else if (n == "on-failure") {
    if (retries < 0) return invalid("maximum retry count cannot be negative");
  } else if (!n.empty()) {
    return invalid("invalid restart policy '" + n + "'");
  }
  if (hc["AutoRemove"].get<bool>() && !n.empty() && n != "no")
    return invalid("can't create 'AutoRemove' container with restart policy");
  return {};
}

Status validate_memory(Json& hc, std::vector<std::string>& warnings) {
  int64_t mem = hc["Memory"].get<int64_t>();
  int64_t swap = hc["MemorySwap"].get<int64_t>();
  if (mem != 0 && mem < kMinMemory) return invalid("Minimum memory limit allowed is 6MB");
  if (mem > 0 && swap > 0 && swap < mem)
    return invalid("Minimum memoryswap limit should be larger than memory limit, see usage");
  if (mem == 0 && swap > 0)
    return invalid("You should always set the Memory limit when using Memoryswap limit, see usage");
  if (!hc["MemorySwappiness"].is_null()) {
    int64_t s = hc["MemorySwappiness"].get<int64_t>();
    if (s != -1 && (s < 0 || s > 100))
      return invalid("Invalid value: " + i2s(s) + ", valid memory swappiness range is 0-100");
  }
  int64_t res = hc["MemoryReservation"].get<int64_t>();
  if (res > 0 && res < kMinMemory) return invalid("Minimum memory reservation allowed is 6MB");
  if (mem > 0 && res > 0 && mem < res)
    return invalid("Minimum memory limit can not be less than memory reservation limit, see usage");
  int64_t kmem = hc["KernelMemory"].get<int64_t>();
  if (kmem > 0 && kmem < 4 * 1024 * 1024)
    return invalid("Minimum kernel memory limit allowed is 4MB");
  if (hc["OomKillDisable"].is_boolean() && hc["OomKillDisable"].get<bool>() && mem == 0)
    warnings.push_back(
        "OOM killer is disabled for the container, but no memory limit is set, this can result "
        "in the system running out of resources.");
  if (hc["ShmSize"].get<int64_t>() < 0) return invalid("SHM size can not be less than 0");
  return {};
}

Status validate_cpu(Json& hc) {
  int64_t nano = hc["NanoCpus"].get<int64_t>();
  int64_t period = hc["CpuPeriod"].get<int64_t>();
  int64_t quota = hc["CpuQuota"].get<int64_t>();
  if (nano > 0 && period > 0)
    return invalid("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (nano > 0 && quota > 0)
    return invalid("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  int n = num_cpus();
  if (nano < 0 || nano > int64_t(n) * 1000000000LL)
    return invalid("Range of CPUs is from 0.01 to " + i2s(n) + ".00, as there are only " + i2s(n) +
                   " CPUs available");
  if (period != 0 && (period < 1000 || period > 1000000))
    return invalid(
        "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  if (quota > 0 && quota < 1000)
    return invalid("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  // dockerd stores a negative value and the kernel refuses it at start ("shares: invalid
  // argument"); Silo refuses it here. Values between 1 and 2 or above the maximum are
  // clamped by the kernel, as with dockerd.
  int64_t shares = hc["CpuShares"].get<int64_t>();
  if (shares < 0)
    return invalid("Invalid value " + i2s(shares) + " for cpu shares: must be 0 (the default) or " +
                   i2s(kMinCpuShares) + " to " + i2s(kMaxCpuShares));
  std::string cpus = hc["CpusetCpus"].get<std::string>();
  auto want = parse_uint_list(cpus);
  if (!want) return invalid("Invalid value " + cpus + " for cpuset cpus: " + want.error().message);
  auto have = parse_uint_list(online_cpus());
  if (have) {
    for (int c : *want)
      if (!have->count(c))
        return invalid("Requested CPUs are not available - requested " + cpus +
                       ", available: " + online_cpus());
  }
  std::string mems = hc["CpusetMems"].get<std::string>();
  auto want_mems = parse_uint_list(mems);
  if (!want_mems)
    return invalid("Invalid value " + mems + " for cpuset mems: " + want_mems.error().message);
  for (int m : *want_mems)
    if (m != 0)
      return invalid("Requested memory nodes are not available - requested " + mems +
                     ", available: 0");
  int64_t blkio = hc["BlkioWeight"].get<int64_t>();
  if (blkio > 0 && (blkio < 10 || blkio > 1000))
    return invalid("Range of blkio weight is from 10 to 1000");
  return {};
}

Status validate_pids_oom(Json& hc) {
  // dockerd (API >= 1.40) treats a PidsLimit of 0 or below as "unlimited".
  if (hc["PidsLimit"].is_number() && hc["PidsLimit"].get<int64_t>() <= 0) hc["PidsLimit"] = nullptr;
  int64_t oom = hc["OomScoreAdj"].get<int64_t>();
  if (oom < -1000 || oom > 1000)
    return invalid("Invalid value " + i2s(oom) + ", range for oom score adj is [-1000, 1000]");
  return {};
}

// units.Ulimit: {Name, Hard, Soft}; GetRlimit and ParseUlimit's checks.
Status validate_ulimits(Json& hc) {
  static const std::set<std::string> kNames = {
      "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
      "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};
  Json& list = hc["Ulimits"];
  if (!list.is_array()) return {};
  for (auto& u : list) {
    if (!u.is_object())
      return std::unexpected(
          type_error(u, "HostConfig.HostConfig.Ulimits", GoType::Object, "units.Ulimit"));
    Json name = u.value("Name", Json("")), soft = u.value("Soft", Json(0)),
         hard = u.value("Hard", Json(0));
    SILO_TRY(check_type(name, "Ulimit.HostConfig.Ulimits.Name", GoType::String));
    SILO_TRY(check_type(soft, "Ulimit.HostConfig.Ulimits.Soft", GoType::Int64));
    SILO_TRY(check_type(hard, "Ulimit.HostConfig.Ulimits.Hard", GoType::Int64));
    std::string n = name.is_null() ? "" : name.get<std::string>();
    if (!kNames.count(n)) return invalid("invalid ulimit type: " + n);
    int64_t s = soft.is_null() ? 0 : soft.get<int64_t>(),
            h = hard.is_null() ? 0 : hard.get<int64_t>();
    if (s > h)
      return invalid("ulimit soft limit must be less than or equal to hard limit: " + i2s(s) +
                     " > " + i2s(h));
    u = Json{{"Name", n}, {"Hard", h}, {"Soft", s}};
  }
  return {};
}

Status validate_caps(const Json& hc) {
  if (auto r = normalise_caps(hc["CapAdd"]); !r) return wrap(r.error(), "invalid CapAdd");
  if (auto r = normalise_caps(hc["CapDrop"]); !r) return wrap(r.error(), "invalid CapDrop");
  return {};
}

// LogConfig: json-file (max-size, max-file, compress, labels, env, env-regex, tag) or none.
Status validate_log_config(Json& hc) {
  Json& lc = hc["LogConfig"];
  Json type = lc.value("Type", Json("")), cfg = lc.value("Config", Json::object());
  SILO_TRY(check_type(type, "LogConfig.HostConfig.LogConfig.Type", GoType::String));
  SILO_TRY(check_type(cfg, "LogConfig.HostConfig.LogConfig.Config", GoType::StrMap));
  std::string t = type.is_null() ? "" : type.get<std::string>();
  if (cfg.is_null()) cfg = Json::object();
  lc = Json{{"Type", t}, {"Config", cfg}};
  if (t.empty() || t == "json-file") {
    static const std::set<std::string> kOpts = {"max-size",     "max-file", "compress",  "labels",
                                                "labels-regex", "env",      "env-regex", "tag"};
    for (const auto& [k, v] : cfg.items()) {
      if (!kOpts.count(k)) return invalid("unknown log opt '" + k + "' for json-file log driver");
    }
    // dockerd checks these when the log driver starts; Silo refuses them at create, with
    // the message `docker start` would have given.
    const std::string pre = "failed to initialize logging driver: ";
    if (cfg.contains("max-size")) {
      std::string s = cfg["max-size"];
      if (auto r = from_human_size(s); !r) return invalid(pre + r.error().message);
    }
    if (cfg.contains("max-file")) {
      std::string s = cfg["max-file"];
      char* end = nullptr;
      long n = std::strtol(s.c_str(), &end, 10);
      if (s.empty() || *end != '\0')
        return invalid(pre + "strconv.Atoi: parsing \"" + s + "\": invalid syntax");
      if (n < 1) return invalid(pre + "max-file cannot be less than 1");
    }
    if (cfg.contains("compress")) {
      std::string c = cfg["compress"];
      static const std::set<std::string> kBools = {"1", "t", "T", "TRUE",  "true",  "True",
                                                   "0", "f", "F", "FALSE", "false", "False"};
      if (!kBools.count(c))
        return invalid(pre + "strconv.ParseBool: parsing \"" + c + "\": invalid syntax");
    }
    return {};
  }
  if (t == "none") return {};
  return invalid("error looking up logging plugin " + t + ": plugin \"" + t + "\" not found");
}

Status validate_network_mode(const Json& hc, std::vector<std::string>& warnings) {
  std::string mode = hc["NetworkMode"].get<std::string>();
  if (mode.empty() || mode == "default" || mode == "bridge" || mode == "none" || mode == "host" ||
      mode == "nat") {
    if (mode == "host" && hc["PortBindings"].is_object() && !hc["PortBindings"].empty())
      warnings.push_back("Published ports are discarded when using host network mode");
    return {};
  }
  // container:<name> and user-defined networks are checked where they are looked up (the
  // network service, at create).
  return {};
}

// nat.ParsePortRangeToInt: "", "80", "8000-8010", each part a uint16.
bool valid_port_range(std::string_view p, bool allow_empty) {
  if (p.empty()) return allow_empty;
  auto num = [](std::string_view s, unsigned& n) {
    if (s.empty() || s.size() > 5) return false;
    n = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      n = n * 10 + unsigned(c - '0');
    }
    return n <= 65535;
  };
  unsigned a = 0, b = 0;
  auto dash = p.find('-');
  if (dash == std::string_view::npos) return num(p, a);
  return num(p.substr(0, dash), a) && num(p.substr(dash + 1), b) && b >= a;
}

// validatePortBindings: keys "port[/proto]", HostPort a port or a range.
Status validate_ports(const Json& hc) {
  const Json& pb = hc["PortBindings"];
  if (!pb.is_object()) return {};
  for (const auto& [key, list] : pb.items()) {
    std::string port = key.substr(0, key.find('/'));
    unsigned n = 0;
    bool ok =
        port.empty() || (port.size() <= 5 && std::all_of(port.begin(), port.end(), ::isdigit) &&
                         (n = unsigned(std::stoul(port))) <= 65535);
    if (!ok) return invalid("invalid port specification: \"" + port + "\"");
    if (list.is_null()) continue;
    if (!list.is_array())
      return std::unexpected(type_error(list, "HostConfig.HostConfig.PortBindings", GoType::Array,
                                        "[]nat.PortBinding"));
    for (const auto& b : list) {
      if (!b.is_object())
        return std::unexpected(
            type_error(b, "HostConfig.HostConfig.PortBindings", GoType::Object, "nat.PortBinding"));
      for (const char* k : {"HostIp", "HostPort"}) {
        Json v = b.value(k, Json(""));
        SILO_TRY(
            check_type(v, std::string("PortBinding.HostConfig.PortBindings.") + k, GoType::String));
      }
      std::string hp =
          b.value("HostPort", Json("")).is_string() ? b.value("HostPort", std::string()) : "";
      if (!valid_port_range(hp, true)) return invalid("invalid port specification: \"" + hp + "\"");
    }
  }
  return {};
}

Status validate_misc(const Json& hc) {
  std::string cg = hc["CgroupnsMode"].get<std::string>();
  if (!cg.empty() && cg != "host" && cg != "private")
    return invalid("invalid cgroup namespace mode: " + cg);
  std::string iso = hc["Isolation"].get<std::string>();
  if (!iso.empty() && iso != "default")
    return invalid("Invalid isolation: \"" + iso + "\" - linux only supports 'default'");
  std::string rt = hc["Runtime"].get<std::string>();
  if (!rt.empty() && rt != "runc" && rt != "silo-runc" && rt != "silo")
    return invalid("Unknown runtime specified " + rt);
  if (hc["ExtraHosts"].is_array()) {
    for (const auto& e : hc["ExtraHosts"]) {
      std::string h = e.get<std::string>();
      auto colon = h.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == h.size())
        return invalid("bad format for add-host: \"" + h + "\"");
    }
  }
  return {};
}

}  // namespace

int num_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? int(n) : 1;
}

std::string online_cpus() {
  std::ifstream in("/sys/devices/system/cpu/online");
  std::string s;
  if (in && std::getline(in, s) && !s.empty()) return s;
  int n = num_cpus();
  return n == 1 ? "0" : "0-" + std::to_string(n - 1);
}

Result<std::vector<std::string>> normalise_caps(const Json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const auto& e : list) {
    std::string c = e.get<std::string>();
    std::transform(c.begin(), c.end(), c.begin(),
                   [](unsigned char ch) { return std::toupper(ch); });
    if (c == "ALL") {
      out.push_back(c);
      continue;
    }
    if (!c.starts_with("CAP_")) c = "CAP_" + c;
    if (!runtime::capability_from_name(c))
      return fail(Code::Invalid, "unknown capability: \"" + c + "\"");
    out.push_back(c);
  }
  return out;
}

Result<int> parse_signal(std::string_view sig) {
  std::string s(sig);
  auto bad = [&] { return fail(Code::Invalid, "Invalid signal: " + s); };
  if (s.empty()) return bad();
  if (std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (s.size() > 3) return bad();
    int n = std::stoi(s);
    if (n <= 0 || n > SIGRTMAX) return bad();
    return n;
  }
  std::string up = s;
  std::transform(up.begin(), up.end(), up.begin(),
                 [](unsigned char ch) { return std::toupper(ch); });
  if (up.starts_with("SIG")) up = up.substr(3);
  static const std::pair<const char*, int> kSigs[] = {
      {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},       {"CHLD", SIGCHLD},
      {"CLD", SIGCHLD},  {"CONT", SIGCONT}, {"FPE", SIGFPE},       {"HUP", SIGHUP},
      {"ILL", SIGILL},   {"INT", SIGINT},   {"IO", SIGIO},         {"IOT", SIGIOT},
      {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},     {"PROF", SIGPROF},
      {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},     {"STKFLT", SIGSTKFLT},
      {"STOP", SIGSTOP}, {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},
      {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
      {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
      {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}};
  for (const auto& [name, num] : kSigs)
    if (up == name) return num;
  // RTMIN, RTMIN+n, RTMAX, RTMAX-n
  auto rt = [&](const char* base, int b, char op) -> std::optional<int> {
    std::string pre(base);
    if (!up.starts_with(pre)) return std::nullopt;
    std::string rest = up.substr(pre.size());
    if (rest.empty()) return b;
    if (rest[0] != op || rest.size() < 2 || rest.size() > 3) return std::nullopt;
    for (size_t i = 1; i < rest.size(); ++i)
      if (rest[i] < '0' || rest[i] > '9') return std::nullopt;
    int n = std::stoi(rest.substr(1));
    int r = op == '+' ? b + n : b - n;
    if (r < SIGRTMIN || r > SIGRTMAX) return std::nullopt;
    return r;
  };
  if (auto r = rt("RTMIN", SIGRTMIN, '+')) return *r;
  if (auto r = rt("RTMAX", SIGRTMAX, '-')) return *r;
  return bad();
}

Status validate_hostname(std::string_view h) {
  if (h.empty()) return {};
  auto bad = [&] { return fail(Code::Invalid, "invalid hostname format: " + std::string(h)); };
  if (h.size() > 64) return bad();
  size_t start = 0;
  while (start <= h.size()) {
    size_t dot = h.find('.', start);
    std::string_view label = h.substr(start, dot == std::string_view::npos ? h.npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return bad();
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return bad();
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return {};
}

Status validate_host_config(Json& hc, std::vector<std::string>& warnings) {
  SILO_TRY(validate_restart(hc));
  SILO_TRY(validate_mounts(hc));
  SILO_TRY(validate_ports(hc));
  SILO_TRY(validate_caps(hc));
  SILO_TRY(validate_misc(hc));
  SILO_TRY(validate_memory(hc, warnings));
  SILO_TRY(validate_cpu(hc));
  SILO_TRY(validate_pids_oom(hc));
  SILO_TRY(validate_ulimits(hc));
  SILO_TRY(validate_log_config(hc));
  SILO_TRY(validate_network_mode(hc, warnings));
  return {};
}

}  // namespace silo::engine::detail
