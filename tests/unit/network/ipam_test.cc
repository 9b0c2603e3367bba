// IPAM: subnets, gateways, ranges, aux addresses, static and sequential allocation,
// release, default pool choice, and the JSON the engine stores.

#include "network/ipam.h"

#include <gtest/gtest.h>

namespace silo::network {
namespace {

IpAddress ip(std::string_view s) {
  return *IpAddress::parse(s);
}
Prefix pfx(std::string_view s) {
  return *Prefix::parse(s);
}

IpamSubnet subnet(SubnetRequest req) {
  auto s = make_subnet(req, std::nullopt);
  EXPECT_TRUE(s.has_value()) << s.error().message;
  return *s;
}

const Holder kWeb{"container", "3f2a91c0ffee1234", "web"};
const Holder kApi{"container", "9b1d00aa77", "api"};

TEST(Address, ParsesAndPrintsBothFamilies) {
  EXPECT_EQ(ip("10.1.0.5").str(), "10.1.0.5");
  EXPECT_EQ(ip("fd00::5").str(), "fd00::5");
  EXPECT_EQ(ip("fd00::5").family, Family::V6);
  EXPECT_FALSE(IpAddress::parse("10.1.0.256"));
  EXPECT_FALSE(Prefix::parse("10.1.0.0/33"));
  EXPECT_FALSE(Prefix::parse("10.1.0.0/"));
  EXPECT_EQ(pfx("10.1.2.3/16").network().str(), "10.1.0.0/16");
  EXPECT_EQ(pfx("10.1.0.0/16").last().str(), "10.1.255.255");
  EXPECT_EQ(pfx("fd00::/64").last().str(), "fd00::ffff:ffff:ffff:ffff");
  EXPECT_TRUE(pfx("172.16.0.0/12").overlaps(pfx("172.17.0.0/16")));
  EXPECT_FALSE(pfx("172.16.0.0/12").overlaps(pfx("172.32.0.0/16")));
  EXPECT_FALSE(pfx("10.0.0.0/8").contains(ip("fd00::1")));
}

TEST(Subnet, GatewayDefaultsToFirstHost) {
  auto s = subnet({.subnet = "10.1.0.0/24"});
  EXPECT_EQ(s.gateway.str(), "10.1.0.1");
  EXPECT_EQ(s.allocated.at(s.gateway).kind, "gateway");
  auto v6 = subnet({.subnet = "fd00:1::/64"});
  EXPECT_EQ(v6.gateway.str(), "fd00:1::1");
}

TEST(Subnet, RejectsHostBitsAndSaysWhatWasMeant) {
  auto s = make_subnet({.subnet = "10.1.0.5/16"}, std::nullopt);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::Invalid);
  EXPECT_NE(s.error().message.find("did you mean 10.1.0.0/16"), std::string::npos)
      << s.error().message;
}

TEST(Subnet, RejectsGatewayOutsideOrOnNetworkAddress) {
  auto out = make_subnet({.subnet = "10.1.0.0/24", .gateway = "10.2.0.1"}, std::nullopt);
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("gateway 10.2.0.1 is not in subnet 10.1.0.0/24"),
            std::string::npos)
      << out.error().message;
  auto net = make_subnet({.subnet = "10.1.0.0/24", .gateway = "10.1.0.0"}, std::nullopt);
  ASSERT_FALSE(net);
  EXPECT_NE(net.error().message.find("network address"), std::string::npos);
  auto bcast = make_subnet({.subnet = "10.1.0.0/24", .gateway = "10.1.0.255"}, std::nullopt);
  ASSERT_FALSE(bcast);
  EXPECT_NE(bcast.error().message.find("broadcast address"), std::string::npos);
}

TEST(Subnet, RejectsIpRangeOutsideSubnetAndOverlapWithAnotherNetwork) {
  auto r = make_subnet({.subnet = "10.1.0.0/24", .ip_range = "10.1.1.0/28"}, std::nullopt);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("ip-range 10.1.1.0/28"), std::string::npos);
  std::vector<NamedPrefix> others{{"backend", pfx("10.0.0.0/8")}};
  auto o = make_subnet({.subnet = "10.1.0.0/24"}, std::nullopt, others);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code, Code::Conflict);
  EXPECT_NE(o.error().message.find("overlaps 10.0.0.0/8 of network backend"), std::string::npos);
}

TEST(Subnet, AuxAddressesAreReservedAndNamed) {
  auto s = subnet({.subnet = "10.1.0.0/24", .aux_addresses = {{"router", "10.1.0.2"}}});
  auto a = allocate(s, kWeb);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->str(), "10.1.0.3");  // .1 gateway, .2 aux
  auto taken = allocate(s, kApi, ip("10.1.0.2"));
  ASSERT_FALSE(taken);
  EXPECT_NE(taken.error().message.find("in use by aux-address router"), std::string::npos);
  auto dup =
      make_subnet({.subnet = "10.1.0.0/24", .aux_addresses = {{"x", "10.1.0.1"}}}, std::nullopt);
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message.find("the gateway"), std::string::npos);
}

