// Netlink over libnl-route-3: Debian's library builds the RTM_* messages (veth peers,
// IFLA_NET_NS_FD, macvlan modes, nexthops), so nothing here encodes attributes by hand
// except the one bridge-port flag message libnl cannot send (set_hairpin).

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

#include "common/sys.h"
#include "network/netlink.h"
#include "network/netns.h"

namespace silo::network {

namespace {

// libnl returns its own NLE_* codes; the errno behind them keeps Code and hints right.
int errno_of(int nle) {
  switch (std::abs(nle)) {
    case NLE_EXIST:
      return EEXIST;
    case NLE_OBJ_NOTFOUND:
      return ENODEV;
    case NLE_NODEV:
      return ENODEV;
    case NLE_PERM:
      return EPERM;
    case NLE_BUSY:
      return EBUSY;
    case NLE_INVAL:
      return EINVAL;
    case NLE_RANGE:
      return ERANGE;
    case NLE_NOMEM:
      return ENOMEM;
    case NLE_OPNOTSUPP:
      return EOPNOTSUPP;
    case NLE_AF_NOSUPPORT:
      return EAFNOSUPPORT;
    case NLE_NOADDR:
      return EADDRNOTAVAIL;
    case NLE_NOACCESS:
      return EACCES;
    default:
      return EIO;
  }
}

// "what: EEXIST (File exists)" as every other Silo error, from libnl's code.
std::unexpected<Error> nl_fail(int nle, const std::string& what) {
  int err = errno_of(nle);
  if (err != EIO) return fail_errno(err, what);
  Error e{EIO, Code::Internal, what + ": " + nl_geterror(nle)};
  return std::unexpected(std::move(e));
}

struct SockFree {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct LinkPut {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrPut {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using Sock = std::unique_ptr<nl_sock, SockFree>;
using Link = std::unique_ptr<rtnl_link, LinkPut>;
using Addr = std::unique_ptr<nl_addr, AddrPut>;

// A NETLINK_ROUTE socket in the calling thread's namespace (the helper thread's).
Result<Sock> connect_route() {
  Sock s(nl_socket_alloc());
  if (!s) return fail(Code::Internal, "netlink: out of memory");
  if (int e = nl_connect(s.get(), NETLINK_ROUTE); e < 0) return nl_fail(e, "netlink: connect");
  return s;
}

Result<Link> get_link(nl_sock* s, const std::string& name) {
  rtnl_link* l = nullptr;
  if (int e = rtnl_link_get_kernel(s, 0, name.c_str(), &l); e < 0)
    return nl_fail(e, "find interface " + name);
  return Link(l);
}

Addr make_addr(const IpAddress& a, int len) {
  bool v4 = a.family == Family::V4;
  Addr out(nl_addr_build(v4 ? AF_INET : AF_INET6, a.bytes.data(), v4 ? 4 : 16));
  if (out) nl_addr_set_prefixlen(out.get(), len);
  return out;
}

// Runs fn(sock) on a helper thread inside `ns` with a fresh route socket.
Status in_ns(int ns, const std::function<Status(nl_sock*)>& fn) {
  return run_in_netns(ns, [&]() -> Status {
    auto s = connect_route();
    if (!s) return std::unexpected(s.error());
    return fn(s->get());
  });
}

Status add_new(nl_sock* s, rtnl_link* l, const std::string& what) {
  if (int e = rtnl_link_add(s, l, NLM_F_CREATE | NLM_F_EXCL); e < 0) return nl_fail(e, what);
  return {};
}

class LibnlNetlink final : public Netlink {
 public:
  Status create_bridge(int ns, const std::string& name) override {
    return in_ns(ns, [&](nl_sock* s) -> Status {
      Link l(rtnl_link_bridge_alloc());
      rtnl_link_set_name(l.get(), name.c_str());
      return add_new(s, l.get(), "create bridge " + name);
    });
  }

