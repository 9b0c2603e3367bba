// DNS messages: the question the server reads, the answers it builds, reverse names and
// upstream addresses.

#include <gtest/gtest.h>

#include "dns_wire.h"
#include "network/dns.h"

namespace silo::network {
namespace {

using testing::dns_query;
using testing::read_reply;

IpAddress ip(std::string_view s) {
  return *IpAddress::parse(s);
}

TEST(DnsQuery, ParsesTheQuestion) {
  auto q = parse_dns_query(dns_query(0xbeef, "WeB.Example.COM", kDnsTypeAaaa));
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->id, 0xbeef);
  EXPECT_EQ(q->name, "web.example.com");  // lower-case, no trailing dot
  EXPECT_EQ(q->qtype, kDnsTypeAaaa);
  EXPECT_EQ(q->qclass, kDnsClassIn);
  EXPECT_EQ(q->opcode, 0);
  EXPECT_FALSE(q->response);
}

TEST(DnsQuery, SingleLabelAndRoot) {
  EXPECT_EQ(parse_dns_query(dns_query(1, "web", kDnsTypeA))->name, "web");
  EXPECT_EQ(parse_dns_query(dns_query(1, "web.", kDnsTypeA))->name, "web");
  EXPECT_EQ(parse_dns_query(dns_query(1, "", 2))->name, "");
}

TEST(DnsQuery, SeesResponsesAndOpcodes) {
  auto p = dns_query(7, "web", kDnsTypeA);
  p[2] |= 0x80;             // QR
  p[2] |= uint8_t(2 << 3);  // opcode STATUS
  auto q = parse_dns_query(p);
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_TRUE(q->response);
  EXPECT_EQ(q->opcode, 2);
}

TEST(DnsQuery, MalformedInputIsInvalid) {
  auto good = dns_query(1, "web.example.com", kDnsTypeA);
  std::vector<std::vector<uint8_t>> bad = {
      {},
      {0x12, 0x34, 0x01},
      std::vector<uint8_t>(good.begin(), good.begin() + 12),  // QDCOUNT 1, no question
      std::vector<uint8_t>(good.begin(), good.end() - 3),     // question cut short
  };
  auto overrun = good;
  overrun[12] = 60;  // the first label runs past the end
  bad.push_back(overrun);
  auto two = good;
  two[5] = 2;  // QDCOUNT 2 with one question
  bad.push_back(two);
  auto none = good;
  none[5] = 0;  // no question (the bytes after the header are left over)
  bad.push_back(none);
  std::vector<uint8_t> loop = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
  bad.push_back(loop);  // the name points at itself
  for (size_t i = 0; i < bad.size(); ++i) {
    auto q = parse_dns_query(bad[i]);
    EXPECT_FALSE(q) << "case " << i << " parsed as " << q->name;
    if (!q) {
      EXPECT_EQ(q.error().code, Code::Invalid) << q.error().message;
    }
  }
}

TEST(DnsAnswer, ARecordsForAnAQuestion) {
  auto query = dns_query(0x4242, "WEB", kDnsTypeA);
  auto wire =
      build_dns_answer(query, {DnsRcode::NoError, {ip("10.1.0.5"), ip("fd00::5"), ip("10.1.0.6")}});
  ASSERT_TRUE(wire) << wire.error().message;
  auto r = read_reply(*wire);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.id, 0x4242);
  EXPECT_TRUE(r.qr);
  EXPECT_TRUE(r.rd);
  EXPECT_TRUE(r.ra);
  EXPECT_FALSE(r.tc);
  EXPECT_EQ(r.rcode, 0);
  EXPECT_EQ(r.question, "WEB. A");  // as asked, case included
  EXPECT_EQ(r.answers, (std::vector<std::string>{"WEB. 600 A 10.1.0.5", "WEB. 600 A 10.1.0.6"}));
}

TEST(DnsAnswer, AaaaRecordsForAnAaaaQuestion) {
  auto wire = build_dns_answer(dns_query(1, "web", kDnsTypeAaaa, false),
                               {DnsRcode::NoError, {ip("10.1.0.5"), ip("fd00::5")}});
  ASSERT_TRUE(wire) << wire.error().message;
  auto r = read_reply(*wire);
  EXPECT_FALSE(r.rd);
  EXPECT_EQ(r.answers, std::vector<std::string>{"web. 600 AAAA fd00::5"});
}

TEST(DnsAnswer, EmptyNoErrorAndErrorCodes) {
  auto query = dns_query(9, "web", kDnsTypeAaaa);
  for (auto [rcode, number] : {std::pair{DnsRcode::NoError, 0},
                               {DnsRcode::ServFail, 2},
                               {DnsRcode::NxDomain, 3},
                               {DnsRcode::Refused, 5}}) {
    // Addresses given with an error code are not answered.
    auto wire = build_dns_answer(query, {rcode, {ip("fd00::5")}});
    ASSERT_TRUE(wire) << wire.error().message;
    auto r = read_reply(*wire);
    EXPECT_EQ(r.id, 9);
    EXPECT_EQ(r.rcode, number);
    EXPECT_EQ(r.question, "web. AAAA");
    if (rcode != DnsRcode::NoError) {
      EXPECT_TRUE(r.answers.empty()) << number;
    }
  }
  auto r = read_reply(*build_dns_answer(query, {DnsRcode::NoError}));
  EXPECT_EQ(r.rcode, 0);
  EXPECT_TRUE(r.answers.empty());
}

