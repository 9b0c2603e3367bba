// The network service: the embedded DNS. Each user-defined nat network gets a listener
// on its gateway address (in the host's namespace, where the bridge is); containers on
// it have that address as their first nameserver. The server answers the names of the
// network's containers (names, --network-alias, --link aliases, short ids) and passes
// every other query on to the host's resolvers.

#include "common/log.h"
#include "engine/network_service_impl.h"
#include "network/dns.h"
#include "network/netns.h"

namespace silo::engine {

bool NetworkService::Impl::dns_enabled(const NetworkInfo& net) const {
  return net.driver == "nat" && !net.builtin;
}

void NetworkService::Impl::dns_listen(const NetworkInfo& net) {
  if (!dns || !dns_enabled(net)) return;
  auto ns = network::open_netns(host_ns);
  if (!ns) {
    spdlog::warn("network {}: DNS: {}", net.name, ns.error().message);
    return;
  }
  for (const auto& s : net.subnets) {
    if (s.subnet.family() != network::Family::V4) continue;
    if (auto ok = dns->listen(net.id, ns->get(), s.gateway); !ok)
      spdlog::warn("network {}: embedded DNS on {}: {}; containers resolve through the host's "
                   "resolvers only",
                   net.name, s.gateway.str(), ok.error().message);
    return;
  }
}

void NetworkService::Impl::dns_unlisten(const NetworkInfo& net) {
  if (dns) dns->unlisten(net.id);
}

}  // namespace silo::engine
