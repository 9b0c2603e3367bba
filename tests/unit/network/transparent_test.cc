// The transparent driver over the recording fake: parent option, MACs, the plan for a
// static and a DHCP endpoint, and the errors for a missing or taken parent.

#include <gtest/gtest.h>

#include "fakes.h"
#include "network/transparent.h"

namespace silo::network {
namespace {

using testing::FakeNetlink;

const std::string kNs = "/proc/self/ns/net";

Prefix pfx(std::string_view s) {
  return *Prefix::parse(s);
}

TransparentNetwork tnet() {
  return {"aaaabbbbccccdddd", "t1", "phys0", pfx("192.0.2.1/24"), std::nullopt};
}
TransparentEndpoint tep(std::string id, std::optional<Prefix> addr) {
  return {id, kNs, "eth0", addr, generate_mac(id)};
}

TEST(Transparent, ParentFromEitherOption) {
  EXPECT_EQ(*parent_interface({{"parent", "eth1"}}), "eth1");
  EXPECT_EQ(*parent_interface({{"com.docker.network.windowsshim.interface", "eth2"}}), "eth2");
  EXPECT_EQ(*parent_interface({{"parent", "eth1"}, {std::string(kWindowsInterfaceOption), "eth1"}}),
            "eth1");
}

TEST(Transparent, ParentMissingOrConflictingIsInvalid) {
  auto none = parent_interface({});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Code::Invalid);
  EXPECT_NE(none.error().message.find("-o parent=IF"), std::string::npos);
  auto both = parent_interface({{"parent", "a"}, {std::string(kWindowsInterfaceOption), "b"}});
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message.find("name different interfaces"), std::string::npos);
  EXPECT_FALSE(parent_interface({{"parent", "much-too-long-ifname"}}));
  EXPECT_FALSE(parent_interface({{"parent", "a/b"}}));
}

TEST(Transparent, GeneratedMacsAreStableLocalUnicastAndDistinct) {
  std::string a = generate_mac("1111111111111111"), b = generate_mac("2222222222222222");
  EXPECT_EQ(a, generate_mac("1111111111111111"));
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.starts_with("02:"));
  EXPECT_EQ(a.size(), 17u);
  EXPECT_TRUE(parse_mac(a));
}

TEST(Transparent, ParseMac) {
  EXPECT_EQ(*parse_mac("02:42:AC:11:00:02"), "02:42:ac:11:00:02");
  EXPECT_EQ(*parse_mac("02-42-ac-11-00-02"), "02:42:ac:11:00:02");
  auto multi = parse_mac("01:00:5e:00:00:01");
  ASSERT_FALSE(multi);
  EXPECT_NE(multi.error().message.find("multicast"), std::string::npos);
  EXPECT_FALSE(parse_mac("02:42:ac:11:00"));
  EXPECT_FALSE(parse_mac("02:42:ac:11:00:zz"));
  EXPECT_FALSE(parse_mac("00:00:00:00:00:00"));
}

TEST(Transparent, SecondNetworkOnAParentIsRefusedNamingTheOther) {
  FakeNetlink nl;
  nl.links.push_back(LinkInfo{.index = 2, .name = "phys0"});
  TransparentDriver drv(nl, kNs);
  std::vector<NamedParent> others{{"lan", "phys0"}};
  auto r = drv.create_network(tnet(), others);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Conflict);
  EXPECT_NE(r.error().message.find(
                "create network t1: parent interface phys0 is already used by transparent "
                "network lan"),
            std::string::npos)
      << r.error().message;
  std::vector<NamedParent> elsewhere{{"lan", "phys1"}};
  EXPECT_TRUE(drv.create_network(tnet(), elsewhere));
}

TEST(Transparent, MissingParentIsNotFound) {
  FakeNetlink nl;
  TransparentDriver drv(nl, kNs);
  auto r = drv.create_network(tnet(), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::NotFound);
  EXPECT_NE(r.error().message.find("parent interface phys0 does not exist"), std::string::npos);
}

TEST(Transparent, StaticEndpointPlan) {
  auto ep = tep("1234567890abcdef", pfx("192.0.2.10/24"));
  LinkPlan p = plan_transparent_connect(tnet(), ep, "/h");
  std::vector<std::string> lines;
  for (const auto& s : p) lines.push_back(describe(s));
  std::vector<std::string> want{
      "create macvlan eth0 on phys0 in " + kNs,
      "set eth0 alias silo:ep=1234567890abcdef in " + kNs,
      "set eth0 address " + ep.mac + " in " + kNs,
      "set lo up in " + kNs,
      "add address 192.0.2.10/24 to eth0 in " + kNs,
      "set eth0 up in " + kNs,
      "add route default via 192.0.2.1 dev eth0 in " + kNs,
  };
  EXPECT_EQ(lines, want);
}

TEST(Transparent, DhcpEndpointHasNoAddressUntilLeased) {
  TransparentNetwork net = tnet();
  net.gateway.reset();
  auto ep = tep("1234567890abcdef", std::nullopt);
  LinkPlan p = plan_transparent_connect(net, ep, "/h");
  for (const auto& s : p) {
    EXPECT_FALSE(std::holds_alternative<AddAddress>(s)) << describe(s);
    EXPECT_FALSE(std::holds_alternative<AddRoute>(s)) << describe(s);
  }
  LinkPlan lease = plan_lease(ep, pfx("192.0.2.50/24"), *IpAddress::parse("192.0.2.1"));
  ASSERT_EQ(lease.size(), 2u);
  EXPECT_EQ(describe(lease[0]), "add address 192.0.2.50/24 to eth0 in " + kNs);
  EXPECT_EQ(describe(lease[1]), "add route default via 192.0.2.1 dev eth0 in " + kNs);
}

TEST(Transparent, ConnectFailureRemovesTheMacvlan) {
  FakeNetlink nl;
  nl.fail_on["add_address eth0 192.0.2.10/24"] = EADDRINUSE;
  TransparentDriver drv(nl, kNs);
  auto r = drv.connect(tnet(), tep("1234567890abcdef", pfx("192.0.2.10/24")));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("connect endpoint 1234567890ab to network t1"),
            std::string::npos);
  EXPECT_EQ(nl.calls.front(), "create_macvlan eth0 on phys0");
  EXPECT_EQ(nl.calls.back(), "delete_link eth0");
}

TEST(Transparent, MissingParentAtConnectGetsAHint) {
  FakeNetlink nl;
  nl.fail_on["create_macvlan eth0 on phys0"] = ENODEV;
  TransparentDriver drv(nl, kNs);
  auto r = drv.connect(tnet(), tep("1234567890abcdef", pfx("192.0.2.10/24")));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("name an existing parent interface"), std::string::npos)
      << r.error().message;
}

TEST(Transparent, DisconnectOfAGoneNamespaceIsDone) {
  FakeNetlink nl;
  TransparentDriver drv(nl, kNs);
  auto ep = tep("1234567890abcdef", pfx("192.0.2.10/24"));
  ep.netns = "/nonexistent/netns/c1";
  EXPECT_TRUE(drv.disconnect(tnet(), ep));
  EXPECT_TRUE(nl.calls.empty());
  ep.netns = kNs;
  EXPECT_TRUE(drv.disconnect(tnet(), ep));
  EXPECT_EQ(nl.calls, std::vector<std::string>{"delete_link eth0"});
}

}  // namespace
}  // namespace silo::network