TEST(DnsAnswer, Ptr) {
  auto query = dns_query(3, "5.0.1.10.in-addr.arpa", kDnsTypePtr);
  auto wire = build_dns_answer(query, {DnsRcode::NoError, {}, "web.mynet"});
  ASSERT_TRUE(wire) << wire.error().message;
  EXPECT_EQ(read_reply(*wire).answers,
            std::vector<std::string>{"5.0.1.10.in-addr.arpa. 600 PTR web.mynet."});
  auto bad = build_dns_answer(query, {DnsRcode::NoError, {}, std::string(300, 'a')});
  EXPECT_FALSE(bad);
}

TEST(DnsAnswer, TruncatesToTheSizeLimit) {
  DnsAnswer many;
  for (int i = 1; i <= 100; ++i) many.addresses.push_back(ip("10.1.0." + std::to_string(i)));
  auto query = dns_query(5, "many", kDnsTypeA);
  auto udp = build_dns_answer(query, many, 512);
  ASSERT_TRUE(udp) << udp.error().message;
  EXPECT_LE(udp->size(), 512u);
  auto r = read_reply(*udp);
  EXPECT_TRUE(r.tc);
  EXPECT_GT(r.answers.size(), 20u);  // as many as fit (compressed names: 16 bytes each)
  EXPECT_LT(r.answers.size(), 100u);
  EXPECT_EQ(r.answers.front(), "many. 600 A 10.1.0.1");
  auto tcp = build_dns_answer(query, many, 65535);
  ASSERT_TRUE(tcp);
  auto all = read_reply(*tcp);
  EXPECT_FALSE(all.tc);
  EXPECT_EQ(all.answers.size(), 100u);
}

TEST(DnsAnswer, ForAMalformedQueryIsInvalid) {
  EXPECT_FALSE(build_dns_answer(std::vector<uint8_t>{1, 2, 3}, {DnsRcode::ServFail}));
}

TEST(DnsReverseName, Addresses) {
  EXPECT_EQ(address_from_reverse_name("5.0.1.10.in-addr.arpa"), ip("10.1.0.5"));
  EXPECT_EQ(address_from_reverse_name("255.0.0.0.in-addr.arpa"), ip("0.0.0.255"));
  EXPECT_EQ(address_from_reverse_name(
                "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa"),
            ip("fd00::5"));
  EXPECT_EQ(address_from_reverse_name(
                "b.a.9.8.7.6.5.4.3.2.1.0.f.e.d.c.b.a.9.8.7.6.5.4.3.2.1.0.1.0.0.2.ip6.arpa"),
            ip("2001:123:4567:89ab:cdef:123:4567:89ab"));
}

TEST(DnsReverseName, OtherNames) {
  for (std::string_view n :
       {"web", "1.10.in-addr.arpa", "1.2.3.4.5.in-addr.arpa", "256.0.1.10.in-addr.arpa",
        "a.0.1.10.in-addr.arpa", "+5.0.1.10.in-addr.arpa", "5..1.10.in-addr.arpa", "in-addr.arpa",
        "5.0.ip6.arpa", "55.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa",
        "g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa"})
    EXPECT_EQ(address_from_reverse_name(n), std::nullopt) << n;
}

TEST(DnsUpstreamParse, Forms) {
  EXPECT_EQ(*DnsUpstream::parse("192.0.2.53"), (DnsUpstream{ip("192.0.2.53"), 53}));
  EXPECT_EQ(*DnsUpstream::parse("192.0.2.53:5353"), (DnsUpstream{ip("192.0.2.53"), 5353}));
  EXPECT_EQ(*DnsUpstream::parse("fd00::53"), (DnsUpstream{ip("fd00::53"), 53}));
  EXPECT_EQ(*DnsUpstream::parse("[fd00::53]:5353"), (DnsUpstream{ip("fd00::53"), 5353}));
  EXPECT_EQ(*DnsUpstream::parse("[fd00::53]"), (DnsUpstream{ip("fd00::53"), 53}));
  EXPECT_EQ(DnsUpstream::parse("[fd00::53]:5353")->str(), "[fd00::53]:5353");
  EXPECT_EQ(DnsUpstream::parse("192.0.2.53:53")->str(), "192.0.2.53");
  for (std::string_view bad : {"", "dns.example", "192.0.2.53:", "192.0.2.53:0", "192.0.2.53:65536",
                               "192.0.2.53:x", "[fd00::53", "[fd00::53]x"}) {
    auto u = DnsUpstream::parse(bad);
    EXPECT_FALSE(u) << bad;
    if (!u) {
      EXPECT_NE(u.error().message.find("is not an address"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace silo::network
