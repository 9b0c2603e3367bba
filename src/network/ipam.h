#pragma once
// IPAM: the subnets of a network and the addresses handed out in them.
//
// Pure logic over plain data: the caller (the engine) keeps IpamSubnet values, passes
// them in, and persists what comes back (to_json/from_json), so nothing here touches
// the kernel or a file.

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "network/address.h"

namespace silo::network {

// Who holds an address: an endpoint's container (id and name), the gateway, or an
// --aux-address entry. Named in every "in use" error.
struct Holder {
  std::string kind;  // "container", "gateway", "aux-address"
  std::string id;    // container id, or the aux-address key
  std::string name;  // container name ("" when none)

  // "container web (3f2a91c…)", "the gateway of this network", "aux-address host1".
  std::string describe() const;
  bool operator==(const Holder&) const = default;
};

// What the user asked for one subnet of a network (docker network create flags).
struct SubnetRequest {
  std::string subnet;    // --subnet, "" = pick one from the default pools
  std::string gateway;   // --gateway, "" = the first host address
  std::string ip_range;  // --ip-range, "" = the whole subnet
  std::map<std::string, std::string> aux_addresses;  // --aux-address name=ip
};

// One subnet of a network and its allocations.
struct IpamSubnet {
  Prefix subnet;
  IpAddress gateway;
  std::optional<Prefix> ip_range;         // endpoints get addresses from here
  std::map<IpAddress, Holder> allocated;  // gateway, aux addresses, endpoints
  std::optional<IpAddress> last;          // last address handed out (sequential order)
};

// A pool subnets are carved from when --subnet is not given: `base` split into /`size`.
struct DefaultPool {
  Prefix base;
  int size = 16;
};

// Silo's default pools: 172.16.0.0/12 in /16s (the Windows nat default), then
// 192.168.0.0/16 in /20s; fd00:5170::/48 in /64s for IPv6.
std::vector<DefaultPool> default_pools(Family family);

// The subnet picked from the pools, and why it is not the first choice (empty when it is).
struct PickedSubnet {
  Prefix subnet;
  std::string note;  // "172.16.0.0/16 overlaps host route 172.16.0.0/12; using 172.17.0.0/16"
};

// Picks the first subnet in `pools` that overlaps neither a host route (default routes
// are ignored) nor a subnet already used by a network. Unavailable when all are taken.
[[nodiscard]] Result<PickedSubnet> pick_subnet(std::span<const DefaultPool> pools,
                                               std::span<const Prefix> host_routes,
                                               std::span<const Prefix> used);

// Validates a request and builds the subnet: prefix without host bits, gateway and
// aux addresses inside it (not its network or broadcast address), ip-range inside it.
// `subnet` is the one to use when req.subnet is empty (from pick_subnet).
// `others` are the subnets of existing networks, keyed by network name: an overlap is a
// Conflict naming that network.
using NamedPrefix = std::pair<std::string, Prefix>;
[[nodiscard]] Result<IpamSubnet> make_subnet(const SubnetRequest& req,
                                             const std::optional<Prefix>& picked,
                                             std::span<const NamedPrefix> others = {});

// Hands out an address to `holder`: `wanted` when given (static --ip; Conflict naming the
// holder when taken, Invalid when outside the subnet), otherwise the next free address
// after the last one handed out, so a freed address is not reused at once.
[[nodiscard]] Result<IpAddress> allocate(IpamSubnet& s, const Holder& holder,
                                         const std::optional<IpAddress>& wanted = std::nullopt);

// Frees an address held by `holder`. NotFound when it is not allocated (a second
// release), Conflict when someone else holds it. Gateway and aux addresses stay.
[[nodiscard]] Status release(IpamSubnet& s, const IpAddress& address, const Holder& holder);

// How many addresses the subnet can still hand out.
unsigned __int128 free_count(const IpamSubnet& s);

// JSON for the engine's store.
nlohmann::json to_json(const IpamSubnet& s);
[[nodiscard]] Result<IpamSubnet> subnet_from_json(const nlohmann::json& j);

}  // namespace silo::network
