// DHCP packets: what the client sends, what it accepts, and malformed input.

#include <gtest/gtest.h>

#include "network/dhcp.h"

namespace silo::network {
namespace {

IpAddress ip(std::string_view s) {
  return *IpAddress::parse(s);
}
const Mac kMac{0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

DhcpMessage ack() {
  DhcpMessage m;
  m.op = 2;
  m.xid = 0x12345678;
  m.chaddr = kMac;
  m.type = DhcpType::Ack;
  m.yiaddr = ip("192.0.2.50");
  m.server_id = ip("192.0.2.100");
  m.subnet_mask = ip("255.255.255.0");
  m.router = ip("192.0.2.100");
  m.dns = {ip("192.0.2.53"), ip("192.0.2.54")};
  m.lease_s = 120;
  return m;
}

TEST(Dhcp, MacBytes) {
  EXPECT_EQ(*mac_bytes("02:11:22:33:44:55"), kMac);
  EXPECT_FALSE(mac_bytes("02:11:22:33:44"));
  EXPECT_FALSE(mac_bytes("02:11:22:33:44:55:66"));
}

TEST(Dhcp, DiscoverOnTheWire) {
  auto bytes = build_dhcp(dhcp_discover(kMac, 0xdeadbeef, "web"));
  ASSERT_GE(bytes.size(), 300u);
  EXPECT_EQ(bytes[0], 1);      // BOOTREQUEST
  EXPECT_EQ(bytes[1], 1);      // Ethernet
  EXPECT_EQ(bytes[2], 6);      // hlen
  EXPECT_EQ(bytes[4], 0xde);   // xid, network order
  EXPECT_EQ(bytes[10], 0x80);  // broadcast flag
  EXPECT_EQ(bytes[28], 0x02);  // chaddr = the endpoint's MAC
  EXPECT_EQ(bytes[33], 0x55);
  EXPECT_EQ(bytes[236], 99);  // magic cookie
  EXPECT_EQ(bytes[240], 53);  // first option: message type
  EXPECT_EQ(bytes[242], 1);   // DISCOVER
  auto back = parse_dhcp(bytes);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->type, DhcpType::Discover);
  EXPECT_EQ(back->chaddr, kMac);
  EXPECT_EQ(back->hostname, "web");
  EXPECT_EQ(back->flags, kDhcpBroadcastFlag);
}

TEST(Dhcp, RequestNamesTheOfferAndItsServer) {
  DhcpMessage offer = ack();
  offer.type = DhcpType::Offer;
  auto req = parse_dhcp(build_dhcp(dhcp_request(kMac, 7, offer)));
  ASSERT_TRUE(req);
  EXPECT_EQ(req->type, DhcpType::Request);
  EXPECT_EQ(req->requested, ip("192.0.2.50"));
  EXPECT_EQ(req->server_id, ip("192.0.2.100"));
  EXPECT_EQ(to_number(req->ciaddr), 0u);
}

TEST(Dhcp, RenewIsFromTheLeasedAddressWithoutServerId) {
  auto lease = *lease_from_ack(ack());
  auto req = parse_dhcp(build_dhcp(dhcp_renew_request(kMac, 9, lease)));
  ASSERT_TRUE(req);
  EXPECT_EQ(req->type, DhcpType::Request);
  EXPECT_EQ(req->ciaddr, ip("192.0.2.50"));
  EXPECT_FALSE(req->requested);
  EXPECT_FALSE(req->server_id);
  EXPECT_EQ(req->flags, 0);
}

TEST(Dhcp, AckRoundTripsIntoALease) {
  auto parsed = parse_dhcp(build_dhcp(ack()));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(dhcp_answers(*parsed, 0x12345678, kMac));
  EXPECT_FALSE(dhcp_answers(*parsed, 0x12345679, kMac));
  Mac other = kMac;
  other[5] = 0x56;
  EXPECT_FALSE(dhcp_answers(*parsed, 0x12345678, other));
  auto l = lease_from_ack(*parsed);
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->address.str(), "192.0.2.50/24");
  EXPECT_EQ(l->router, ip("192.0.2.100"));
  EXPECT_EQ(l->server, ip("192.0.2.100"));
  EXPECT_EQ(l->dns.size(), 2u);
  EXPECT_EQ(l->lease_s, 120u);
  EXPECT_EQ(l->t1_s, 60u);   // half the lease without option 58
  EXPECT_EQ(l->t2_s, 105u);  // 7/8 without option 59
  auto t0 = std::chrono::system_clock::time_point{};
  EXPECT_EQ(renew_at(*l, t0), t0 + std::chrono::seconds(60));
}

TEST(Dhcp, ServerT1AndT2AreUsedWhenSane) {
  DhcpMessage m = ack();
  m.t1_s = 30, m.t2_s = 90;
  auto l = lease_from_ack(m);
  EXPECT_EQ(l->t1_s, 30u);
  EXPECT_EQ(l->t2_s, 90u);
  m.t1_s = 500;  // past the lease: ignored
  EXPECT_EQ(lease_from_ack(m)->t1_s, 60u);
}

TEST(Dhcp, LeaseNeedsAckAddressServerAndTime) {
  DhcpMessage m = ack();
  m.type = DhcpType::Offer;
  EXPECT_NE(lease_from_ack(m).error().message.find("got DHCPOFFER"), std::string::npos);
  m = ack();
  m.yiaddr = ip("0.0.0.0");
  EXPECT_FALSE(lease_from_ack(m));
  m = ack();
  m.server_id.reset();
  EXPECT_FALSE(lease_from_ack(m));
  m = ack();
  m.lease_s.reset();
  EXPECT_FALSE(lease_from_ack(m));
  m = ack();
  m.subnet_mask = ip("255.0.255.0");
  EXPECT_NE(lease_from_ack(m).error().message.find("not contiguous"), std::string::npos);
}

TEST(Dhcp, MalformedPacketsAreRefused) {
  std::vector<uint8_t> bytes = build_dhcp(ack());
  EXPECT_FALSE(parse_dhcp(std::span(bytes).first(100)));
  auto no_cookie = bytes;
  no_cookie[236] = 0;
  EXPECT_NE(parse_dhcp(no_cookie).error().message.find("magic cookie"), std::string::npos);
  // An option whose length runs past the end.
  std::vector<uint8_t> over(bytes.begin(), bytes.begin() + 240);
  over.insert(over.end(), {51, 200, 1, 2});
  EXPECT_NE(parse_dhcp(over).error().message.find("runs past the packet's end"), std::string::npos);
  // A lease time of the wrong length.
  std::vector<uint8_t> shortopt(bytes.begin(), bytes.begin() + 240);
  shortopt.insert(shortopt.end(), {51, 2, 0, 1, 255});
  EXPECT_FALSE(parse_dhcp(shortopt));
  // An unknown message type.
  std::vector<uint8_t> badtype(bytes.begin(), bytes.begin() + 240);
  badtype.insert(badtype.end(), {53, 1, 42, 255});
  EXPECT_FALSE(parse_dhcp(badtype));
  // Option with no length byte at the very end.
  std::vector<uint8_t> nolen(bytes.begin(), bytes.begin() + 240);
  nolen.push_back(51);
  EXPECT_FALSE(parse_dhcp(nolen));
}

TEST(Dhcp, UnknownOptionsAndPaddingAreSkipped) {
  std::vector<uint8_t> bytes = build_dhcp(ack());
  std::vector<uint8_t> p(bytes.begin(), bytes.begin() + 240);
  p.insert(p.end(), {0, 0, 250, 3, 1, 2, 3, 53, 1, 5, 255});
  auto m = parse_dhcp(p);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, DhcpType::Ack);
}

}  // namespace
}  // namespace silo::network
