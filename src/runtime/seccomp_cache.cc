// compile_seccomp_cached: compiled seccomp programs kept on disk, keyed by the profile.
//
// Compiling Docker's default profile for x86_64 + x86 + x32 with libseccomp takes ~15 ms
// (994 instructions; measured on the 2-core CI machine), and every container start and
// exec did it again for the same profile. A cached program is read back in well under a
// millisecond. The cache holds only programs that compiled; a file that is missing,
// short, foreign or for another profile is ignored and the profile is compiled.
#include <seccomp.h>

#include <cstring>
#include <functional>

#include <fmt/format.h>

#include "common/json.h"
#include "common/sys.h"
#include "runtime/seccomp.h"

namespace silo::runtime {
namespace {

constexpr std::string_view kMagic = "silo-seccomp-bpf 1\n";

// Everything the compiled program depends on: the profile itself, the libseccomp that
// compiles it and the kernel API level it detected (which decides, for one, whether
// SCMP_ACT_LOG and the newer filter flags are used).
std::string cache_key(const Seccomp& s) {
  Json rules = Json::array();
  for (const auto& r : s.syscalls) {
    Json args = Json::array();
    for (const auto& a : r.args) args.push_back(Json::array({a.index, a.value, a.value_two, a.op}));
    rules.push_back(Json::array({r.names, r.action, r.errno_ret ? Json(*r.errno_ret) : Json(), args}));
  }
  Json key = Json::array({s.default_action,
                          s.default_errno_ret ? Json(*s.default_errno_ret) : Json(),
                          s.architectures, s.flags, rules});
  const scmp_version* v = seccomp_version();
  return fmt::format("libseccomp {}.{}.{} api {}\n{}", v->major, v->minor, v->micro,
                     seccomp_api_get(), key.dump());
}

// File: magic, key length and key, flags, instruction count, instructions (host order).
std::string encode(const std::string& key, const SeccompProgram& p) {
  std::string out(kMagic);
  auto put = [&out](const void* data, size_t n) {
    out.append(static_cast<const char*>(data), n);
  };
  uint64_t key_len = key.size();
  uint32_t flags = p.flags, count = static_cast<uint32_t>(p.filter.size());
  put(&key_len, sizeof key_len);
  out += key;
  put(&flags, sizeof flags);
  put(&count, sizeof count);
  put(p.filter.data(), p.filter.size() * sizeof(sock_filter));
  return out;
}

std::optional<SeccompProgram> decode(const std::string& file, const std::string& key) {
  size_t off = 0;
  auto take = [&](void* to, size_t n) {
    if (file.size() - off < n) return false;
    std::memcpy(to, file.data() + off, n);
    off += n;
    return true;
  };
  if (!file.starts_with(kMagic)) return std::nullopt;
  off = kMagic.size();
  uint64_t key_len = 0;
  if (!take(&key_len, sizeof key_len) || key_len != key.size() ||
      file.compare(off, key_len, key) != 0)
    return std::nullopt;
  off += key_len;
  uint32_t flags = 0, count = 0;
  if (!take(&flags, sizeof flags) || !take(&count, sizeof count) || count == 0 ||
      count > BPF_MAXINSNS || file.size() - off != count * sizeof(sock_filter))
    return std::nullopt;
  SeccompProgram p;
  p.flags = flags;
  p.filter.resize(count);
  std::memcpy(p.filter.data(), file.data() + off, file.size() - off);
  return p;
}

}  // namespace

Result<SeccompProgram> compile_seccomp_cached(const Seccomp& s, const std::string& cache_dir) {
  if (cache_dir.empty()) return compile_seccomp(s);
  std::string key = cache_key(s);
  // The name only spreads profiles over files; the key inside decides.
  std::string path = fmt::format("{}/{:016x}.bpf", cache_dir, std::hash<std::string>{}(key));
  if (auto file = sys::read_file(path))
    if (auto p = decode(*file, key)) return std::move(*p);
  auto p = compile_seccomp(s);
  if (!p) return p;
  // Root's alone (0700): a program read from here is loaded into containers unchecked.
  // A failure to store only costs the next start the compile again.
  if (sys::mkdir_p(cache_dir, 0700)) (void)sys::write_file_atomic(path, encode(key, *p), 0600);
  return p;
}

}  // namespace silo::runtime
