// Seccomp, capabilities and rlimits: name parsing and plans without privileges, and the
// child-side apply_* functions in forked children (which _exit and never return to gtest).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <set>

#include "runtime/caps.h"
#include "runtime/rlimits.h"
#include "runtime/seccomp.h"

namespace silo::runtime {
namespace {

// Runs `body` in a forked child and returns its exit code (128 + signal when killed).
// The child never returns into gtest, whatever `body` does.
int run_in_child(const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int code = 97;
    try {
      code = body();
    } catch (...) {
      code = 98;
    }
    ::_exit(code);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Reads a hex field ("CapBnd") of /proc/self/status without allocating.
bool read_status_hex(const char* field, uint64_t* out) {
  char buf[8192];
  int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  char key[32];
  std::snprintf(key, sizeof key, "\n%s:", field);
  const char* p = std::strstr(buf, key);
  if (!p) return false;
  *out = std::strtoull(p + std::strlen(key), nullptr, 16);
  return true;
}

bool have_effective_cap(int cap) {
  uint64_t eff = 0;
  return read_status_hex("CapEff", &eff) && (eff >> cap & 1);
}

uint64_t bit(int cap) {
  return uint64_t{1} << cap;
}

// ---------------------------------------------------------------------------------------
// Capabilities

TEST(Caps, NamesRoundTrip) {
  for (int cap = 0; cap <= 40; ++cap) {
    auto back = capability_from_name(capability_name(cap));
    ASSERT_TRUE(back) << capability_name(cap);
    EXPECT_EQ(*back, cap);
  }
  EXPECT_EQ(capability_name(13), "CAP_NET_RAW");
  EXPECT_EQ(capability_name(99), "CAP_99");
  EXPECT_EQ(capability_from_name("CAP_NET_RAW").value_or(-1), 13);
  EXPECT_EQ(capability_from_name("net_raw").value_or(-1), 13);
  EXPECT_EQ(capability_from_name("Cap_Sys_Admin").value_or(-1), 21);
  EXPECT_EQ(capability_from_name("CAP_CHECKPOINT_RESTORE").value_or(-1), 40);
}

TEST(Caps, UnknownNameIsInvalid) {
  auto r = capability_from_name("CAP_FLY");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Invalid);
  EXPECT_EQ(r.error().message, "unknown capability \"CAP_FLY\"");
}

TEST(Caps, LastCapIsPlausible) {
  int last = last_cap();
  EXPECT_GE(last, 30);
  EXPECT_LT(last, 64);
}

TEST(Caps, ResolveBuildsMasks) {
  Capabilities c;
  c.bounding = {"CAP_NET_RAW", "chown", "SYS_ADMIN"};
  c.effective = {"CAP_CHOWN"};
  c.permitted = {"CAP_CHOWN", "CAP_NET_RAW"};
  c.ambient = {"CAP_CHOWN"};
  auto r = resolve_caps(c);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->bounding, bit(13) | bit(0) | bit(21));
  EXPECT_EQ(r->effective, bit(0));
  EXPECT_EQ(r->permitted, bit(0) | bit(13));
  EXPECT_EQ(r->inheritable, 0u);
  EXPECT_EQ(r->ambient, bit(0));
}

TEST(Caps, ResolveNamesTheSetOfAnUnknownCap) {
  Capabilities c;
  c.effective = {"CAP_CHOWN", "CAP_BOGUS"};
  auto r = resolve_caps(c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Invalid);
  EXPECT_EQ(r.error().message, "process.capabilities.effective: unknown capability \"CAP_BOGUS\"");
}

TEST(Caps, DefaultCapabilitiesAreDockers) {
  auto names = default_capabilities();
  EXPECT_EQ(names.size(), 14u);
  Capabilities c;
  c.bounding = names;
  auto r = resolve_caps(c);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->bounding & bit(13));   // NET_RAW
  EXPECT_FALSE(r->bounding & bit(21));  // SYS_ADMIN
  EXPECT_FALSE(r->bounding & bit(12));  // NET_ADMIN
}

