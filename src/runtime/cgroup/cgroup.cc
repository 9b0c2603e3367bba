// Driver choice, cgroupsPath resolution, validation, and the file helpers both drivers share.
#include "runtime/cgroup/cgroup.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <limits>
#include <thread>

#include "common/log.h"
#include "common/sys.h"

namespace silo::runtime::cgroup {

namespace {

// The kernel's NR_CPUS tops out at 8192 and MAX_NUMNODES at 1024; anything far above
// that is a typo, and would make parse_cpu_list allocate a huge vector.
constexpr unsigned kMaxCpuIndex = 65535;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    out.push_back(
        s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

bool parse_uint(std::string_view s, unsigned& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::unexpected<Error> invalid(const std::string& field, const std::string& what) {
  return fail(Code::Invalid, "linux.resources." + field + ": " + what);
}

// Each entry of `list` must be in the host's online set read from `online_path`.
Status check_online(const std::string& field, const std::string& list,
                    const std::string& online_path, const char* noun, const char* plural,
                    const std::string& missing_default) {
  auto wanted = parse_cpu_list(list);
  if (!wanted) return wrap(wanted.error(), "linux.resources." + field);
  std::string online_text = missing_default;
  if (auto content = sys::read_file(online_path)) {
    online_text = std::string(trim(*content));
  } else if (content.error().sys_errno != ENOENT) {
    return wrap(content.error(),
                "linux.resources." + field + ": reading the host's online " + plural);
  } else if (missing_default.empty()) {
    spdlog::debug("{} is missing; not checking linux.resources.{}", online_path, field);
    return {};
  }
  auto online = parse_cpu_list(online_text);
  if (!online) return wrap(online.error(), online_path);
  for (unsigned idx : *wanted) {
    if (!std::binary_search(online->begin(), online->end(), idx))
      return invalid(field, std::string(noun) + " " + std::to_string(idx) +
                                " does not exist on this host (online " + plural + ": " +
                                online_text + ")");
  }
  return {};
}

Status validate_memory(const MemoryResources& m) {
  int64_t limit = m.limit.value_or(0);
  if (limit < -1)
    return invalid("memory.limit",
                   std::to_string(limit) + " is not a valid limit (use -1 for unlimited)");
  if (limit > 0 && limit < 4096)
    return invalid("memory.limit",
                   std::to_string(limit) + " bytes is below the minimum of 4096 bytes");
  int64_t swap = m.swap.value_or(0);
  if (swap < -1)
    return invalid("memory.swap",
                   std::to_string(swap) + " is not a valid limit (use -1 for unlimited)");
  if (swap > 0) {
    // OCI's swap is memory+swap together, so it can never be below the memory limit.
    if (limit == 0) return invalid("memory.swap", "a memory+swap limit needs memory.limit as well");
    if (limit == -1 || swap < limit)
      return invalid("memory.swap",
                     "memory+swap limit " + std::to_string(swap) +
                         " must be at least the memory limit " +
                         (limit == -1 ? std::string("(unlimited)") : std::to_string(limit)) +
                         " (use -1 for unlimited swap)");
  }
  if (m.reservation.value_or(0) < -1)
    return invalid("memory.reservation",
                   std::to_string(*m.reservation) + " is not valid (use -1 for unlimited)");
  if (m.swappiness.value_or(0) > 100)
    return invalid("memory.swappiness", std::to_string(*m.swappiness) + " is out of range 0-100");
  return {};
}

Status validate_cpu(const CpuResources& c, const std::string& cpu_online,
                    const std::string& node_online) {
  uint64_t shares = c.shares.value_or(0);
  if (shares != 0 && (shares < 2 || shares > 262144))
    return invalid("cpu.shares", std::to_string(shares) + " is out of range 2-262144");
  uint64_t period = c.period.value_or(0);
  if (period != 0 && (period < 1000 || period > 1000000))
    return invalid("cpu.period", std::to_string(period) + " µs is out of range 1000-1000000");
  int64_t quota = c.quota.value_or(0);
  if (quota < -1)
    return invalid("cpu.quota", std::to_string(quota) + " is not valid (use -1 for unlimited)");
  if (quota > 0 && quota < 1000)
    return invalid("cpu.quota", std::to_string(quota) + " µs is below the minimum of 1000");
  if (!c.cpus.empty()) SILO_TRY(check_online("cpu.cpus", c.cpus, cpu_online, "CPU", "CPUs", ""));
  if (!c.mems.empty())
    SILO_TRY(check_online("cpu.mems", c.mems, node_online, "memory node", "nodes", "0"));
  return {};
}

Status validate_devices(const std::vector<DeviceRule>& rules) {
  for (size_t i = 0; i < rules.size(); ++i) {
    const DeviceRule& d = rules[i];
    std::string field = "devices[" + std::to_string(i) + "]";
    if (!d.type.empty() && d.type != "a" && d.type != "c" && d.type != "b")
      return invalid(field + ".type", "\"" + d.type + "\" is not one of a, c, b");
    if (d.access.find_first_not_of("rwm") != std::string::npos)
      return invalid(field + ".access", "\"" + d.access + "\" may only contain r, w and m");
    if (d.major.value_or(0) < -1 || d.minor.value_or(0) < -1)
      return invalid(field, "negative device number");
  }
  return {};
}

// Joins `path` onto "/", refusing "..": a cgroupsPath must stay inside the hierarchy.
Result<std::string> normalise(const std::string& path, const std::string& shown) {
  std::string out;
  for (auto part : split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..")
      return fail(Code::Invalid, "linux.cgroupsPath \"" + shown + "\": \"..\" is not allowed");
    out += '/';
    out += part;
  }
  if (out.empty())
    return fail(Code::Invalid,
                "linux.cgroupsPath \"" + shown + "\": the root cgroup cannot hold a container");
  return out;
}

// systemd's slice naming: "a-b.slice" lives at "a.slice/a-b.slice"; "-.slice" is the root.
Result<std::string> expand_slice(const std::string& slice, const std::string& shown) {
  constexpr std::string_view kSuffix = ".slice";
  auto bad = [&](const std::string& why) {
    return fail(Code::Invalid,
                "linux.cgroupsPath \"" + shown + "\": slice \"" + slice + "\" " + why);
  };
  if (slice.size() <= kSuffix.size() || !slice.ends_with(kSuffix)) return bad("must end in .slice");
  if (slice.find('/') != std::string::npos) return bad("must not contain '/'");
  std::string name = slice.substr(0, slice.size() - kSuffix.size());
  if (name == "-") return std::string();
  std::string path, prefix;
  for (auto part : split(name, '-')) {
    if (part.empty()) return bad("has an empty component");
    path += "/" + prefix + std::string(part) + ".slice";
    prefix += std::string(part) + "-";
  }
  return path;
}

Result<std::string> resolve_systemd(const std::string& cgroups_path) {
  auto parts = split(cgroups_path, ':');
  std::string slice(parts[0]), prefix(parts[1]), name(parts[2]);
  if (slice.empty()) slice = "system.slice";  // runc's default
  if (name.empty() || name.find('/') != std::string::npos || prefix.find('/') != std::string::npos)
    return fail(Code::Invalid,
                "linux.cgroupsPath \"" + cgroups_path + "\": expected \"slice:prefix:name\"");
  auto dir = expand_slice(slice, cgroups_path);
  if (!dir) return std::unexpected(dir.error());
  std::string unit =
      name.ends_with(".slice") ? name : (prefix.empty() ? "" : prefix + "-") + name + ".scope";
  return normalise(*dir + "/" + unit, cgroups_path);
}

}  // namespace

Driver detect(const std::string& root) {
  return sys::path_exists(root + "/cgroup.controllers") ? Driver::V2 : Driver::V1;
}

uint64_t shares_to_weight(uint64_t shares) {
  if (shares < 2) shares = 2;
  if (shares > 262144) shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

Result<std::vector<unsigned>> parse_cpu_list(const std::string& list) {
  std::vector<unsigned> out;
  std::string_view text = trim(list);
  if (text.empty()) return out;
  for (auto entry : split(text, ',')) {
    auto bad = [&](const std::string& why) {
      return fail(Code::Invalid, "invalid CPU list \"" + std::string(text) + "\": entry \"" +
                                     std::string(entry) + "\" " + why);
    };
    size_t dash = entry.find('-');
    unsigned lo = 0, hi = 0;
    if (dash == std::string_view::npos) {
      if (!parse_uint(entry, lo)) return bad("is not a number or a range N-M");
      hi = lo;
    } else if (!parse_uint(entry.substr(0, dash), lo) || !parse_uint(entry.substr(dash + 1), hi)) {
      return bad("is not a number or a range N-M");
    }
    if (hi < lo) return bad("is a descending range");
    if (hi > kMaxCpuIndex)
      return bad("is beyond the largest possible index " + std::to_string(kMaxCpuIndex));
    for (unsigned i = lo; i <= hi; ++i) out.push_back(i);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status validate(const Resources& r, const std::string& cpu_online_path,
                const std::string& node_online_path) {
  if (r.memory) SILO_TRY(validate_memory(*r.memory));
  if (r.cpu) SILO_TRY(validate_cpu(*r.cpu, cpu_online_path, node_online_path));
  SILO_TRY(validate_devices(r.devices));
  for (const auto& [key, value] : r.unified) {
    if (key.empty() || key.find('/') != std::string::npos || key.find("..") != std::string::npos)
      return invalid("unified", "\"" + key + "\" is not a cgroup file name");
  }
  return {};
}

Result<std::string> resolve_path(const std::string& cgroups_path, const std::string& id,
                                 const std::string& own) {
  if (cgroups_path.empty()) {
    if (id.empty() || id.find('/') != std::string::npos || id == "." || id == "..")
      return fail(Code::Invalid, "container id \"" + id + "\" cannot name a cgroup");
    return "/silo/" + id;
  }
  if (detail::uses_own_cgroup(cgroups_path))
    return normalise(own + "/" + cgroups_path, cgroups_path);
  if (cgroups_path[0] == '/') return normalise(cgroups_path, cgroups_path);
  return resolve_systemd(cgroups_path);
}

std::map<std::string, std::string> parse_proc_cgroup(std::string_view content) {
  std::map<std::string, std::string> out;
  for (auto line : split(content, '\n')) {
    size_t a = line.find(':');
    size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    std::string path(line.substr(b + 1));
    std::string_view controllers = line.substr(a + 1, b - a - 1);
    if (controllers.empty()) {
      out[""] = path;
      continue;
    }
    for (auto c : split(controllers, ',')) out[std::string(c)] = path;
  }
  return out;
}

Result<std::unique_ptr<Manager>> open(const std::string& cgroups_path, const std::string& id,
                                      const std::string& root) {
  return open_with(detect(root), cgroups_path, id, root);
}

Result<std::unique_ptr<Manager>> open_with(Driver d, const std::string& cgroups_path,
                                           const std::string& id, const std::string& root) {
  return d == Driver::V2 ? detail::open_v2(cgroups_path, id, root)
                         : detail::open_v1(cgroups_path, id, root);
}

namespace detail {

std::vector<std::string> split_words(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) pos = s.size();
    if (pos > start) out.emplace_back(s.substr(start, pos - start));
    start = pos + 1;
  }
  return out;
}

Status write_value(const std::string& path, const std::string& value) {
  // One write() per value: cgroupfs parses each write on its own (devices.allow takes one
  // rule per write), so values are never split or appended.
  auto fd = sys::open(path, O_WRONLY | O_TRUNC);
  if (!fd) return fail_errno(fd.error().sys_errno, "write " + value + " to " + path);
  if (auto w = sys::write_all(fd->get(), value.data(), value.size()); !w)
    return fail_errno(w.error().sys_errno, "write " + value + " to " + path);
  return {};
}

Result<std::string> read_value(const std::string& path) {
  auto content = sys::read_file(path);
  if (!content) return std::unexpected(content.error());
  return std::string(trim(*content));
}

Result<uint64_t> read_u64_or_zero(const std::string& path) {
  auto v = read_value(path);
  if (!v) return v.error().sys_errno == ENOENT ? Result<uint64_t>(0) : std::unexpected(v.error());
  if (*v == "max") return std::numeric_limits<uint64_t>::max();
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size())
    return fail(Code::Internal, path + ": expected a number, read \"" + *v + "\"");
  return n;
}

uint64_t keyed_value(std::string_view content, std::string_view key) {
  for (auto line : split(content, '\n')) {
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos || line.substr(0, sp) != key) continue;
    auto num = trim(line.substr(sp + 1));
    uint64_t n = 0;
    std::from_chars(num.data(), num.data() + num.size(), n);
    return n;
  }
  return 0;
}

namespace {
std::vector<std::string> child_dirs(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::error_code ec2;
    if (e.is_directory(ec2) && !e.is_symlink(ec2)) out.push_back(e.path().string());
  }
  return out;
}

Status collect_into(const std::string& dir, std::vector<pid_t>& out) {
  auto procs = sys::read_file(dir + "/cgroup.procs");
  if (!procs && procs.error().sys_errno != ENOENT) return std::unexpected(procs.error());
  if (procs) {
    for (auto line : split(*procs, '\n')) {
      unsigned pid = 0;
      if (parse_uint(trim(line), pid)) out.push_back(static_cast<pid_t>(pid));
    }
  }
  for (const auto& child : child_dirs(dir)) SILO_TRY(collect_into(child, out));
  return {};
}
}  // namespace

Result<std::vector<pid_t>> collect_pids(const std::string& dir) {
  std::vector<pid_t> out;
  if (!sys::is_directory(dir)) return out;
  SILO_TRY(collect_into(dir, out));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status remove_cgroup(const std::string& dir) {
  for (const auto& child : child_dirs(dir)) SILO_TRY(remove_cgroup(child));
  // A cgroup stays busy for a moment after its last process is reaped (the kernel
  // unlinks exiting tasks asynchronously), so EBUSY is retried briefly.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (;;) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    int err = errno;
    if (err != EBUSY || std::chrono::steady_clock::now() > deadline) {
      auto e = fail_errno(err, "rmdir " + dir);
      if (err == EBUSY) e.error().message += "; processes are still in this cgroup";
      return e;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool uses_own_cgroup(const std::string& cgroups_path) {
  return !cgroups_path.empty() && cgroups_path[0] != '/' &&
         std::count(cgroups_path.begin(), cgroups_path.end(), ':') != 2;
}

Result<std::map<std::string, std::string>> own_cgroups() {
  auto content = sys::read_file("/proc/self/cgroup");
  if (!content) return wrap(content.error(), "finding our own cgroup for a relative cgroupsPath");
  return parse_proc_cgroup(*content);
}

}  // namespace detail
}  // namespace silo::runtime::cgroup
