#pragma once
// The `transparent` driver: endpoints sit directly on a physical network. Each endpoint
// is a macvlan (bridge mode) on the network's parent interface, created straight into the
// container's namespace, with a MAC of its own; its address is static (--subnet/--gateway
// and --ip, from IPAM) or leased by DHCP (dhcp.h) when the network has no subnet.
//
// The network itself makes no kernel object: creating it checks that the parent exists
// and that no other transparent network uses it.

#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "network/link_plan.h"
#include "network/netlink.h"

namespace silo::network {

// The Windows option naming the parent, kept for compatibility with -o of Docker on Windows.
inline constexpr std::string_view kWindowsInterfaceOption =
    "com.docker.network.windowsshim.interface";

// The parent interface from the network's options: `parent` or the Windows option (both
// given must agree). Invalid when neither is given, or the name cannot be an interface.
[[nodiscard]] Result<std::string> parent_interface(
    const std::map<std::string, std::string>& options);

// A MAC for an endpoint that did not ask for one: locally administered, unicast
// (02:xx:...), derived from the endpoint id so it is stable across a daemon restart.
std::string generate_mac(std::string_view endpoint_id);
// "02:42:AC:11:00:02" -> "02:42:ac:11:00:02". Invalid for anything else, and for a
// multicast MAC (which no endpoint may have).
[[nodiscard]] Result<std::string> parse_mac(std::string_view text);

struct TransparentNetwork {
  std::string id;
  std::string name;
  std::string parent;             // from parent_interface()
  std::optional<Prefix> gateway;  // gateway with the subnet's length; none: DHCP
  std::optional<unsigned> mtu;
};

struct TransparentEndpoint {
  std::string id;
  std::string netns;              // the container's namespace, by path
  std::string ifname = "eth0";    // its name inside the container
  std::optional<Prefix> address;  // from IPAM with the subnet's length; none: DHCP
  std::string mac;                // required: parse_mac(--mac-address) or generate_mac(id)
  bool default_route = true;      // only a container's first endpoint has one
};

// Another network and its parent interface, for the "one network per parent" check.
using NamedParent = std::pair<std::string, std::string>;  // network name, parent

// Conflict naming the network that already uses `parent`; ok when none does.
[[nodiscard]] Status check_parent_free(const std::string& parent,
                                       std::span<const NamedParent> others);

// The macvlan in the container, its MAC, lo and the link up; with a static address also
// the address and the default route via the gateway. DHCP endpoints get their address
// from plan_lease() once leased.
LinkPlan plan_transparent_connect(const TransparentNetwork& net, const TransparentEndpoint& ep,
                                  const std::string& host_ns);
// The address and default route of a leased endpoint.
LinkPlan plan_lease(const TransparentEndpoint& ep, const Prefix& address,
                    const std::optional<IpAddress>& router);
// Deletes the macvlan (it lives in the container's namespace).
LinkPlan plan_transparent_disconnect(const TransparentEndpoint& ep);

class TransparentDriver {
 public:
  TransparentDriver(Netlink& nl, std::string host_ns) : nl_(nl), host_ns_(std::move(host_ns)) {}

  // Checks the parent: NotFound when it does not exist in the host namespace, Conflict
  // when `others` (the other transparent networks) already use it.
  [[nodiscard]] Status create_network(const TransparentNetwork& net,
                                      std::span<const NamedParent> others);
  // Applies plan_transparent_connect; everything made is removed again on failure.
  [[nodiscard]] Status connect(const TransparentNetwork& net, const TransparentEndpoint& ep);
  // Removes the macvlan; done already when the container's namespace is gone.
  [[nodiscard]] Status disconnect(const TransparentNetwork& net, const TransparentEndpoint& ep);

 private:
  Netlink& nl_;
  std::string host_ns_;
};

}  // namespace silo::network
