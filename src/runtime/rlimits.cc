#include "runtime/rlimits.h"

#include <linux/capability.h>
#include <sys/resource.h>

#include <cerrno>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "common/sys.h"

namespace silo::runtime {

namespace {

struct Kind {
  const char* name;
  int resource;
};

constexpr Kind kKinds[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},           {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},         {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

const Kind* find_kind(const std::string& name) {
  for (const Kind& k : kKinds)
    if (name == k.name) return &k;
  return nullptr;
}

std::string show(uint64_t v) {
  return v == RLIM_INFINITY ? "unlimited" : std::to_string(v);
}

bool has_sys_resource() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (sys::raw_capget(&header, data) != 0) return false;
  return data[CAP_TO_INDEX(CAP_SYS_RESOURCE)].effective & CAP_TO_MASK(CAP_SYS_RESOURCE);
}

std::optional<uint64_t> nr_open() {
  auto text = sys::read_file("/proc/sys/fs/nr_open");
  if (!text) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || p == text->data()) return std::nullopt;
  return v;
}

std::unexpected<Error> too_high(const ResolvedRlimit& l, const std::string& why, const char* fix) {
  return fail(Code::Invalid,
              fmt::format("process.rlimits: {} hard limit {} is above what this host allows "
                          "({}); lower it in config.json or {}",
                          l.name, show(l.hard), why, fix));
}

}  // namespace

Result<std::vector<ResolvedRlimit>> resolve_rlimits(const std::vector<Rlimit>& in) {
  std::vector<ResolvedRlimit> out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const Rlimit& r = in[i];
    std::string field = fmt::format("process.rlimits[{}]", i);
    const Kind* k = find_kind(r.type);
    if (!k) return fail(Code::Invalid, fmt::format("{}: unknown type \"{}\"", field, r.type));
    for (const ResolvedRlimit& prev : out)
      if (prev.resource == k->resource)
        return fail(Code::Invalid, fmt::format("{}: duplicate type \"{}\"", field, r.type));
    // setrlimit() would say only EINVAL.
    if (r.soft > r.hard)
      return fail(Code::Invalid, fmt::format("{}: {} soft limit {} is above its hard limit {}",
                                             field, r.type, show(r.soft), show(r.hard)));
    out.push_back({k->resource, r.soft, r.hard, k->name});
  }
  return out;
}

Status check_rlimits(const std::vector<ResolvedRlimit>& r) {
  return check_rlimits(r, false);
}

Status check_rlimits(const std::vector<ResolvedRlimit>& r, bool new_user_ns) {
  // setrlimit() checks capable(CAP_SYS_RESOURCE), i.e. in the initial user namespace: a
  // container in its own user namespace can lower its limits but never raise a hard one.
  const bool can_raise = !new_user_ns && has_sys_resource();
  for (const ResolvedRlimit& l : r) {
    if (l.resource == RLIMIT_NOFILE) {
      // Even CAP_SYS_RESOURCE cannot go past fs.nr_open (EPERM from setrlimit).
      auto max = nr_open();
      if (max && l.hard > *max)
        return too_high(l, fmt::format("{} > nr_open {}", show(l.hard), *max), "raise fs.nr_open");
    }
    rlimit cur{};
    if (::getrlimit(l.resource, &cur) != 0)
      return fail_errno(errno, fmt::format("getrlimit {}", l.name));
    if (l.hard <= cur.rlim_max || can_raise) continue;
    std::string why = fmt::format(
        "{} > caller's hard limit {}, and {}", show(l.hard), show(cur.rlim_max),
        new_user_ns ? "a new user namespace cannot raise it" : "the caller lacks CAP_SYS_RESOURCE");
    return too_high(l, why, "raise the caller's limit");
  }
  return {};
}

int apply_rlimits(const std::vector<ResolvedRlimit>& r, size_t* failed) noexcept {
  for (size_t i = 0; i < r.size(); ++i) {
    rlimit lim{r[i].soft, r[i].hard};
    if (::setrlimit(r[i].resource, &lim) != 0) {
      if (failed) *failed = i;
      return -errno;
    }
  }
  return 0;
}

}  // namespace silo::runtime
