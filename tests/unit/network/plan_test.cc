// Link plans and their executor, nftables plans and listings, and the nat driver,
// over the recording fakes: what would be done, in what order, and what is undone.

#include <gtest/gtest.h>

#include <algorithm>

#include "fakes.h"
#include "network/ipam.h"
#include "network/link_plan.h"
#include "network/nat.h"
#include "network/nft.h"

namespace silo::network {
namespace {

using testing::FakeNetlink;
using testing::FakeNftables;

// Any path that opens without root: the fakes ignore the fd.
const std::string kNs = "/proc/self/ns/net";

Prefix pfx(std::string_view s) {
  return *Prefix::parse(s);
}

NatNetwork net1() {
  return {"aaaabbbbccccdddd", "n1", "silo-aaaabbbbcc", {pfx("10.1.0.1/24")}, std::nullopt, false};
}
NatEndpoint ep1() {
  return {"1234567890abcdef",   kNs, "eth0",
          {pfx("10.1.0.2/24")}, "",  {*PortMapping::parse("8080:80")}};
}

bool has(const std::vector<std::string>& v, std::string_view s) {
  return std::any_of(v.begin(), v.end(), [&](auto& x) { return x.find(s) != std::string::npos; });
}

TEST(LinkPlan, DescribesStepsLikeIp) {
  EXPECT_EQ(describe(CreateBridge{"/run/netns/h", "silo-nat0"}),
            "create bridge silo-nat0 in /run/netns/h");
  EXPECT_EQ(describe(AddRoute{"/c", pfx("0.0.0.0/0"), *IpAddress::parse("10.1.0.1"), "eth0"}),
            "add route default via 10.1.0.1 dev eth0 in /c");
  EXPECT_EQ(describe(SetLink{"/c", "eth0", true, 1400u, ""}), "set eth0 up mtu 1400 in /c");
}

TEST(LinkPlan, FailureUndoesWhatWasCreatedAndNamesTheStep) {
  FakeNetlink nl;
  nl.fail_on["add_address silo-x 10.1.0.1/24"] = EADDRNOTAVAIL;
  LinkPlan plan{CreateBridge{kNs, "silo-x"}, AddAddress{kNs, "silo-x", pfx("10.1.0.1/24")},
                SetLink{kNs, "silo-x", true, std::nullopt, ""}};
  auto r = apply_links(plan, nl);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("add address 10.1.0.1/24 to silo-x in " + kNs),
            std::string::npos);
  EXPECT_EQ(nl.calls.back(), "delete_link silo-x");
  EXPECT_FALSE(has(nl.calls, "set_link silo-x up"));
}

TEST(LinkPlan, ExistingBridgeNameGetsAHint) {
  FakeNetlink nl;
  nl.fail_on["create_bridge silo-nat0"] = EEXIST;
  auto r = apply_links({CreateBridge{kNs, "silo-nat0"}}, nl);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Conflict);
  EXPECT_NE(r.error().message.find("create bridge silo-nat0"), std::string::npos);
  EXPECT_NE(
      r.error().message.find(
          "EEXIST (File exists) — another interface has that name; pick another network name"),
      std::string::npos)
      << r.error().message;
}

TEST(LinkPlan, MissingNamespaceIsNamed) {
  FakeNetlink nl;
  auto r = apply_links({CreateBridge{"/nonexistent/netns", "b"}}, nl);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("/nonexistent/netns"), std::string::npos);
  EXPECT_TRUE(nl.calls.empty());
}

TEST(LinkPlan, TeardownGoesOnAndIgnoresLinksAlreadyGone) {
  FakeNetlink nl;
  nl.fail_on["delete_link a"] = ENODEV;
  EXPECT_TRUE(teardown_links({DeleteLink{kNs, "a"}, DeleteLink{kNs, "b"}}, nl));
  EXPECT_EQ(nl.calls.size(), 2u);
  nl.fail_on["delete_link b"] = EPERM;
  EXPECT_FALSE(teardown_links({DeleteLink{kNs, "b"}}, nl));
}

