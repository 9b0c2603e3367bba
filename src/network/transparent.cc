#include "network/transparent.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

#include "network/netns.h"
#include "network/nft.h"

namespace silo::network {

namespace {

bool valid_ifname(const std::string& n) {
  if (n.empty() || n.size() > 15 || n == "." || n == "..") return false;
  for (char c : n)
    if (c == '/' || c == ':' || c <= ' ' || c == 127) return false;
  return true;
}

Prefix default_route(Family f) {
  return Prefix{IpAddress{f, {}}, 0};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> parent_interface(const std::map<std::string, std::string>& options) {
  auto p = options.find("parent");
  auto w = options.find(std::string(kWindowsInterfaceOption));
  if (p == options.end() && w == options.end())
    return fail(Code::Invalid,
                "no parent interface: name the host interface the network sits on with -o "
                "parent=IF (or -o " +
                    std::string(kWindowsInterfaceOption) + "=IF)");
  if (p != options.end() && w != options.end() && p->second != w->second)
    return fail(Code::Invalid, "options parent=" + p->second + " and " +
                                   std::string(kWindowsInterfaceOption) + "=" + w->second +
                                   " name different interfaces; give one of them");
  const std::string& name = p != options.end() ? p->second : w->second;
  if (!valid_ifname(name))
    return fail(Code::Invalid, "parent interface \"" + name + "\" is not a valid interface name");
  return name;
}

std::string generate_mac(std::string_view endpoint_id) {
  // FNV-1a: stable across builds and restarts, unlike std::hash.
  uint64_t h = 14695981039346656037ull;
  for (char c : endpoint_id) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  char buf[18];
  std::snprintf(buf, sizeof buf, "02:%02x:%02x:%02x:%02x:%02x", unsigned(h >> 32 & 0xff),
                unsigned(h >> 24 & 0xff), unsigned(h >> 16 & 0xff), unsigned(h >> 8 & 0xff),
                unsigned(h & 0xff));
  return buf;
}

Result<std::string> parse_mac(std::string_view text) {
  auto bad = [&](std::string why) {
    return fail(Code::Invalid, "invalid MAC address \"" + std::string(text) + "\": " + why);
  };
  if (text.size() != 17) return bad("expected six hex pairs like 02:42:ac:11:00:02");
  std::string out;
  for (size_t i = 0; i < 17; ++i) {
    char c = text[i];
    if (i % 3 == 2) {
      if (c != ':' && c != '-') return bad("expected six hex pairs like 02:42:ac:11:00:02");
      out += ':';
      continue;
    }
    if (hex_value(c) < 0) return bad("'" + std::string(1, c) + "' is not a hex digit");
    out += static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  }
  if (hex_value(out[1]) & 1) return bad("a multicast address cannot be an endpoint's MAC");
  if (out == "00:00:00:00:00:00") return bad("the all-zero address cannot be an endpoint's MAC");
  return out;
}

Status check_parent_free(const std::string& parent, std::span<const NamedParent> others) {
  for (const auto& [name, p] : others)
    if (p == parent)
      return fail(Code::Conflict, "parent interface " + parent +
                                      " is already used by transparent network " + name +
                                      "; remove that network or pick another parent interface");
  return {};
}

LinkPlan plan_transparent_connect(const TransparentNetwork& net, const TransparentEndpoint& ep,
                                  const std::string& host_ns) {
  LinkPlan l;
  l.push_back(CreateMacvlan{host_ns, net.parent, ep.ifname, ep.netns});
  l.push_back(SetAlias{ep.netns, ep.ifname, endpoint_tag(ep.id)});
  l.push_back(SetLink{ep.netns, ep.ifname, std::nullopt, net.mtu, ep.mac});
  l.push_back(SetLink{ep.netns, "lo", true, std::nullopt, ""});
  if (ep.address) l.push_back(AddAddress{ep.netns, ep.ifname, *ep.address});
  l.push_back(SetLink{ep.netns, ep.ifname, true, std::nullopt, ""});
  if (ep.default_route && ep.address && net.gateway &&
      net.gateway->family() == ep.address->family())
    l.push_back(
        AddRoute{ep.netns, default_route(net.gateway->family()), net.gateway->addr, ep.ifname});
  return l;
}

LinkPlan plan_lease(const TransparentEndpoint& ep, const Prefix& address,
                    const std::optional<IpAddress>& router) {
  LinkPlan l{AddAddress{ep.netns, ep.ifname, address}};
  if (router && ep.default_route)
    l.push_back(AddRoute{ep.netns, default_route(router->family), *router, ep.ifname});
  return l;
}

LinkPlan plan_transparent_disconnect(const TransparentEndpoint& ep) {
  return {DeleteLink{ep.netns, ep.ifname}};
}

Status TransparentDriver::create_network(const TransparentNetwork& net,
                                         std::span<const NamedParent> others) {
  std::string what = "create network " + net.name;
  SILO_TRY_CTX(check_parent_free(net.parent, others), what);
  auto ns = open_netns(host_ns_);
  if (!ns) return wrap(ns.error(), what);
  auto link = nl_.find_link(ns->get(), net.parent);
  if (!link) return wrap(link.error(), what);
  if (!*link)
    return fail(Code::NotFound, what + ": parent interface " + net.parent +
                                    " does not exist on the host; name an existing interface "
                                    "with -o parent=IF");
  return {};
}

Status TransparentDriver::connect(const TransparentNetwork& net, const TransparentEndpoint& ep) {
  std::string what = "connect endpoint " + ep.id.substr(0, 12) + " to network " + net.name;
  if (ep.mac.empty()) return fail(Code::Invalid, what + ": the endpoint has no MAC address");
  SILO_TRY_CTX(apply_links(plan_transparent_connect(net, ep, host_ns_), nl_), what);
  return {};
}

Status TransparentDriver::disconnect(const TransparentNetwork& net, const TransparentEndpoint& ep) {
  // The macvlan lives and dies with the container's namespace.
  struct stat st;
  if (::stat(ep.netns.c_str(), &st) != 0 && errno == ENOENT) return {};
  SILO_TRY_CTX(teardown_links(plan_transparent_disconnect(ep), nl_),
               "disconnect endpoint " + ep.id.substr(0, 12) + " from network " + net.name);
  return {};
}

}  // namespace silo::network
