// The l2bridge driver over the recording fake: routed veth with proxy ARP.

#include <gtest/gtest.h>

#include "fakes.h"
#include "network/l2bridge.h"

namespace silo::network {
namespace {

using testing::FakeNetlink;

const std::string kNs = "/proc/self/ns/net";

Prefix pfx(std::string_view s) {
  return *Prefix::parse(s);
}
L2BridgeNetwork lnet() {
  return {"aaaabbbbccccdddd", "l2", "uplink0", pfx("192.0.2.100/24"), std::nullopt};
}
L2BridgeEndpoint lep() {
  return {"1234567890abcdef", "/run/netns/c1", "eth0", pfx("192.0.2.10/24")};
}

TEST(L2Bridge, ConnectPlanIsARoutedVethWithProxyArp) {
  std::vector<std::string> lines;
  for (const auto& s : plan_l2bridge_connect(lnet(), lep(), "/h")) lines.push_back(describe(s));
  std::vector<std::string> want{
      "create veth pair veth1234567890a in /h / eth0 in /run/netns/c1",
      "set veth1234567890a alias silo:ep=1234567890abcdef in /h",
      "set veth1234567890a up in /h",
      "set net/ipv4/conf/veth1234567890a/proxy_arp=1 in /h",
      "set lo up in /run/netns/c1",
      "set eth0 in /run/netns/c1",
      "add address 192.0.2.10/24 to eth0 in /run/netns/c1",
      "set eth0 up in /run/netns/c1",
      "add route default via 192.0.2.100 dev eth0 in /run/netns/c1",
      "add route 192.0.2.10/32 dev veth1234567890a in /h",
  };
  EXPECT_EQ(lines, want);
}

TEST(L2Bridge, CreateTurnsOnForwardingAndProxyArpOnTheUplink) {
  FakeNetlink nl;
  nl.links.push_back(LinkInfo{.index = 2, .name = "uplink0"});
  L2BridgeDriver drv(nl, kNs);
  ASSERT_TRUE(drv.create_network(lnet()));
  EXPECT_EQ(nl.calls, (std::vector<std::string>{"sysctl net/ipv4/ip_forward=1",
                                                "sysctl net/ipv4/conf/uplink0/proxy_arp=1"}));
  nl.calls.clear();
  ASSERT_TRUE(drv.delete_network(lnet()));
  EXPECT_EQ(nl.calls, (std::vector<std::string>{"sysctl net/ipv4/conf/uplink0/proxy_arp=0"}));
}

TEST(L2Bridge, MissingUplinkAndIpv6AreClearErrors) {
  FakeNetlink nl;
  L2BridgeDriver drv(nl, kNs);
  auto r = drv.create_network(lnet());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::NotFound);
  EXPECT_NE(r.error().message.find("uplink interface uplink0 does not exist"), std::string::npos);
  auto v6 = lnet();
  v6.gateway = pfx("fd00::1/64");
  auto r6 = drv.create_network(v6);
  ASSERT_FALSE(r6);
  EXPECT_NE(r6.error().message.find("IPv4 only"), std::string::npos);
  EXPECT_TRUE(nl.calls.empty());
}

TEST(L2Bridge, ConnectFailureRemovesTheVeth) {
  FakeNetlink nl;
  nl.fail_on["add_route 192.0.2.10/32 dev veth1234567890a"] = EEXIST;
  L2BridgeDriver drv(nl, kNs);
  auto ep = lep();
  ep.netns = kNs;
  auto r = drv.connect(lnet(), ep);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("add route 192.0.2.10/32"), std::string::npos);
  EXPECT_EQ(nl.calls.back(), "delete_link veth1234567890a");
}

}  // namespace
}  // namespace silo::network