  Status create_veth(int ns, const std::string& name, int peer_ns,
                     const std::string& peer_name) override {
    return in_ns(ns, [&](nl_sock* s) -> Status {
      Link l(rtnl_link_veth_alloc());
      rtnl_link_set_name(l.get(), name.c_str());
      Link peer(rtnl_link_veth_get_peer(l.get()));  // takes a reference
      rtnl_link_set_name(peer.get(), peer_name.c_str());
      if (peer_ns != ns) rtnl_link_set_ns_fd(peer.get(), peer_ns);
      return add_new(s, l.get(), "create veth pair " + name + "/" + peer_name);
    });
  }

  Status create_macvlan(int ns, const std::string& parent, const std::string& name,
                        int target_ns) override {
    return in_ns(ns, [&](nl_sock* s) -> Status {
      auto p = get_link(s, parent);
      if (!p) return wrap(p.error(), "create macvlan " + name + ": parent interface");
      Link l(rtnl_link_macvlan_alloc());
      rtnl_link_set_name(l.get(), name.c_str());
      rtnl_link_set_link(l.get(), rtnl_link_get_ifindex(p->get()));
      rtnl_link_macvlan_set_mode(l.get(), rtnl_link_macvlan_str2mode("bridge"));
      if (target_ns != ns) rtnl_link_set_ns_fd(l.get(), target_ns);
      return add_new(s, l.get(), "create macvlan " + name + " on " + parent);
    });
  }

  Status set_master(int ns, const std::string& name, const std::string& master) override {
    return in_ns(ns, [&](nl_sock* s) -> Status {
      auto l = get_link(s, name);
      if (!l) return std::unexpected(l.error());
      auto m = get_link(s, master);
      if (!m) return std::unexpected(m.error());
      if (int e = rtnl_link_enslave(s, m->get(), l->get()); e < 0)
        return nl_fail(e, "attach " + name + " to bridge " + master);
      return {};
    });
  }

  Status set_link(int ns, const std::string& name, std::optional<bool> up,
                  std::optional<unsigned> mtu, const std::string& mac) override {
    return in_ns(ns, [&](nl_sock* s) -> Status {
      auto l = get_link(s, name);
      if (!l) return std::unexpected(l.error());
      Link change(rtnl_link_alloc());
      if (up && *up) rtnl_link_set_flags(change.get(), IFF_UP);
      if (up && !*up) rtnl_link_unset_flags(change.get(), IFF_UP);
      if (mtu) rtnl_link_set_mtu(change.get(), *mtu);
      if (!mac.empty()) {
        nl_addr* a = nullptr;
        if (nl_addr_parse(mac.c_str(), AF_LLC, &a) < 0)
          return fail(Code::Invalid, "set " + name + ": invalid MAC address " + mac);
        Addr owned(a);
        rtnl_link_set_addr(change.get(), a);
      }
      if (int e = rtnl_link_change(s, l->get(), change.get(), 0); e < 0)
        return nl_fail(e, "configure interface " + name);
      return {};
    });
  }

  Status add_address(int ns, const std::string& name, const Prefix& address) override {
    return in_ns(ns, [&](nl_sock* s) -> Status {
      auto l = get_link(s, name);
      if (!l) return std::unexpected(l.error());
      std::unique_ptr<rtnl_addr, void (*)(rtnl_addr*)> a(rtnl_addr_alloc(), rtnl_addr_put);
      rtnl_addr_set_ifindex(a.get(), rtnl_link_get_ifindex(l->get()));
      Addr local = make_addr(address.addr, address.len);
      rtnl_addr_set_local(a.get(), local.get());
      // No duplicate address detection: IPAM owns the subnet, and DAD would leave the
      // address "tentative" (unusable) for a second or more after start.
      if (address.family() == Family::V6) rtnl_addr_set_flags(a.get(), IFA_F_NODAD);
      if (int e = rtnl_addr_add(s, a.get(), 0); e < 0)
        return nl_fail(e, "add address " + address.str() + " to " + name);
      return {};
    });
  }

