// Config.User to uid/gid/additional gids, as dockerd (moby/sys/user GetExecUser) resolves
// it against the container's own /etc/passwd and /etc/group.

#include <fstream>
#include <sstream>

#include "engine/container_config_internal.h"

namespace silo::engine::detail {
namespace {

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0, gid = 0;
};
struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}

bool parse_u32(const std::string& s, uint32_t& out) {
  if (s.empty() || s.size() > 10) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint64_t(c - '0');
  }
  if (v > 0xFFFFFFFFull) return false;
  out = uint32_t(v);
  return true;
}

std::vector<PasswdEntry> read_passwd(const std::string& path) {
  std::vector<PasswdEntry> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto f = split(line, ':');
    PasswdEntry e;
    if (f.size() < 4 || !parse_u32(f[2], e.uid) || !parse_u32(f[3], e.gid)) continue;
    e.name = f[0];
    out.push_back(e);
  }
  return out;
}

std::vector<GroupEntry> read_group(const std::string& path) {
  std::vector<GroupEntry> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto f = split(line, ':');
    GroupEntry e;
    if (f.size() < 3 || !parse_u32(f[2], e.gid)) continue;
    e.name = f[0];
    if (f.size() > 3 && !f[3].empty()) e.members = split(f[3], ',');
    out.push_back(e);
  }
  return out;
}

}  // namespace

Result<ResolvedUser> resolve_user(const std::string& user, const std::string& rootfs,
                                  const std::vector<std::string>& group_add) {
  ResolvedUser r;
  std::string u = user, g;
  if (auto colon = user.find(':'); colon != std::string::npos) {
    u = user.substr(0, colon);
    g = user.substr(colon + 1);
  }
  auto passwd = rootfs.empty() ? std::vector<PasswdEntry>{} : read_passwd(rootfs + "/etc/passwd");
  auto groups = rootfs.empty() ? std::vector<GroupEntry>{} : read_group(rootfs + "/etc/group");
  std::string user_name;
  if (u.empty()) {
    r.uid = 0;
    r.gid = 0;
    user_name = "root";
    for (const auto& p : passwd)
      if (p.uid == 0) {
        r.gid = p.gid;
        user_name = p.name;
        break;
      }
  } else if (uint32_t n; parse_u32(u, n)) {
    r.uid = n;
    r.gid = 0;
    for (const auto& p : passwd)
      if (p.uid == n) {
        r.gid = p.gid;
        user_name = p.name;
        break;
      }
  } else {
    bool found = false;
    for (const auto& p : passwd)
      if (p.name == u) {
        r.uid = p.uid;
        r.gid = p.gid;
        user_name = p.name;
        found = true;
        break;
      }
    if (!found)
      return fail(Code::Invalid,
                  "unable to find user " + u + ": no matching entries in passwd file");
  }
  if (!g.empty()) {
    if (uint32_t n; parse_u32(g, n)) {
      r.gid = n;
    } else {
      bool found = false;
      for (const auto& e : groups)
        if (e.name == g) {
          r.gid = e.gid;
          found = true;
          break;
        }
      if (!found)
        return fail(Code::Invalid,
                    "unable to find group " + g + ": no matching entries in group file");
    }
  } else if (!user_name.empty()) {
    // Supplementary groups of the user, only when no group was named (GetExecUser).
    for (const auto& e : groups)
      for (const auto& m : e.members)
        if (m == user_name && e.gid != r.gid) r.additional_gids.push_back(e.gid);
  }
  for (const auto& ga : group_add) {
    if (uint32_t n; parse_u32(ga, n)) {
      r.additional_gids.push_back(n);
      continue;
    }
    bool found = false;
    for (const auto& e : groups)
      if (e.name == ga) {
        r.additional_gids.push_back(e.gid);
        found = true;
        break;
      }
    if (!found)
      return fail(Code::Invalid,
                  "Unable to find group " + ga + ": no matching entries in group file");
  }
  return r;
}

}  // namespace silo::engine::detail
