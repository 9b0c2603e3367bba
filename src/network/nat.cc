#include "network/nat.h"

#include <algorithm>

#include "network/netns.h"

namespace silo::network {

namespace {

NftNetwork nft_network(const NatNetwork& net) {
  NftNetwork n{net.id, net.bridge, {}, !net.internal};
  for (const auto& g : net.gateways) n.subnets.push_back(g.network());
  return n;
}

Prefix default_route(Family f) {
  return Prefix{IpAddress{f, {}}, 0};
}

}  // namespace

Result<std::string> bridge_name(const std::string& network_id, const std::string& wanted) {
  std::string name = wanted.empty() ? "silo-" + network_id.substr(0, 10) : wanted;
  if (name.size() > 15)
    return fail(Code::Invalid, "bridge name " + name +
                                   " is longer than 15 characters (IFNAMSIZ); pick a shorter one");
  for (char c : name)
    if (c == '/' || c == ':' || c <= ' ' || c == 127)
      return fail(Code::Invalid,
                  "bridge name \"" + name + "\" has a character an interface name cannot have");
  if (name == "." || name == "..")
    return fail(Code::Invalid, "bridge name \"" + name + "\" is not a valid interface name");
  return name;
}

std::string host_veth_name(const std::string& endpoint_id) {
  return "veth" + endpoint_id.substr(0, 11);
}

NatPlan plan_create_network(const NatNetwork& net, const std::string& host_ns) {
  NatPlan p;
  auto& l = p.links;
  bool v6 = std::any_of(net.gateways.begin(), net.gateways.end(),
                        [](auto& g) { return g.family() == Family::V6; });
  if (!net.internal) {
    l.push_back(SetSysctl{host_ns, "net/ipv4/ip_forward", "1"});
    if (v6) l.push_back(SetSysctl{host_ns, "net/ipv6/conf/all/forwarding", "1"});
  }
  l.push_back(CreateBridge{host_ns, net.bridge});
  l.push_back(SetAlias{host_ns, net.bridge, network_tag(net.id)});
  if (net.mtu) l.push_back(SetLink{host_ns, net.bridge, std::nullopt, net.mtu, ""});
  for (const auto& g : net.gateways) l.push_back(AddAddress{host_ns, net.bridge, g});
  // Lets the host reach published ports as 127.0.0.1: DNAT in output sends a packet
  // from 127.0.0.1 out of the bridge, which the kernel drops as martian without it.
  l.push_back(SetSysctl{host_ns, "net/ipv4/conf/" + net.bridge + "/route_localnet", "1"});
  l.push_back(SetLink{host_ns, net.bridge, true, std::nullopt, ""});
  p.nft = plan_add_network(nft_network(net));
  return p;
}

Result<NatPlan> plan_connect(const NatNetwork& net, const NatEndpoint& ep,
                             const std::string& host_ns) {
  NatPlan p;
  auto& l = p.links;
  std::string host_if = host_veth_name(ep.id);
  l.push_back(CreateVeth{host_ns, host_if, ep.netns, ep.ifname});
  l.push_back(SetAlias{host_ns, host_if, endpoint_tag(ep.id)});
  l.push_back(SetMaster{host_ns, host_if, net.bridge});
  // A container reaching its own published port: the DNATed packet goes back out of
  // the port it came in on, which a bridge refuses unless the port is in hairpin mode.
  l.push_back(SetHairpin{host_ns, host_if, true});
  l.push_back(SetLink{host_ns, host_if, true, net.mtu, ""});
  l.push_back(SetLink{ep.netns, "lo", true, std::nullopt, ""});
  if (net.mtu || !ep.mac.empty())
    l.push_back(SetLink{ep.netns, ep.ifname, std::nullopt, net.mtu, ep.mac});
  for (const auto& a : ep.addresses) l.push_back(AddAddress{ep.netns, ep.ifname, a});
  l.push_back(SetLink{ep.netns, ep.ifname, true, std::nullopt, ""});
  if (!net.internal && ep.default_route)
    for (const auto& g : net.gateways) {
      bool has = std::any_of(ep.addresses.begin(), ep.addresses.end(),
                             [&](auto& a) { return a.family() == g.family(); });
      if (has) l.push_back(AddRoute{ep.netns, default_route(g.family()), g.addr, ep.ifname});
    }
  if (!ep.ports.empty()) {
    if (net.internal)
      return fail(Code::Invalid,
                  "publish " + ep.ports.front().str() + ": network " + net.name +
                      " is internal; connect the container to another network to publish ports");
    NftEndpoint n{ep.id, net.bridge, {}, ep.ports};
    for (const auto& a : ep.addresses) n.addresses.push_back(a.addr);
    auto nft = plan_add_endpoint(n);
    if (!nft) return std::unexpected(nft.error());
    p.nft = std::move(*nft);
  }
  return p;
}

LinkPlan plan_disconnect(const NatEndpoint& ep, const std::string& host_ns) {
  return {DeleteLink{host_ns, host_veth_name(ep.id)}};
}

LinkPlan plan_delete_network(const NatNetwork& net, const std::string& host_ns) {
  return {DeleteLink{host_ns, net.bridge}};
}

Status NatDriver::create_network(const NatNetwork& net) {
  NatPlan p = plan_create_network(net, host_ns_);
  SILO_TRY_CTX(apply_links(p.links, nl_), "create network " + net.name);
  auto ns = open_netns(host_ns_);
  Status fw = ns ? nft_.run(ns->get(), p.nft.script()) : Status(std::unexpected(ns.error()));
  if (!fw) {
    (void)teardown_links(plan_delete_network(net, host_ns_), nl_);
    return wrap(fw.error(), "create network " + net.name + ": firewall");
  }
  return {};
}

Status NatDriver::remove_tagged(const std::string& tag, const std::string& bridge) {
  auto ns = open_netns(host_ns_);
  if (!ns) return std::unexpected(ns.error());
  auto state = list_silo(nft_, ns->get());
  if (!state) return std::unexpected(state.error());
  NftPlan p = plan_remove(*state, tag, bridge);
  if (p.empty()) return {};
  return nft_.run(ns->get(), p.script());
}

Status NatDriver::delete_network(const NatNetwork& net) {
  auto fw = remove_tagged(network_tag(net.id), net.bridge);
  auto links = teardown_links(plan_delete_network(net, host_ns_), nl_);
  if (!fw) return wrap(fw.error(), "delete network " + net.name + ": firewall");
  if (!links) return wrap(links.error(), "delete network " + net.name);
  return {};
}

Status NatDriver::connect(const NatNetwork& net, const NatEndpoint& ep) {
  std::string what = "connect endpoint " + ep.id.substr(0, 12) + " to network " + net.name;
  auto p = plan_connect(net, ep, host_ns_);
  if (!p) return wrap(p.error(), what);
  SILO_TRY_CTX(apply_links(p->links, nl_), what);
  if (p->nft.empty()) return {};
  auto ns = open_netns(host_ns_);
  Status fw = ns ? nft_.run(ns->get(), p->nft.script()) : Status(std::unexpected(ns.error()));
  if (!fw) {
    (void)teardown_links(plan_disconnect(ep, host_ns_), nl_);
    return wrap(fw.error(), what + ": publish ports");
  }
  return {};
}

Status NatDriver::disconnect(const NatNetwork& net, const NatEndpoint& ep) {
  std::string what = "disconnect endpoint " + ep.id.substr(0, 12) + " from network " + net.name;
  auto fw = remove_tagged(endpoint_tag(ep.id), "");
  auto links = teardown_links(plan_disconnect(ep, host_ns_), nl_);
  if (!fw) return wrap(fw.error(), what + ": firewall");
  if (!links) return wrap(links.error(), what);
  return {};
}

Result<std::vector<Prefix>> NatDriver::host_routes() {
  auto ns = open_netns(host_ns_);
  if (!ns) return std::unexpected(ns.error());
  auto routes = nl_.list_routes(ns->get());
  if (!routes) return wrap(routes.error(), "list host routes");
  std::vector<Prefix> out;
  for (const auto& r : *routes) out.push_back(r.dst);
  return out;
}

}  // namespace silo::network
