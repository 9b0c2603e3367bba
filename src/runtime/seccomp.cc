#include "runtime/seccomp.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <climits>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "common/sys.h"

namespace silo::runtime {

namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using FilterCtx = std::unique_ptr<void, CtxDeleter>;

constexpr unsigned kMaxArgs = 6;

std::string quoted_field(std::string_view field, std::string_view what, std::string_view name) {
  return fmt::format("{}: unknown {} \"{}\"", field, what, name);
}

std::optional<uint32_t> plain_action(std::string_view name) {
  static constexpr std::pair<std::string_view, uint32_t> kActions[] = {
      {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD},
      {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
      {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
      {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
      {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
      {"SCMP_ACT_LOG", SCMP_ACT_LOG}};
  for (auto [n, action] : kActions)
    if (name == n) return action;
  return std::nullopt;
}

// ERRNO and TRACE carry a return value; OCI's default for both is EPERM (runc's too).
Result<uint32_t> parse_action(const std::string& name, const std::optional<unsigned>& errno_ret,
                              const std::string& field) {
  // A notify listener needs an agent (seccompListenerPath) that Silo does not run.
  if (name == "SCMP_ACT_NOTIFY")
    return fail(Code::Invalid, fmt::format("{}: SCMP_ACT_NOTIFY is not supported", field));
  bool is_errno = name == "SCMP_ACT_ERRNO", is_trace = name == "SCMP_ACT_TRACE";
  auto plain = plain_action(name);
  if (!plain && !is_errno && !is_trace)
    return fail(Code::Invalid, quoted_field(field, "action", name));
  if (plain) {
    if (errno_ret)
      return fail(Code::Invalid, fmt::format("{}: errnoRet is only valid with SCMP_ACT_ERRNO and "
                                             "SCMP_ACT_TRACE, not {}",
                                             field, name));
    return *plain;
  }
  unsigned ret = errno_ret.value_or(EPERM);
  if (ret > 0xffff)
    return fail(Code::Invalid, fmt::format("{}: errnoRet {} is out of range", field, ret));
  return is_errno ? SCMP_ACT_ERRNO(ret) : SCMP_ACT_TRACE(ret);
}

Result<scmp_compare> parse_op(const std::string& name, const std::string& field) {
  static constexpr std::pair<std::string_view, scmp_compare> kOps[] = {
      {"SCMP_CMP_NE", SCMP_CMP_NE},
      {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE},
      {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  for (auto [n, op] : kOps)
    if (name == n) return op;
  return fail(Code::Invalid, quoted_field(field, "operator", name));
}

// "SCMP_ARCH_X86_64" -> libseccomp's "x86_64".
Result<uint32_t> parse_arch(const std::string& name, const std::string& field) {
  constexpr std::string_view kPrefix = "SCMP_ARCH_";
  if (name.starts_with(kPrefix)) {
    std::string lower = name.substr(kPrefix.size());
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (uint32_t arch = seccomp_arch_resolve_name(lower.c_str()); arch != 0) return arch;
  }
  return fail(Code::Invalid, quoted_field(field, "architecture", name));
}

Result<unsigned> parse_flag(const std::string& name, const std::string& field) {
  if (name == "SECCOMP_FILTER_FLAG_TSYNC") return SECCOMP_FILTER_FLAG_TSYNC;
  if (name == "SECCOMP_FILTER_FLAG_LOG") return SECCOMP_FILTER_FLAG_LOG;
  if (name == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") return SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  return fail(Code::Invalid, quoted_field(field, "flag", name));
}

Result<std::vector<scmp_arg_cmp>> parse_args(const SeccompRule& rule, const std::string& field) {
  std::vector<scmp_arg_cmp> out;
  for (size_t i = 0; i < rule.args.size(); ++i) {
    const SeccompArg& a = rule.args[i];
    std::string f = fmt::format("{}.args[{}]", field, i);
    if (a.index >= kMaxArgs)
      return fail(Code::Invalid, fmt::format("{}.index: {} is out of range (0-5)", f, a.index));
    auto op = parse_op(a.op, f + ".op");
    if (!op) return std::unexpected(op.error());
    // For MASKED_EQ the OCI value is the mask and valueTwo the datum, as libseccomp wants.
    out.push_back(scmp_arg_cmp{a.index, *op, a.value, a.value_two});
  }
  return out;
}

// libseccomp ANDs the comparisons of one rule and rejects two on the same argument; the
// OCI profiles (Docker's among them) mean "any of" then. As runc does: one rule per
// comparison when an argument repeats.
bool repeats_an_argument(const std::vector<scmp_arg_cmp>& args) {
  std::array<int, kMaxArgs> seen{};
  for (const auto& a : args)
    if (++seen[a.arg] > 1) return true;
  return false;
}

Status add_rule(scmp_filter_ctx ctx, int nr, uint32_t action, const std::vector<scmp_arg_cmp>& args,
                const std::string& name) {
  auto add = [&](const scmp_arg_cmp* a, unsigned n) -> Status {
    if (int rc = seccomp_rule_add_array(ctx, action, nr, n, a); rc < 0)
      return fail_errno(-rc, fmt::format("add a rule for {}", name));
    return {};
  };
  if (!repeats_an_argument(args)) return add(args.data(), static_cast<unsigned>(args.size()));
  for (const auto& a : args) SILO_TRY(add(&a, 1));
  return {};
}

Status add_rules(scmp_filter_ctx ctx, const Seccomp& s, uint32_t default_action) {
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const SeccompRule& rule = s.syscalls[i];
    std::string field = fmt::format("linux.seccomp.syscalls[{}]", i);
    auto action = parse_action(rule.action, rule.errno_ret, field + ".action");
    if (!action) return std::unexpected(action.error());
    auto args = parse_args(rule, field);
    if (!args) return std::unexpected(args.error());
    // libseccomp refuses a rule that repeats the default action (EACCES); it would be a no-op.
    if (*action == default_action) continue;
    for (const std::string& name : rule.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // unknown to this libseccomp: skipped, as runc does
      SILO_TRY_CTX(add_rule(ctx, nr, *action, *args, name), field);
    }
  }
  return {};
}

Status add_architectures(scmp_filter_ctx ctx, const Seccomp& s) {
  for (size_t i = 0; i < s.architectures.size(); ++i) {
    std::string field = fmt::format("linux.seccomp.architectures[{}]", i);
    auto arch = parse_arch(s.architectures[i], field);
    if (!arch) return std::unexpected(arch.error());
    // EEXIST: the native architecture (always present) or a repeat.
    if (int rc = seccomp_arch_add(ctx, *arch); rc < 0 && rc != -EEXIST)
      return fail_errno(-rc, fmt::format("{}: add architecture {}", field, s.architectures[i]));
  }
  return {};
}

// libseccomp 2.5 can only export to an fd: go through a memfd and read it back.
Result<std::vector<sock_filter>> export_bpf(scmp_filter_ctx ctx) {
  UniqueFd fd(::memfd_create("silo-seccomp", MFD_CLOEXEC));
  if (!fd) return fail_errno(errno, "memfd_create");
  if (int rc = seccomp_export_bpf(ctx, fd.get()); rc < 0)
    return fail_errno(-rc, "export the filter");
  off_t size = ::lseek(fd.get(), 0, SEEK_END);
  if (size < 0 || ::lseek(fd.get(), 0, SEEK_SET) != 0)
    return fail_errno(errno, "seek the exported filter");
  if (size == 0 || size % sizeof(sock_filter) != 0)
    return fail(Code::Internal, fmt::format("exported filter has a bad size ({} bytes)", size));
  std::vector<sock_filter> prog(static_cast<size_t>(size) / sizeof(sock_filter));
  auto n = sys::read_full(fd.get(), prog.data(), static_cast<size_t>(size));
  if (!n) return wrap(n.error(), "read the exported filter");
  if (*n != static_cast<size_t>(size))
    return fail(Code::Internal, "short read of the exported filter");
  // The kernel rejects longer programs (BPF_MAXINSNS) with a bare EINVAL; say why here.
  if (prog.size() > BPF_MAXINSNS)
    return fail(Code::Invalid, fmt::format("the filter has {} instructions, more than the kernel's "
                                           "limit of {}; shorten the profile",
                                           prog.size(), BPF_MAXINSNS));
  return prog;
}

Result<std::vector<sock_filter>> build(const Seccomp& s, uint32_t default_action) {
  FilterCtx ctx(seccomp_init(default_action));
  if (!ctx) return fail(Code::Internal, "linux.seccomp: seccomp_init failed");
  // No-new-privileges is the runtime's business (process.noNewPrivileges), not the filter's.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); rc < 0)
    return fail_errno(-rc, "linux.seccomp: clear the no_new_privs attribute");
  SILO_TRY(add_architectures(ctx.get(), s));
  SILO_TRY(add_rules(ctx.get(), s, default_action));
  auto prog = export_bpf(ctx.get());
  if (!prog) return wrap(prog.error(), "linux.seccomp");
  return prog;
}

}  // namespace

Result<SeccompProgram> compile_seccomp(const Seccomp& s) {
  SeccompProgram p;
  for (size_t i = 0; i < s.flags.size(); ++i) {
    auto f = parse_flag(s.flags[i], fmt::format("linux.seccomp.flags[{}]", i));
    if (!f) return std::unexpected(f.error());
    p.flags |= *f;
  }
  auto def = parse_action(s.default_action, s.default_errno_ret, "linux.seccomp.defaultAction");
  if (!def) return std::unexpected(def.error());
  auto prog = build(s, *def);
  if (!prog) return std::unexpected(prog.error());
  p.filter = std::move(*prog);
  return p;
}

int apply_seccomp(const SeccompProgram& p) noexcept {
  if (p.filter.empty()) return 0;
  if (p.filter.size() > USHRT_MAX) return -EINVAL;
  sock_fprog prog{static_cast<unsigned short>(p.filter.size()),
                  const_cast<sock_filter*>(p.filter.data())};
  return sys::raw_seccomp_set_filter(p.flags, &prog);
}

}  // namespace silo::runtime
