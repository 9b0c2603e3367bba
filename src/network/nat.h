#pragma once
// The `nat` driver: a Linux bridge per network with the gateway address, masquerade
// of the network's subnets, isolation from other Silo networks; an endpoint is a veth
// pair with one end on the bridge and the other in the container's namespace, an
// address from IPAM, a default route via the gateway, and its port mappings.
//
// Each operation is a plan (links + one nftables transaction) and an apply step.

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "network/link_plan.h"
#include "network/netlink.h"
#include "network/nft.h"

namespace silo::network {

// A nat network as the driver needs it (the engine keeps this and the IPAM state).
struct NatNetwork {
  std::string id;
  std::string name;
  std::string bridge;            // from bridge_name()
  std::vector<Prefix> gateways;  // gateway address with the subnet's length, per family
  std::optional<unsigned> mtu;   // none: the kernel's default
  bool internal = false;         // no masquerade, no default route
};

// An endpoint of a container on a nat network.
struct NatEndpoint {
  std::string id;
  std::string netns;              // the container's namespace, by path
  std::string ifname = "eth0";    // its name inside the container
  std::vector<Prefix> addresses;  // from IPAM, with the subnet's length: 172.16.0.2/16
  std::string mac;                // "" = the kernel picks one
  std::vector<PortMapping> ports;
  // The container's default route goes through this endpoint's gateway; only one of a
  // container's endpoints has it (its first), as Docker's gateway endpoint.
  bool default_route = true;
};

// The bridge for a network: `wanted` when given (com.docker.network.bridge.name),
// else "silo-" + the first 10 characters of the id. Invalid when over 15 characters
// (IFNAMSIZ) or when it has characters an interface name cannot have.
[[nodiscard]] Result<std::string> bridge_name(const std::string& network_id,
                                              const std::string& wanted = {});
// The host end of an endpoint's veth pair: "veth" + the first 11 characters of its id.
std::string host_veth_name(const std::string& endpoint_id);

struct NatPlan {
  LinkPlan links;
  NftPlan nft;
};

// `host_ns` is the namespace that holds the bridge (the host's, or a test host's).
NatPlan plan_create_network(const NatNetwork& net, const std::string& host_ns);
[[nodiscard]] Result<NatPlan> plan_connect(const NatNetwork& net, const NatEndpoint& ep,
                                           const std::string& host_ns);
// Link teardown only: the nftables side is found by tag when it runs.
LinkPlan plan_disconnect(const NatEndpoint& ep, const std::string& host_ns);
LinkPlan plan_delete_network(const NatNetwork& net, const std::string& host_ns);

// Applies the plans with a Netlink and an Nftables (real, or fakes in unit tests).
class NatDriver {
 public:
  NatDriver(Netlink& nl, Nftables& nft, std::string host_ns)
      : nl_(nl), nft_(nft), host_ns_(std::move(host_ns)) {}

  // Bridge, address, sysctls, then the firewall; the bridge is removed again when the
  // firewall step fails.
  [[nodiscard]] Status create_network(const NatNetwork& net);
  // The network's rules and bridge-set element, then the bridge. Endpoints first.
  [[nodiscard]] Status delete_network(const NatNetwork& net);
  [[nodiscard]] Status connect(const NatNetwork& net, const NatEndpoint& ep);
  // Rules tagged with the endpoint, then its veth (gone already if its namespace is).
  [[nodiscard]] Status disconnect(const NatNetwork& net, const NatEndpoint& ep);
  // The host routes, for pick_subnet (default routes included; it skips them).
  [[nodiscard]] Result<std::vector<Prefix>> host_routes();

 private:
  Status remove_tagged(const std::string& tag, const std::string& bridge);
  Netlink& nl_;
  Nftables& nft_;
  std::string host_ns_;
};

}  // namespace silo::network
