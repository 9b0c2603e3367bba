#pragma once
// The `l2bridge` driver: endpoints in the host's own subnet with static addresses
// (--subnet/--gateway of the physical network, --ip), all reaching the outside with the
// host's MAC. Each endpoint is a routed veth: the host routes the endpoint's /32 to its
// veth and answers ARP for it on the uplink (proxy_arp), and the veth answers ARP from
// the container for everything else, so the physical network sees one MAC for all
// endpoints and each port still has a MAC of its own.

#include <optional>
#include <span>
#include <string>

#include "common/error.h"
#include "network/link_plan.h"
#include "network/netlink.h"

namespace silo::network {

struct L2BridgeNetwork {
  std::string id;
  std::string name;
  std::string uplink;  // the host interface on the physical network (parent_interface())
  Prefix gateway;      // the physical network's router, with the subnet's length
  std::optional<unsigned> mtu;
};

struct L2BridgeEndpoint {
  std::string id;
  std::string netns;            // the container's namespace, by path
  std::string ifname = "eth0";  // its name inside the container
  Prefix address;               // from IPAM, with the subnet's length
  bool default_route = true;    // only a container's first endpoint has one
};

// Forwarding on, proxy ARP on the uplink.
LinkPlan plan_l2bridge_create(const L2BridgeNetwork& net, const std::string& host_ns);
// proxy ARP off on the uplink again.
LinkPlan plan_l2bridge_delete(const L2BridgeNetwork& net, const std::string& host_ns);
// The veth pair (tagged), proxy ARP on its host end, the endpoint's address and default
// route via the gateway in the container, and the host's /32 route to it.
LinkPlan plan_l2bridge_connect(const L2BridgeNetwork& net, const L2BridgeEndpoint& ep,
                               const std::string& host_ns);
// Deletes the host end of the veth (its /32 route goes with it).
LinkPlan plan_l2bridge_disconnect(const L2BridgeEndpoint& ep, const std::string& host_ns);

class L2BridgeDriver {
 public:
  L2BridgeDriver(Netlink& nl, std::string host_ns) : nl_(nl), host_ns_(std::move(host_ns)) {}

  // NotFound when the uplink does not exist in the host namespace.
  [[nodiscard]] Status create_network(const L2BridgeNetwork& net);
  [[nodiscard]] Status delete_network(const L2BridgeNetwork& net);
  // Everything made is removed again on failure.
  [[nodiscard]] Status connect(const L2BridgeNetwork& net, const L2BridgeEndpoint& ep);
  [[nodiscard]] Status disconnect(const L2BridgeNetwork& net, const L2BridgeEndpoint& ep);

 private:
  Netlink& nl_;
  std::string host_ns_;
};

}  // namespace silo::network
