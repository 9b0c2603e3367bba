#pragma once
// The kernel side of links, addresses, routes and per-namespace sysctls, behind an
// interface so the plan executor can be tested with a fake. Every call names the
// network namespace it acts in by an fd: nothing here uses the caller's namespace.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "network/address.h"

namespace silo::network {

struct LinkInfo {
  int index = 0;
  std::string name;
  std::string kind;  // "bridge", "veth", "macvlan", "" for a physical device
  unsigned mtu = 0;
  std::string mac;
  bool up = false;
  int master = 0;     // ifindex of the bridge it is enslaved to, 0 when none
  std::string alias;  // IFLA_IFALIAS; Silo tags what it creates ("silo:net=<id>")
};

struct RouteInfo {
  Prefix dst;  // 0.0.0.0/0 for a default route
  std::optional<IpAddress> gateway;
  int oif = 0;
};

// Errors carry the errno (EEXIST, ENODEV, EPERM...) and name the link.
class Netlink {
 public:
  virtual ~Netlink() = default;
  virtual Status create_bridge(int ns, const std::string& name) = 0;
  // A veth pair: `name` in `ns`, `peer` created directly in `peer_ns`.
  virtual Status create_veth(int ns, const std::string& name, int peer_ns,
                             const std::string& peer) = 0;
  // A macvlan in bridge mode on `parent` (in `ns`), created directly in `target_ns`.
  virtual Status create_macvlan(int ns, const std::string& parent, const std::string& name,
                                int target_ns) = 0;
  virtual Status set_master(int ns, const std::string& name, const std::string& master) = 0;
  virtual Status set_link(int ns, const std::string& name, std::optional<bool> up,
                          std::optional<unsigned> mtu, const std::string& mac) = 0;
  virtual Status add_address(int ns, const std::string& name, const Prefix& address) = 0;
  virtual Status add_route(int ns, const Prefix& dst, const std::optional<IpAddress>& gateway,
                           const std::string& dev) = 0;
  // NotFound when there is no such link.
  virtual Status delete_link(int ns, const std::string& name) = 0;
  // Sets the interface alias (IFLA_IFALIAS, `ip link set NAME alias A`): Silo's tag on
  // the links it makes, so reconcile never has to go by name.
  virtual Status set_alias(int ns, const std::string& name, const std::string& alias) = 0;
  // Bridge port flag hairpin_mode: lets a frame leave by the port it came in on.
  virtual Status set_hairpin(int ns, const std::string& name, bool on) = 0;
  // nullopt when there is no such link.
  virtual Result<std::optional<LinkInfo>> find_link(int ns, const std::string& name) = 0;
  // Every link in `ns`.
  virtual Result<std::vector<LinkInfo>> list_links(int ns) = 0;
  // The main table's routes.
  virtual Result<std::vector<RouteInfo>> list_routes(int ns) = 0;
  // Writes /proc/sys/<key> as seen from `ns` ("net/ipv4/conf/silo0/proxy_arp").
  virtual Status set_sysctl(int ns, const std::string& key, const std::string& value) = 0;
};

// The real one, over libnl-route-3; each call runs on a helper thread inside `ns`.
std::unique_ptr<Netlink> make_netlink();

}  // namespace silo::network