  Status add_route(int ns, const Prefix& dst, const std::optional<IpAddress>& gateway,
                   const std::string& dev) override {
    return in_ns(ns, [&](nl_sock* s) -> Status {
      auto l = get_link(s, dev);
      if (!l) return std::unexpected(l.error());
      std::unique_ptr<rtnl_route, void (*)(rtnl_route*)> r(rtnl_route_alloc(), rtnl_route_put);
      Addr d = make_addr(dst.addr, dst.len);
      rtnl_route_set_family(r.get(), dst.family() == Family::V4 ? AF_INET : AF_INET6);
      rtnl_route_set_dst(r.get(), d.get());
      rtnl_route_set_protocol(r.get(), RTPROT_STATIC);
      rtnl_nexthop* nh = rtnl_route_nh_alloc();
      rtnl_route_nh_set_ifindex(nh, rtnl_link_get_ifindex(l->get()));
      if (gateway) {
        Addr g = make_addr(*gateway, gateway->bits());
        rtnl_route_nh_set_gateway(nh, g.get());
      }
      rtnl_route_add_nexthop(r.get(), nh);  // the route owns nh from here
      if (int e = rtnl_route_add(s, r.get(), NLM_F_EXCL); e < 0)
        return nl_fail(e, "add route " + dst.str() +
                              (gateway ? " via " + gateway->str() : std::string()) + " dev " + dev);
      return {};
    });
  }

  Status delete_link(int ns, const std::string& name) override {
    return in_ns(ns, [&](nl_sock* s) -> Status {
      auto l = get_link(s, name);
      if (!l) return std::unexpected(l.error());
      if (int e = rtnl_link_delete(s, l->get()); e < 0)
        return nl_fail(e, "delete interface " + name);
      return {};
    });
  }

  Status set_alias(int ns, const std::string& name, const std::string& alias) override {
    return in_ns(ns, [&](nl_sock* s) -> Status {
      auto l = get_link(s, name);
      if (!l) return std::unexpected(l.error());
      Link change(rtnl_link_alloc());
      rtnl_link_set_ifalias(change.get(), alias.c_str());
      if (int e = rtnl_link_change(s, l->get(), change.get(), 0); e < 0)
        return nl_fail(e, "set alias of " + name);
      return {};
    });
  }

  Status set_hairpin(int ns, const std::string& name, bool on) override {
    return in_ns(ns, [&](nl_sock* s) -> Status {
      auto l = get_link(s, name);
      if (!l) return std::unexpected(l.error());
      // Bridge port flags travel as IFLA_PROTINFO{IFLA_BRPORT_MODE} in an AF_BRIDGE
      // RTM_SETLINK (what `bridge link set dev X hairpin on` sends). libnl's
      // rtnl_link_change refuses a family change, so this one message is built here.
      std::unique_ptr<nl_msg, void (*)(nl_msg*)> msg(nlmsg_alloc_simple(RTM_SETLINK, 0),
                                                     nlmsg_free);
      ifinfomsg ifi{};
      ifi.ifi_family = AF_BRIDGE;
      ifi.ifi_index = rtnl_link_get_ifindex(l->get());
      nlattr* info = nullptr;
      if (!msg || nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 ||
          !(info = nla_nest_start(msg.get(), IFLA_PROTINFO | NLA_F_NESTED)) ||
          nla_put_u8(msg.get(), IFLA_BRPORT_MODE, on ? 1 : 0) < 0)
        return fail(Code::Internal, "set hairpin_mode on " + name + ": out of memory");
      nla_nest_end(msg.get(), info);
      int e = nl_send_auto(s, msg.get());
      if (e >= 0) e = nl_wait_for_ack(s);
      if (e < 0) return nl_fail(e, "set hairpin_mode on bridge port " + name);
      return {};
    });
  }

  Result<std::optional<LinkInfo>> find_link(int ns, const std::string& name) override {
    std::optional<LinkInfo> out;
    auto st = in_ns(ns, [&](nl_sock* s) -> Status {
      rtnl_link* raw = nullptr;
      int e = rtnl_link_get_kernel(s, 0, name.c_str(), &raw);
      if (e == -NLE_OBJ_NOTFOUND || e == -NLE_NODEV) return {};
      if (e < 0) return nl_fail(e, "find interface " + name);
      Link l(raw);
      out = to_link_info(raw);
      return {};
    });
    if (!st) return std::unexpected(st.error());
    return out;
  }