TEST(Allocate, StaticAddressInUseNamesTheHolder) {
  auto s = subnet({.subnet = "10.1.0.0/24"});
  ASSERT_TRUE(allocate(s, kWeb, ip("10.1.0.5")));
  auto again = allocate(s, kApi, ip("10.1.0.5"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::Conflict);
  EXPECT_EQ(again.error().message,
            "address 10.1.0.5 is in use by container web (3f2a91c…); pick another address");
}

TEST(Allocate, StaticAddressOutsideSubnetIsInvalid) {
  auto s = subnet({.subnet = "10.1.0.0/24"});
  auto out = allocate(s, kWeb, ip("10.9.0.5"));
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, Code::Invalid);
  EXPECT_NE(out.error().message.find("not in subnet 10.1.0.0/24"), std::string::npos);
  auto v6 = allocate(s, kWeb, ip("fd00::5"));
  ASSERT_FALSE(v6);
  auto bcast = allocate(s, kWeb, ip("10.1.0.255"));
  ASSERT_FALSE(bcast);
}

TEST(Allocate, SequentialAndDoesNotReuseAFreedAddressAtOnce) {
  auto s = subnet({.subnet = "10.1.0.0/24"});
  auto a = allocate(s, kWeb);
  auto b = allocate(s, kApi);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->str(), "10.1.0.2");
  EXPECT_EQ(b->str(), "10.1.0.3");
  ASSERT_TRUE(release(s, *a, kWeb));
  auto c = allocate(s, kWeb);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->str(), "10.1.0.4");
}

TEST(Allocate, WrapsAroundAndSkipsBroadcast) {
  auto s = subnet({.subnet = "10.1.0.0/29"});  // hosts .1-.6, .1 gateway
  std::vector<IpAddress> got;
  for (int i = 0; i < 5; ++i) {
    auto a = allocate(s, {"container", std::to_string(i), ""});
    ASSERT_TRUE(a) << a.error().message;
    got.push_back(*a);
  }
  EXPECT_EQ(got.back().str(), "10.1.0.6");
  auto full = allocate(s, kWeb);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, Code::Unavailable);
  EXPECT_NE(full.error().message.find("no free address left in 10.1.0.0/29"), std::string::npos);
  ASSERT_TRUE(release(s, got[1], {"container", "1", ""}));
  auto again = allocate(s, kWeb);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->str(), got[1].str());  // the only free one, found after wrapping
}

TEST(Allocate, IpRangeLimitsDynamicButNotStatic) {
  auto s = subnet({.subnet = "10.1.0.0/24", .ip_range = "10.1.0.128/25"});
  auto a = allocate(s, kWeb);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->str(), "10.1.0.128");
  EXPECT_TRUE(allocate(s, kApi, ip("10.1.0.20")));
}

TEST(Allocate, Ipv6) {
  auto s = subnet({.subnet = "fd00:1::/64"});
  auto a = allocate(s, kWeb);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->str(), "fd00:1::2");
  EXPECT_TRUE(free_count(s) > 1000000);
}

TEST(Release, ExactlyOnceAndOnlyByTheHolder) {
  auto s = subnet({.subnet = "10.1.0.0/24"});
  auto a = allocate(s, kWeb);
  ASSERT_TRUE(a);
  auto wrong = release(s, *a, kApi);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Code::Conflict);
  EXPECT_TRUE(release(s, *a, kWeb));
  auto twice = release(s, *a, kWeb);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, Code::NotFound);
  auto gw = release(s, s.gateway, kWeb);
  EXPECT_FALSE(gw);  // the gateway is not released by an endpoint
}

TEST(Pool, DefaultIsTheNatPrefix) {
  auto pools = default_pools(Family::V4);
  auto p = pick_subnet(pools, {}, {});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->subnet.str(), "172.16.0.0/16");
  EXPECT_TRUE(p->note.empty());
}

TEST(Pool, SkipsHostRoutesAndSaysWhich) {
  auto pools = default_pools(Family::V4);
  std::vector<Prefix> routes{pfx("0.0.0.0/0"), pfx("172.16.0.0/15"), pfx("10.0.0.0/8")};
  auto p = pick_subnet(pools, routes, {});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->subnet.str(), "172.18.0.0/16");
  EXPECT_EQ(p->note, "172.16.0.0/16 overlaps host route 172.16.0.0/15; using 172.18.0.0/16");
}

TEST(Pool, SkipsSubnetsOfOtherNetworksSilently) {
  auto pools = default_pools(Family::V4);
  std::vector<Prefix> used{pfx("172.16.0.0/16")};
  std::vector<Prefix> routes{pfx("172.16.0.0/16")};  // that network's own bridge route
  auto p = pick_subnet(pools, routes, used);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->subnet.str(), "172.17.0.0/16");
  EXPECT_TRUE(p->note.empty()) << p->note;
}

TEST(Pool, FallsBackToTheNextPoolAndFailsWhenAllAreTaken) {
  auto pools = default_pools(Family::V4);
  std::vector<Prefix> routes{pfx("172.16.0.0/12")};
  auto p = pick_subnet(pools, routes, {});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->subnet.str(), "192.168.0.0/20");
  routes.push_back(pfx("192.168.0.0/16"));
  auto none = pick_subnet(pools, routes, {});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Code::Unavailable);
  EXPECT_NE(none.error().message.find("--subnet"), std::string::npos);
}

TEST(Json, RoundTrips) {
  auto s = subnet(
      {.subnet = "10.1.0.0/24", .ip_range = "10.1.0.0/25", .aux_addresses = {{"r", "10.1.0.9"}}});
  ASSERT_TRUE(allocate(s, kWeb));
  auto back = subnet_from_json(to_json(s));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(to_json(*back), to_json(s));
  EXPECT_EQ(back->allocated.size(), 3u);
  auto next = allocate(*back, kApi);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->str(), "10.1.0.3");
  EXPECT_FALSE(subnet_from_json(nlohmann::json{{"subnet", "x"}}));
}

}  // namespace
}  // namespace silo::network
