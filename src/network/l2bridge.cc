#include "network/l2bridge.h"

#include <algorithm>

#include "network/nat.h"
#include "network/netns.h"
#include "network/nft.h"

namespace silo::network {

namespace {

std::string proxy_arp(const std::string& ifname) {
  return "net/ipv4/conf/" + ifname + "/proxy_arp";
}

}  // namespace

LinkPlan plan_l2bridge_create(const L2BridgeNetwork& net, const std::string& host_ns) {
  return {SetSysctl{host_ns, "net/ipv4/ip_forward", "1"},
          SetSysctl{host_ns, proxy_arp(net.uplink), "1"}};
}

LinkPlan plan_l2bridge_delete(const L2BridgeNetwork& net, const std::string& host_ns) {
  return {SetSysctl{host_ns, proxy_arp(net.uplink), "0"}};
}

LinkPlan plan_l2bridge_connect(const L2BridgeNetwork& net, const L2BridgeEndpoint& ep,
                               const std::string& host_ns) {
  std::string host_if = host_veth_name(ep.id);
  Prefix host_route{ep.address.addr, ep.address.addr.bits()};
  LinkPlan plan = {
      CreateVeth{host_ns, host_if, ep.netns, ep.ifname},
      SetAlias{host_ns, host_if, endpoint_tag(ep.id)},
      SetLink{host_ns, host_if, true, net.mtu, ""},
      // The container ARPs for the gateway and its neighbours; the host end answers
      // with its own MAC for every address the host routes elsewhere.
      SetSysctl{host_ns, proxy_arp(host_if), "1"},
      SetLink{ep.netns, "lo", true, std::nullopt, ""},
      SetLink{ep.netns, ep.ifname, std::nullopt, net.mtu, ""},
      AddAddress{ep.netns, ep.ifname, ep.address},
      SetLink{ep.netns, ep.ifname, true, std::nullopt, ""},
      AddRoute{ep.netns, Prefix{IpAddress{net.gateway.family(), {}}, 0}, net.gateway.addr,
               ep.ifname},
      // What makes the uplink answer ARP for the endpoint (proxy_arp answers for
      // addresses routed out of another interface).
      AddRoute{host_ns, host_route, std::nullopt, host_if},
  };
  if (!ep.default_route)
    plan.erase(std::remove_if(plan.begin(), plan.end(),
                              [&](const LinkStep& s) {
                                auto* r = std::get_if<AddRoute>(&s);
                                return r && r->ns == ep.netns && r->dst.len == 0;
                              }),
               plan.end());
  return plan;
}

LinkPlan plan_l2bridge_disconnect(const L2BridgeEndpoint& ep, const std::string& host_ns) {
  return {DeleteLink{host_ns, host_veth_name(ep.id)}};
}

Status L2BridgeDriver::create_network(const L2BridgeNetwork& net) {
  std::string what = "create network " + net.name;
  if (net.gateway.family() != Family::V4)
    return fail(Code::Invalid, what +
                                   ": l2bridge uses proxy ARP, which is IPv4 only; give an "
                                   "IPv4 --subnet");
  auto ns = open_netns(host_ns_);
  if (!ns) return wrap(ns.error(), what);
  auto link = nl_.find_link(ns->get(), net.uplink);
  if (!link) return wrap(link.error(), what);
  if (!*link)
    return fail(Code::NotFound, what + ": uplink interface " + net.uplink +
                                    " does not exist on the host; name the interface on the "
                                    "physical network with -o parent=IF");
  SILO_TRY_CTX(apply_links(plan_l2bridge_create(net, host_ns_), nl_), what);
  return {};
}

Status L2BridgeDriver::delete_network(const L2BridgeNetwork& net) {
  SILO_TRY_CTX(teardown_links(plan_l2bridge_delete(net, host_ns_), nl_),
               "delete network " + net.name);
  return {};
}

Status L2BridgeDriver::connect(const L2BridgeNetwork& net, const L2BridgeEndpoint& ep) {
  SILO_TRY_CTX(apply_links(plan_l2bridge_connect(net, ep, host_ns_), nl_),
               "connect endpoint " + ep.id.substr(0, 12) + " to network " + net.name);
  return {};
}

Status L2BridgeDriver::disconnect(const L2BridgeNetwork& net, const L2BridgeEndpoint& ep) {
  SILO_TRY_CTX(teardown_links(plan_l2bridge_disconnect(ep, host_ns_), nl_),
               "disconnect endpoint " + ep.id.substr(0, 12) + " from network " + net.name);
  return {};
}

}  // namespace silo::network