TEST(PortMapping, ParsesDockerSyntax) {
  auto a = PortMapping::parse("8080:80");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->str(), "0.0.0.0:8080->80/tcp");
  auto b = PortMapping::parse("127.0.0.1:53:5353/udp");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->str(), "127.0.0.1:53->5353/udp");
  auto c = PortMapping::parse("80");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host_port, 80);
  auto v6 = PortMapping::parse("[::1]:8080:80");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host_ip->str(), "::1");
  EXPECT_FALSE(PortMapping::parse("8080:0"));
  EXPECT_FALSE(PortMapping::parse("8080:80/sctp"));
  EXPECT_FALSE(PortMapping::parse("x:8080:80"));
}

TEST(NftPlan, NetworkRulesAreTaggedAndOnlyInSilosTable) {
  NftPlan p = plan_add_network({"netid", "silo-n1", {pfx("10.1.0.0/24")}, true});
  for (const auto& c : p.commands) {
    EXPECT_NE(c.find(" inet silo"), std::string::npos) << c;
    EXPECT_EQ(c.find("flush"), std::string::npos) << c;
    if (c.starts_with("add rule")) {
      EXPECT_NE(c.find("comment \"silo:net=netid\""), std::string::npos) << c;
    }
  }
  EXPECT_TRUE(has(p.commands, "ip saddr 10.1.0.0/24 oifname != \"silo-n1\" masquerade"));
  EXPECT_TRUE(has(p.commands, "iifname \"silo-n1\" oifname @bridges oifname != \"silo-n1\" drop"));
  EXPECT_TRUE(has(p.commands, "add element inet silo bridges { \"silo-n1\" }"));
}

TEST(NftPlan, InternalNetworkHasNoMasquerade) {
  NftPlan p = plan_add_network({"netid", "silo-n1", {pfx("10.1.0.0/24")}, false});
  EXPECT_FALSE(has(p.commands, "saddr 10.1.0.0/24"));
}

TEST(NftPlan, EndpointMappingDnatsFromOutsideAndFromTheHostAndAccepts) {
  NftEndpoint ep{
      "epid", "silo-n1", {*IpAddress::parse("10.1.0.2")}, {*PortMapping::parse("8080:80")}};
  auto p = plan_add_endpoint(ep);
  ASSERT_TRUE(p);
  std::string dnat =
      "fib daddr type local tcp dport 8080 dnat ip to 10.1.0.2:80 comment \"silo:ep=epid\"";
  EXPECT_TRUE(has(p->commands, "prerouting meta nfproto ipv4 " + dnat));
  EXPECT_TRUE(has(p->commands, "output meta nfproto ipv4 " + dnat));
  EXPECT_TRUE(
      has(p->commands,
          "insert rule inet silo forward oifname \"silo-n1\" ip daddr 10.1.0.2 tcp dport 80 "
          "ct status dnat accept comment \"silo:ep=epid\""));
}

TEST(NftPlan, HostAddressAndIpv6) {
  NftEndpoint ep{
      "e",
      "b",
      {*IpAddress::parse("10.1.0.2"), *IpAddress::parse("fd00::2")},
      {*PortMapping::parse("127.0.0.1:8080:80/udp"), *PortMapping::parse("[::1]:9090:90")}};
  auto p = plan_add_endpoint(ep);
  ASSERT_TRUE(p);
  EXPECT_TRUE(has(p->commands, "ip daddr 127.0.0.1 udp dport 8080 dnat ip to 10.1.0.2:80"));
  EXPECT_TRUE(has(p->commands, "ip6 daddr ::1 tcp dport 9090 dnat ip6 to [fd00::2]:90"));
  EXPECT_FALSE(has(p->commands, "dnat ip to 10.1.0.2:90"));
  NftEndpoint v4only{
      "e", "b", {*IpAddress::parse("10.1.0.2")}, {*PortMapping::parse("[::1]:9090:90")}};
  auto bad = plan_add_endpoint(v4only);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("no IPv6 address"), std::string::npos);
}