  Result<std::vector<LinkInfo>> list_links(int ns) override {
    std::vector<LinkInfo> out;
    auto st = in_ns(ns, [&](nl_sock* s) -> Status {
      nl_cache* cache = nullptr;
      if (int e = rtnl_link_alloc_cache(s, AF_UNSPEC, &cache); e < 0)
        return nl_fail(e, "list interfaces");
      for (nl_object* o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o))
        out.push_back(to_link_info(reinterpret_cast<rtnl_link*>(o)));
      nl_cache_free(cache);
      return {};
    });
    if (!st) return std::unexpected(st.error());
    return out;
  }

  Result<std::vector<RouteInfo>> list_routes(int ns) override {
    std::vector<RouteInfo> out;
    auto st = in_ns(ns, [&](nl_sock* s) -> Status {
      nl_cache* cache = nullptr;
      if (int e = rtnl_route_alloc_cache(s, AF_UNSPEC, 0, &cache); e < 0)
        return nl_fail(e, "list routes");
      for (nl_object* o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
        auto* r = reinterpret_cast<rtnl_route*>(o);
        if (rtnl_route_get_table(r) != RT_TABLE_MAIN) continue;
        if (auto info = to_route_info(r)) out.push_back(*info);
      }
      nl_cache_free(cache);
      return {};
    });
    if (!st) return std::unexpected(st.error());
    return out;
  }

  Status set_sysctl(int ns, const std::string& key, const std::string& value) override {
    if (key.find("..") != std::string::npos || key.starts_with("/"))
      return fail(Code::Invalid, "sysctl key " + key + " must be relative to /proc/sys");
    return run_in_netns(ns, [&]() -> Status {
      // /proc/sys/net resolves to the namespace of the task that opens it: this thread's.
      return sys::write_file("/proc/sys/" + key, value);
    });
  }

 private:
  static LinkInfo to_link_info(rtnl_link* raw) {
    LinkInfo info;
    info.index = rtnl_link_get_ifindex(raw);
    info.name = rtnl_link_get_name(raw);
    if (const char* t = rtnl_link_get_type(raw)) info.kind = t;
    info.mtu = rtnl_link_get_mtu(raw);
    info.up = rtnl_link_get_flags(raw) & IFF_UP;
    info.master = rtnl_link_get_master(raw);
    if (nl_addr* a = rtnl_link_get_addr(raw)) {
      char buf[64];
      info.mac = nl_addr2str(a, buf, sizeof buf);
    }
    if (const char* alias = rtnl_link_get_ifalias(raw)) info.alias = alias;
    return info;
  }

  static std::optional<RouteInfo> to_route_info(rtnl_route* r) {
    int family = rtnl_route_get_family(r);
    if (family != AF_INET && family != AF_INET6) return std::nullopt;
    RouteInfo info;
    info.dst.addr.family = family == AF_INET ? Family::V4 : Family::V6;
    nl_addr* d = rtnl_route_get_dst(r);
    if (d && nl_addr_get_len(d) > 0) {
      auto* bytes = static_cast<const uint8_t*>(nl_addr_get_binary_addr(d));
      std::copy(bytes, bytes + std::min<unsigned>(nl_addr_get_len(d), 16),
                info.dst.addr.bytes.begin());
      info.dst.len = nl_addr_get_prefixlen(d);
    }
    if (rtnl_route_get_nnexthops(r) > 0) {
      rtnl_nexthop* nh = rtnl_route_nexthop_n(r, 0);
      info.oif = rtnl_route_nh_get_ifindex(nh);
      if (nl_addr* g = rtnl_route_nh_get_gateway(nh)) {
        IpAddress ga;
        ga.family = info.dst.addr.family;
        auto* bytes = static_cast<const uint8_t*>(nl_addr_get_binary_addr(g));
        std::copy(bytes, bytes + std::min<unsigned>(nl_addr_get_len(g), 16), ga.bytes.begin());
        info.gateway = ga;
      }
    }
    return info;
  }
};

}  // namespace

std::unique_ptr<Netlink> make_netlink() {
  return std::make_unique<LibnlNetlink>();
}

}  // namespace silo::network
