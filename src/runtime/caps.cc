#include "runtime/caps.h"

#include <linux/capability.h>
#include <sys/prctl.h>

#include <cctype>
#include <charconv>
#include <iterator>
#include <string_view>

#include <fmt/format.h>

#include "common/sys.h"

namespace silo::runtime {

namespace {

// Index = capability number (include/uapi/linux/capability.h).
// clang-format off
constexpr std::string_view kNames[] = {
    /*  0 */ "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID",
    /*  5 */ "KILL", "SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE",
    /* 10 */ "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK",
    /* 15 */ "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE",
    /* 20 */ "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE",
    /* 25 */ "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE",
    /* 30 */ "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    /* 35 */ "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
    /* 40 */ "CHECKPOINT_RESTORE",
};
// clang-format on
constexpr int kKnown = static_cast<int>(std::size(kNames));

constexpr uint64_t bit(int cap) {
  return uint64_t{1} << cap;
}

// Bits 0..last: the kernel has nothing above `last` to set.
constexpr uint64_t mask_to(int last) {
  return last >= 63 ? ~uint64_t{0} : bit(last + 1) - 1;
}

Result<uint64_t> resolve_set(const std::vector<std::string>& names, const char* set, int last) {
  uint64_t out = 0;
  for (const std::string& n : names) {
    auto cap = capability_from_name(n);
    if (!cap) return wrap(cap.error(), fmt::format("process.capabilities.{}", set));
    // Newer than this kernel: runc drops these with a warning, so that one config.json
    // works across kernels.
    if (*cap > last) continue;
    out |= bit(*cap);
  }
  return out;
}

}  // namespace

Result<int> capability_from_name(const std::string& name) {
  std::string upper;
  upper.reserve(name.size());
  for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view bare = upper;
  if (bare.starts_with("CAP_")) bare.remove_prefix(4);
  for (int i = 0; i < kKnown; ++i)
    if (kNames[i] == bare) return i;
  return fail(Code::Invalid, fmt::format("unknown capability \"{}\"", name));
}

std::string capability_name(int cap) {
  if (cap >= 0 && cap < kKnown) return fmt::format("CAP_{}", kNames[cap]);
  return fmt::format("CAP_{}", cap);
}

int last_cap() {
  auto text = sys::read_file("/proc/sys/kernel/cap_last_cap");
  int last = 0;
  if (text) {
    const char* end = text->data() + text->size();
    auto [p, ec] = std::from_chars(text->data(), end, last);
    if (ec == std::errc() && p != text->data() && last >= 0 && last < 64) return last;
  }
  return CAP_LAST_CAP;
}

Result<CapSets> resolve_caps(const Capabilities& c) {
  int last = last_cap();
  CapSets out;
  struct Set {
    const char* name;
    const std::vector<std::string>& names;
    uint64_t& mask;
  };
  const Set sets[] = {{"bounding", c.bounding, out.bounding},
                      {"effective", c.effective, out.effective},
                      {"permitted", c.permitted, out.permitted},
                      {"inheritable", c.inheritable, out.inheritable},
                      {"ambient", c.ambient, out.ambient}};
  for (const Set& s : sets) {
    auto mask = resolve_set(s.names, s.name, last);
    if (!mask) return std::unexpected(mask.error());
    s.mask = *mask;
  }
  return out;
}

std::vector<std::string> default_capabilities() {
  return {"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
          "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
          "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
          "CAP_KILL",    "CAP_AUDIT_WRITE"};
}

int apply_bounding(const CapSets& c, int last) noexcept {
  for (int cap = 0; cap <= last && cap < 64; ++cap) {
    if (c.bounding & bit(cap)) continue;
    // Only drop what is there: dropping needs CAP_SETPCAP even for a capability already gone.
    int in = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (in < 0) return -errno;
    if (in == 0) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) return -errno;
  }
  // setresuid() from 0 to another uid clears the permitted set unless KEEPCAPS is set.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return -errno;
  return 0;
}

int apply_caps(const CapSets& c, int last) noexcept {
  const uint64_t m = mask_to(last);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  for (int w = 0; w < _LINUX_CAPABILITY_U32S_3; ++w) {
    data[w].effective = static_cast<uint32_t>((c.effective & m) >> (32 * w));
    data[w].permitted = static_cast<uint32_t>((c.permitted & m) >> (32 * w));
    data[w].inheritable = static_cast<uint32_t>((c.inheritable & m) >> (32 * w));
  }
  if (int r = sys::raw_capset(&header, data); r != 0) return r;
  // Kernels before 4.3 have no ambient set (EINVAL): fine as long as none is asked for.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
      (errno != EINVAL || c.ambient != 0))
    return -errno;
  for (int cap = 0; cap <= last && cap < 64; ++cap) {
    if (!(c.ambient & bit(cap))) continue;
    // The kernel refuses ambient caps not also inheritable and permitted (EPERM). runc
    // skips those rather than failing, and its default spec relies on that (ambient set,
    // inheritable empty): do the same.
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0 && errno != EPERM)
      return -errno;
  }
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return -errno;
  return 0;
}

}  // namespace silo::runtime