const char* kListing = R"({"nftables": [{"metainfo": {"json_schema_version": 1}},
  {"table": {"family": "inet", "name": "silo", "handle": 1}},
  {"set": {"family": "inet", "name": "bridges", "table": "silo", "type": "ifname", "handle": 2,
           "elem": ["silo-n1", "silo-n2"]}},
  {"rule": {"family": "inet", "table": "silo", "chain": "prerouting", "handle": 13, "comment": "silo:ep=e1", "expr": []}},
  {"rule": {"family": "inet", "table": "silo", "chain": "forward", "handle": 15, "comment": "silo:ep=e1", "expr": []}},
  {"rule": {"family": "inet", "table": "silo", "chain": "forward", "handle": 16, "comment": "silo:ep=e2", "expr": []}},
  {"rule": {"family": "inet", "table": "silo", "chain": "postrouting", "handle": 6, "comment": "silo:net=n1", "expr": []}}]})";

TEST(NftState, ParsesListingAndRemovesExactlyOneEndpoint) {
  auto st = parse_nft_json(kListing);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_TRUE(st->exists);
  EXPECT_EQ(st->rules.size(), 4u);
  EXPECT_EQ(st->bridges, (std::vector<std::string>{"silo-n1", "silo-n2"}));
  NftPlan p = plan_remove(*st, endpoint_tag("e1"));
  EXPECT_EQ(p.commands, (std::vector<std::string>{"delete rule inet silo prerouting handle 13",
                                                  "delete rule inet silo forward handle 15"}));
  NftPlan n = plan_remove(*st, network_tag("n1"), "silo-n1");
  EXPECT_EQ(n.commands.back(), "delete element inet silo bridges { \"silo-n1\" }");
  EXPECT_TRUE(plan_remove(*st, endpoint_tag("gone")).empty());
  auto empty = parse_nft_json("");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->exists);
  EXPECT_FALSE(parse_nft_json("{not json"));
}

TEST(Nat, BridgeNames) {
  EXPECT_EQ(*bridge_name("0123456789abcdef"), "silo-0123456789");
  EXPECT_EQ(*bridge_name("x", "silo-nat0"), "silo-nat0");
  auto longer = bridge_name("x", "a-very-long-bridge-name");
  ASSERT_FALSE(longer);
  EXPECT_NE(longer.error().message.find("longer than 15"), std::string::npos);
  EXPECT_FALSE(bridge_name("x", "a/b"));
  EXPECT_EQ(host_veth_name("1234567890abcdef"), "veth1234567890a");
}

TEST(Nat, CreateNetworkPlan) {
  NatPlan p = plan_create_network(net1(), "/run/netns/h");
  std::vector<std::string> steps;
  for (const auto& s : p.links) steps.push_back(describe(s));
  EXPECT_EQ(steps, (std::vector<std::string>{
                       "set net/ipv4/ip_forward=1 in /run/netns/h",
                       "create bridge silo-aaaabbbbcc in /run/netns/h",
                       "set silo-aaaabbbbcc alias silo:net=aaaabbbbccccdddd in /run/netns/h",
                       "add address 10.1.0.1/24 to silo-aaaabbbbcc in /run/netns/h",
                       "set net/ipv4/conf/silo-aaaabbbbcc/route_localnet=1 in /run/netns/h",
                       "set silo-aaaabbbbcc up in /run/netns/h",
                   }));
  EXPECT_TRUE(has(p.nft.commands, "ip saddr 10.1.0.0/24"));
}