// The default set minus CAP_NET_RAW, for the forked tests.
CapSets default_without_net_raw() {
  auto names = default_capabilities();
  std::erase(names, std::string("CAP_NET_RAW"));
  Capabilities c{names, names, names, names, {}};
  return resolve_caps(c).value();
}

TEST(Caps, ChildDropsNetRawAsRoot) {
  if (::geteuid() != 0 || !have_effective_cap(8 /*SETPCAP*/))
    GTEST_SKIP() << "skipped, because dropping from the bounding set needs root with CAP_SETPCAP";
  CapSets c = default_without_net_raw();
  int last = last_cap();
  int rc = run_in_child([&] {
    uint64_t bnd_before = 0, bnd = 0, eff = 0, prm = 0;
    if (!read_status_hex("CapBnd", &bnd_before)) return 10;
    if (apply_bounding(c, last) != 0) return 11;
    if (apply_caps(c, last) != 0) return 12;
    if (!read_status_hex("CapBnd", &bnd) || !read_status_hex("CapEff", &eff) ||
        !read_status_hex("CapPrm", &prm))
      return 13;
    if (bnd != (c.bounding & bnd_before)) return 14;
    if (eff != c.effective || prm != c.permitted) return 15;
    if (bnd & bit(13) || eff & bit(13)) return 16;
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

TEST(Caps, ChildKeepsCapsAcrossSetuidAndRaisesAmbient) {
  if (::geteuid() != 0 || !have_effective_cap(8 /*SETPCAP*/) || !have_effective_cap(7 /*SETUID*/))
    GTEST_SKIP() << "skipped, because changing uid and the bounding set needs root";
  CapSets c = default_without_net_raw();
  c.ambient = bit(10);  // NET_BIND_SERVICE: in permitted and inheritable
  int last = last_cap();
  int rc = run_in_child([&] {
    if (apply_bounding(c, last) != 0) return 11;
    if (::setresgid(1000, 1000, 1000) != 0 || ::setresuid(1000, 1000, 1000) != 0) return 12;
    if (int r = apply_caps(c, last); r != 0) return 20 + (-r % 20);
    uint64_t eff = 0, amb = 0;
    if (!read_status_hex("CapEff", &eff) || !read_status_hex("CapAmb", &amb)) return 13;
    if (eff != c.effective) return 14;
    if (amb != bit(10)) return 15;
    if (::prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) != 0) return 16;
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

// Like runc: an ambient cap the kernel refuses (not inheritable) is skipped, not fatal.
TEST(Caps, ChildAmbientOutsideInheritableIsSkipped) {
  if (::geteuid() != 0 || !have_effective_cap(8 /*SETPCAP*/))
    GTEST_SKIP() << "skipped, because capset and the bounding set need root";
  CapSets c = default_without_net_raw();
  c.inheritable = 0;
  c.ambient = bit(10);
  int last = last_cap();
  int rc = run_in_child([&] {
    if (apply_bounding(c, last) != 0) return 11;
    if (apply_caps(c, last) != 0) return 12;
    return ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 10, 0, 0) == 0 ? 0 : 13;
  });
  EXPECT_EQ(rc, 0);
}

// ---------------------------------------------------------------------------------------
// Seccomp

Seccomp allow_all_but(std::vector<SeccompRule> rules) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls = std::move(rules);
  return s;
}

TEST(Seccomp, CompilesASmallProfile) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"};
  s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  s.syscalls = {
      {{"read", "write", "exit_group", "no_such_syscall"}, "SCMP_ACT_ALLOW", std::nullopt, {}},
      {{"getcwd"}, "SCMP_ACT_ERRNO", 42, {}},
      {{"kill"}, "SCMP_ACT_KILL_PROCESS", std::nullopt, {}},
      {{"ptrace"}, "SCMP_ACT_TRACE", 1, {}},
      {{"uname"}, "SCMP_ACT_LOG", std::nullopt, {}},
      {{"dup"},
       "SCMP_ACT_TRAP",
       std::nullopt,
       {{0, 3, 0, "SCMP_CMP_GT"}, {1, 0xf, 1, "SCMP_CMP_MASKED_EQ"}}},
      // Two comparisons on one argument: split into two rules (either matches).
      {{"personality"},
       "SCMP_ACT_ALLOW",
       std::nullopt,
       {{0, 0, 0, "SCMP_CMP_EQ"}, {0, 8, 0, "SCMP_CMP_EQ"}}},
      // Same as the default action: skipped.
      {{"open"}, "SCMP_ACT_ERRNO", std::nullopt, {}},
  };
  auto p = compile_seccomp(s);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_FALSE(p->empty());
  EXPECT_EQ(p->flags, unsigned{SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW});
}

TEST(Seccomp, RuleWithOnlyUnknownNamesCompiles) {
  auto p =
      compile_seccomp(allow_all_but({{{"not_a_syscall", "neither"}, "SCMP_ACT_ERRNO", 1, {}}}));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_FALSE(p->empty());
}

TEST(Seccomp, UnknownActionNamesTheRule) {
  Seccomp s = allow_all_but({
      {{"read"}, "SCMP_ACT_ERRNO", std::nullopt, {}},
      {{"write"}, "SCMP_ACT_ERRNO", std::nullopt, {}},
      {{"close"}, "SCMP_ACT_LOG", std::nullopt, {}},
      {{"getcwd"}, "SCMP_ACT_FOO", std::nullopt, {}},
  });
  auto p = compile_seccomp(s);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, Code::Invalid);
  EXPECT_EQ(p.error().message, "linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_FOO\"");
}

TEST(Seccomp, InvalidFieldsAreNamed) {
  auto msg = [](const Seccomp& s) {
    auto p = compile_seccomp(s);
    return p ? std::string("ok") : p.error().message;
  };
  Seccomp s = allow_all_but({});
  s.default_action = "SCMP_ACT_NOPE";
  EXPECT_EQ(msg(s), "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"");
  s = allow_all_but({{{"read"}, "SCMP_ACT_NOTIFY", std::nullopt, {}}});
  EXPECT_EQ(msg(s), "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY is not supported");
  s = allow_all_but({{{"read"}, "SCMP_ACT_ERRNO", std::nullopt, {{0, 1, 0, "SCMP_CMP_ABOUT"}}}});
  EXPECT_EQ(msg(s), "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_ABOUT\"");
  s = allow_all_but({{{"read"}, "SCMP_ACT_ERRNO", std::nullopt, {{6, 1, 0, "SCMP_CMP_EQ"}}}});
  EXPECT_EQ(msg(s), "linux.seccomp.syscalls[0].args[0].index: 6 is out of range (0-5)");
  s = allow_all_but({{{"read"}, "SCMP_ACT_KILL", 5, {}}});
  EXPECT_EQ(msg(s),
            "linux.seccomp.syscalls[0].action: errnoRet is only valid with SCMP_ACT_ERRNO and "
            "SCMP_ACT_TRACE, not SCMP_ACT_KILL");
  s = allow_all_but({});
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_PDP11"};
  EXPECT_EQ(msg(s), "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_PDP11\"");
  s = allow_all_but({});
  s.flags = {"SECCOMP_FILTER_FLAG_NEW_LISTENER"};
  EXPECT_EQ(msg(s), "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NEW_LISTENER\"");
}

std::set<std::string> allowed_names(const Seccomp& s) {
  std::set<std::string> out;
  for (const auto& r : s.syscalls)
    if (r.action == "SCMP_ACT_ALLOW") out.insert(r.names.begin(), r.names.end());
  return out;
}

TEST(Seccomp, DefaultProfileShape) {
  Seccomp s = default_seccomp_profile(default_capabilities());
  EXPECT_EQ(s.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(s.default_errno_ret.value_or(0), unsigned{EPERM});
  auto names = allowed_names(s);
  EXPECT_GE(names.size(), 300u);
  for (const char* ok : {"read", "execve", "capset", "setresuid", "prctl", "clone", "chroot",
                         "socket", "pipe", "pipe2"})
    EXPECT_TRUE(names.count(ok)) << ok;
  for (const char* no : {"mount",         "umount2",      "pivot_root",      "kexec_load",
                         "init_module",   "bpf",          "reboot",          "keyctl",
                         "add_key",       "unshare",      "setns",           "open_by_handle_at",
                         "clock_settime", "settimeofday", "syslog",          "iopl",
                         "swapon",        "acct",         "perf_event_open", "clone3"})
    EXPECT_FALSE(names.count(no)) << no;
  // clone is allowed only without namespace flags.
  auto clone = std::find_if(s.syscalls.begin(), s.syscalls.end(), [](const SeccompRule& r) {
    return r.names == std::vector<std::string>{"clone"};
  });
  ASSERT_NE(clone, s.syscalls.end());
  ASSERT_EQ(clone->args.size(), 1u);
  EXPECT_EQ(clone->args[0].op, "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(clone->args[0].value, 0x7E020000u);
}

TEST(Seccomp, DefaultProfileGrantsByCapability) {
  auto names = allowed_names(
      default_seccomp_profile({"SYS_ADMIN", "cap_sys_boot", "CAP_SYS_TIME", "bogus"}));
  for (const char* ok : {"mount", "umount2", "unshare", "setns", "pivot_root", "clone3", "reboot",
                         "clock_settime", "settimeofday"})
    EXPECT_TRUE(names.count(ok)) << ok;
  EXPECT_FALSE(names.count("init_module"));
  EXPECT_FALSE(names.count("keyctl"));
}

TEST(Seccomp, DefaultProfileCompiles) {
  for (const auto& caps : {default_capabilities(), std::vector<std::string>{}}) {
    auto p = compile_seccomp(default_seccomp_profile(caps));
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_FALSE(p->empty());
    EXPECT_LE(p->filter.size(), size_t{BPF_MAXINSNS});
  }
}

bool same_program(const SeccompProgram& a, const SeccompProgram& b) {
  return a.flags == b.flags && a.filter.size() == b.filter.size() &&
         std::memcmp(a.filter.data(), b.filter.data(), a.filter.size() * sizeof(sock_filter)) == 0;
}

// The cache gives back exactly what the compiler made, keeps profiles apart, and
// compiles again over a damaged file.
TEST(Seccomp, CachedProgramIsTheCompiledOne) {
  char tmpl[] = "/tmp/silo-seccomp-cache.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = std::string(tmpl) + "/cache";
  Seccomp def = default_seccomp_profile(default_capabilities());
  Seccomp other = allow_all_but({{{"getcwd"}, "SCMP_ACT_ERRNO", 42, {}}});
  auto want_def = compile_seccomp(def), want_other = compile_seccomp(other);
  ASSERT_TRUE(want_def && want_other);

  auto first = compile_seccomp_cached(def, dir);  // compiles and stores
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(same_program(*first, *want_def));
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto again = compile_seccomp_cached(def, dir);  // read back
  ASSERT_TRUE(again);
  EXPECT_TRUE(same_program(*again, *want_def));
  auto o = compile_seccomp_cached(other, dir);
  ASSERT_TRUE(o);
  EXPECT_TRUE(same_program(*o, *want_other));

  // Every cached file cut short: each profile is compiled again, still the same program.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++files;
    std::filesystem::resize_file(e.path(), 40);
  }
  EXPECT_EQ(files, 2);
  auto rebuilt = compile_seccomp_cached(def, dir);
  ASSERT_TRUE(rebuilt);
  EXPECT_TRUE(same_program(*rebuilt, *want_def));

  // A profile that does not compile is reported and not cached.
  auto bad = compile_seccomp_cached(
      allow_all_but({{{"getcwd"}, "SCMP_ACT_NOPE", std::nullopt, {}}}), dir);
  EXPECT_FALSE(bad);
  std::filesystem::remove_all(tmpl);
}

TEST(Seccomp, EmptyProgramApplyIsANoop) {
  EXPECT_EQ(apply_seccomp(SeccompProgram{}), 0);
}

TEST(Seccomp, ChildGetsTheRuleErrno) {
  auto p = compile_seccomp(allow_all_but({
      {{"getcwd"}, "SCMP_ACT_ERRNO", 42, {}},
      {{"dup"}, "SCMP_ACT_ERRNO", 43, {{0, 0, 0, "SCMP_CMP_EQ"}}},
  }));
  ASSERT_TRUE(p) << p.error().message;
  int rc = run_in_child([&] {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 10;
    if (apply_seccomp(*p) != 0) return 11;
    char buf[256];
    errno = 0;
    if (::getcwd(buf, sizeof buf) != nullptr || errno != 42) return 12;
    if (::getpid() <= 0) return 13;
    errno = 0;
    if (::dup(0) != -1 || errno != 43) return 14;
    int fd = ::dup(1);  // argument 1: not matched
    if (fd < 0) return 15;
    ::close(fd);
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

TEST(Seccomp, ChildUnderDefaultProfileIsConfinedAndCanExec) {
  if (::access("/bin/sh", X_OK) != 0)
    GTEST_SKIP() << "skipped, because there is no /bin/sh to exec";
  auto p = compile_seccomp(default_seccomp_profile(default_capabilities()));
  ASSERT_TRUE(p) << p.error().message;
  int rc = run_in_child([&] {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 10;
    if (int r = apply_seccomp(*p); r != 0) return 11;
    errno = 0;
    if (::unshare(CLONE_NEWUSER) != -1 || errno != EPERM) return 12;
    errno = 0;
    if (::personality(ADDR_NO_RANDOMIZE) != -1 || errno != EPERM) return 13;
    if (::personality(0xffffffff) == -1) return 14;
    errno = 0;
    if (::sethostname("x", 1) != -1 || errno != EPERM) return 15;
    pid_t kid = ::fork();  // clone without namespace flags
    if (kid < 0) return 16;
    if (kid == 0) ::_exit(0);
    int st = 0;
    if (::waitpid(kid, &st, 0) != kid || !WIFEXITED(st)) return 17;
    ::execl("/bin/sh", "sh", "-c", "cd / && ls >/dev/null && exit 7", static_cast<char*>(nullptr));
    return 18;
  });
  EXPECT_EQ(rc, 7);
}

// ---------------------------------------------------------------------------------------
// Rlimits

TEST(Rlimit, ResolvesAllSixteen) {
  const char* names[] = {"RLIMIT_CPU",      "RLIMIT_FSIZE", "RLIMIT_DATA",   "RLIMIT_STACK",
                         "RLIMIT_CORE",     "RLIMIT_RSS",   "RLIMIT_NPROC",  "RLIMIT_NOFILE",
                         "RLIMIT_MEMLOCK",  "RLIMIT_AS",    "RLIMIT_LOCKS",  "RLIMIT_SIGPENDING",
                         "RLIMIT_MSGQUEUE", "RLIMIT_NICE",  "RLIMIT_RTPRIO", "RLIMIT_RTTIME"};
  std::vector<Rlimit> in;
  for (const char* n : names) in.push_back({n, 1, 2});
  auto r = resolve_rlimits(in);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 16u);
  EXPECT_EQ((*r)[7].resource, RLIMIT_NOFILE);
  EXPECT_STREQ((*r)[7].name, "RLIMIT_NOFILE");
  EXPECT_EQ((*r)[15].resource, RLIMIT_RTTIME);
  std::set<int> distinct;
  for (const auto& l : *r) distinct.insert(l.resource);
  EXPECT_EQ(distinct.size(), 16u);
}

TEST(Rlimit, InvalidEntriesAreNamed) {
  auto msg = [](std::vector<Rlimit> in) {
    auto r = resolve_rlimits(in);
    return r ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ(msg({{"RLIMIT_NOFILE", 1, 2}, {"RLIMIT_FOO", 1, 2}}),
            "process.rlimits[1]: unknown type \"RLIMIT_FOO\"");
  EXPECT_EQ(msg({{"RLIMIT_NOFILE", 1, 2}, {"RLIMIT_NOFILE", 1, 2}}),
            "process.rlimits[1]: duplicate type \"RLIMIT_NOFILE\"");
  EXPECT_EQ(msg({{"RLIMIT_CORE", 5, 2}}),
            "process.rlimits[0]: RLIMIT_CORE soft limit 5 is above its hard limit 2");
  EXPECT_EQ(msg({{"RLIMIT_CORE", RLIM_INFINITY, RLIM_INFINITY}}), "ok");
}

TEST(Rlimit, CheckAcceptsTheCurrentLimits) {
  rlimit cur{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &cur), 0);
  auto r = resolve_rlimits({{"RLIMIT_NOFILE", cur.rlim_cur, cur.rlim_max}, {"RLIMIT_CORE", 0, 0}});
  ASSERT_TRUE(r);
  auto ok = check_rlimits(*r);
  EXPECT_TRUE(ok) << ok.error().message;
  ok = check_rlimits(*r, true);
  EXPECT_TRUE(ok) << ok.error().message;
}

TEST(Rlimit, CheckRejectsAboveNrOpen) {
  std::vector<ResolvedRlimit> r{{RLIMIT_NOFILE, 64, uint64_t{1} << 40, "RLIMIT_NOFILE"}};
  auto st = check_rlimits(r);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::Invalid);
  EXPECT_NE(st.error().message.find(
                "process.rlimits: RLIMIT_NOFILE hard limit 1099511627776 is above what this "
                "host allows (1099511627776 > nr_open "),
            std::string::npos)
      << st.error().message;
}

TEST(Rlimit, CheckRejectsRaisingTheHardLimitInANewUserNamespace) {
  rlimit cur{};
  ASSERT_EQ(::getrlimit(RLIMIT_CORE, &cur), 0);
  if (cur.rlim_max == RLIM_INFINITY) {
    cur.rlim_max = 1000;  // pretend the caller's limit is lower: check in a child
    int rc = run_in_child([&] {
      if (::setrlimit(RLIMIT_CORE, &cur) != 0) return 10;
      std::vector<ResolvedRlimit> r{{RLIMIT_CORE, 0, 2000, "RLIMIT_CORE"}};
      auto st = check_rlimits(r, true);
      if (st) return 11;
      return st.error().message.find(
                 "(2000 > caller's hard limit 1000, and a new user namespace cannot raise it)") !=
                     std::string::npos
                 ? 0
                 : 12;
    });
    EXPECT_EQ(rc, 0);
    return;
  }
  std::vector<ResolvedRlimit> r{{RLIMIT_CORE, 0, cur.rlim_max + 1, "RLIMIT_CORE"}};
  auto st = check_rlimits(r, true);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("caller's hard limit"), std::string::npos)
      << st.error().message;
}

TEST(Rlimit, ChildAppliesNofile) {
  auto r = resolve_rlimits({{"RLIMIT_NOFILE", 64, 64}});
  ASSERT_TRUE(r);
  int rc = run_in_child([&] {
    size_t failed = 99;
    if (apply_rlimits(*r, &failed) != 0) return 10;
    rlimit now{};
    if (::getrlimit(RLIMIT_NOFILE, &now) != 0) return 11;
    return now.rlim_cur == 64 && now.rlim_max == 64 ? 0 : 12;
  });
  EXPECT_EQ(rc, 0);
}

TEST(Rlimit, ChildReportsTheFailingIndex) {
  // Soft above hard: setrlimit() says EINVAL whoever calls it.
  std::vector<ResolvedRlimit> r{{RLIMIT_CORE, 0, 0, "RLIMIT_CORE"},
                                {RLIMIT_NOFILE, 100, 50, "RLIMIT_NOFILE"}};
  int rc = run_in_child([&] {
    size_t failed = 99;
    int e = apply_rlimits(r, &failed);
    return e == -EINVAL && failed == 1 ? 0 : 10;
  });
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace silo::runtime