TEST(Nat, ConnectPlanPutsTheVethInTheContainerWithAddressAndRoute) {
  auto ep = ep1();
  ep.netns = "/run/netns/c1";
  auto p = plan_connect(net1(), ep, "/run/netns/h");
  ASSERT_TRUE(p);
  std::vector<std::string> steps;
  for (const auto& s : p->links) steps.push_back(describe(s));
  EXPECT_EQ(steps, (std::vector<std::string>{
                       "create veth pair veth1234567890a in /run/netns/h / eth0 in /run/netns/c1",
                       "set veth1234567890a alias silo:ep=1234567890abcdef in /run/netns/h",
                       "attach veth1234567890a to bridge silo-aaaabbbbcc in /run/netns/h",
                       "set bridge port veth1234567890a hairpin on in /run/netns/h",
                       "set veth1234567890a up in /run/netns/h",
                       "set lo up in /run/netns/c1",
                       "add address 10.1.0.2/24 to eth0 in /run/netns/c1",
                       "set eth0 up in /run/netns/c1",
                       "add route default via 10.1.0.1 dev eth0 in /run/netns/c1",
                   }));
  EXPECT_TRUE(has(p->nft.commands, "dnat ip to 10.1.0.2:80"));
}

TEST(Nat, InternalNetworkHasNoRouteAndRefusesPorts) {
  auto net = net1();
  net.internal = true;
  auto ep = ep1();
  auto refused = plan_connect(net, ep, kNs);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("network n1 is internal"), std::string::npos);
  ep.ports.clear();
  auto p = plan_connect(net, ep, kNs);
  ASSERT_TRUE(p);
  for (const auto& s : p->links) EXPECT_FALSE(std::holds_alternative<AddRoute>(s));
  EXPECT_TRUE(p->nft.empty());
}

TEST(NatDriver, FirewallFailureRemovesTheBridge) {
  FakeNetlink nl;
  FakeNftables nft;
  nft.fail_run = true;
  NatDriver d(nl, nft, kNs);
  auto r = d.create_network(net1());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("create network n1: firewall: nft:"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(nl.calls.back(), "delete_link silo-aaaabbbbcc");
}

TEST(NatDriver, ConnectFailureRemovesTheVeth) {
  FakeNetlink nl;
  FakeNftables nft;
  nl.fail_on["add_route 0.0.0.0/0 via 10.1.0.1 dev eth0"] = ENETUNREACH;
  NatDriver d(nl, nft, kNs);
  auto r = d.connect(net1(), ep1());
  ASSERT_FALSE(r);
  EXPECT_NE(
      r.error().message.find("connect endpoint 1234567890ab to network n1: add route default"),
      std::string::npos)
      << r.error().message;
  EXPECT_EQ(nl.calls.back(), "delete_link veth1234567890a");
  EXPECT_TRUE(nft.scripts.empty());
}

TEST(NatDriver, DisconnectRemovesOnlyThatEndpointsRulesInOneTransaction) {
  FakeNetlink nl;
  FakeNftables nft;
  nft.listing = kListing;
  NatDriver d(nl, nft, kNs);
  auto ep = ep1();
  ep.id = "e1";
  ASSERT_TRUE(d.disconnect(net1(), ep));
  ASSERT_EQ(nft.scripts.size(), 1u);
  EXPECT_EQ(
      nft.scripts[0],
      "delete rule inet silo prerouting handle 13\ndelete rule inet silo forward handle 15\n");
  EXPECT_EQ(nl.calls, (std::vector<std::string>{"delete_link veth" + std::string("e1")}));
}

TEST(NatDriver, HostRoutesFeedThePoolChoice) {
  FakeNetlink nl;
  FakeNftables nft;
  nl.routes = {{pfx("0.0.0.0/0"), *IpAddress::parse("192.0.2.254"), 2},
               {pfx("172.16.0.0/16"), std::nullopt, 2}};
  NatDriver d(nl, nft, kNs);
  auto routes = d.host_routes();
  ASSERT_TRUE(routes);
  auto pools = default_pools(Family::V4);
  auto p = pick_subnet(pools, *routes, {});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->subnet.str(), "172.17.0.0/16");
}

}  // namespace
}  // namespace silo::network
