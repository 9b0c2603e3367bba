// The DNS server in this process, on 127.0.0.1 with kernel-chosen ports, in the test's own
// network namespace: local answers over UDP and TCP, forwarding to fake upstreams (UDP
// sockets this test answers), failover, and listener errors. Loopback only; no root
// needed (the server makes its sockets directly when asked for its own namespace).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "dns_wire.h"
#include "network/dns.h"
#include "network/netns.h"

namespace silo::network {
namespace {

using namespace std::chrono_literals;
using testing::dns_query;
using testing::DnsReply;
using testing::read_reply;

IpAddress ip(std::string_view s) {
  return *IpAddress::parse(s);
}
const IpAddress kLoopback = ip("127.0.0.1");

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// A UDP socket on 127.0.0.1 with a kernel-chosen port: a client or a fake upstream.
struct UdpPeer {
  UniqueFd fd{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  uint16_t port = 0;

  UdpPeer() {
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);
    port = ntohs(a.sin_port);
  }
  void send(uint16_t to, const std::vector<uint8_t>& p) const {
    sockaddr_in a = loopback(to);
    ASSERT_EQ(::sendto(fd.get(), p.data(), p.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a),
              static_cast<ssize_t>(p.size()));
  }
  // The next packet within `wait`, and the port it came from; empty on timeout.
  std::vector<uint8_t> receive(std::chrono::milliseconds wait = 2s,
                               uint16_t* from = nullptr) const {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) return {};
    std::vector<uint8_t> buf(65536);
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ssize_t n =
        ::recvfrom(fd.get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&a), &len);
    if (n < 0) return {};
    if (from) *from = ntohs(a.sin_port);
    buf.resize(static_cast<size_t>(n));
    return buf;
  }
};

// The engine's side: names, and what was asked.
struct FakeEngine {
  std::mutex mu;
  std::map<std::string, std::vector<IpAddress>> names;
  std::map<IpAddress, std::string> reverse;
  std::vector<std::string> asked;  // "listener client name v4|v6"

  DnsLookup lookup() {
    return [this](const std::string& listener, const IpAddress& client, const std::string& name,
                  Family family) -> std::optional<std::vector<IpAddress>> {
      std::lock_guard lock(mu);
      asked.push_back(listener + " " + client.str() + " " + name + " " +
                      std::string(family_name(family)));
      auto it = names.find(name);
      if (it == names.end()) return std::nullopt;
      std::vector<IpAddress> out;
      for (const IpAddress& a : it->second)
        if (a.family == family) out.push_back(a);
      return out;
    };
  }
  DnsReverse reverse_fn() {
    return [this](const std::string&, const IpAddress& a) -> std::optional<std::string> {
      std::lock_guard lock(mu);
      auto it = reverse.find(a);
      if (it == reverse.end()) return std::nullopt;
      return it->second;
    };
  }
};

class DnsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine.names["web"] = {ip("10.1.0.5"), ip("10.1.0.15")};
    engine.names["api"] = {ip("fd00::7")};
    for (int i = 1; i <= 100; ++i)
      engine.names["many"].push_back(ip("10.2.0." + std::to_string(i)));
    engine.reverse[ip("10.1.0.5")] = "web.net1";
    auto ns = open_netns("/proc/self/ns/net");
    ASSERT_TRUE(ns) << ns.error().message;
    netns = std::move(*ns);
    server = std::make_unique<DnsServer>(engine.lookup(), engine.reverse_fn(),
                                         std::vector<DnsUpstream>{}, 300ms);
    auto p = server->listen("net1", netns.get(), kLoopback, 0);
    ASSERT_TRUE(p) << p.error().message;
    port = *p;
  }

  DnsReply ask(const std::vector<uint8_t>& query, std::chrono::milliseconds wait = 2s) {
    client.send(port, query);
    return read_reply(client.receive(wait));
  }
  void use_upstreams(std::initializer_list<const UdpPeer*> peers) {
    std::vector<DnsUpstream> u;
    for (const UdpPeer* p : peers) u.push_back({kLoopback, p->port});
    server->set_upstreams(u);
  }

  FakeEngine engine;
  UniqueFd netns;
  std::unique_ptr<DnsServer> server;
  uint16_t port = 0;
  UdpPeer client;
};

TEST_F(DnsServerTest, AnswersKnownNamesCaseInsensitively) {
  for (std::string name : {"web", "WEB.", "Web"}) {
    auto r = ask(dns_query(0x1001, name, kDnsTypeA));
    ASSERT_TRUE(r.ok) << name << ": no answer";
    EXPECT_EQ(r.id, 0x1001);
    EXPECT_EQ(r.rcode, 0);
    ASSERT_EQ(r.answers.size(), 2u) << name;
    EXPECT_NE(r.answers[0].find("600 A 10.1.0.5"), std::string::npos) << r.answers[0];
    EXPECT_NE(r.answers[1].find("600 A 10.1.0.15"), std::string::npos) << r.answers[1];
  }
  std::lock_guard lock(engine.mu);
  ASSERT_EQ(engine.asked.size(), 3u);
  EXPECT_EQ(engine.asked[0], "net1 127.0.0.1 web IPv4");
  EXPECT_EQ(engine.asked[1], "net1 127.0.0.1 web IPv4");
}

TEST_F(DnsServerTest, KnownNameWithoutThatFamilyIsEmptyNoError) {
  auto r = ask(dns_query(2, "web", kDnsTypeAaaa));
  EXPECT_EQ(r.rcode, 0);
  EXPECT_TRUE(r.answers.empty());
  auto v6 = ask(dns_query(3, "api", kDnsTypeAaaa));
  EXPECT_EQ(v6.answers, std::vector<std::string>{"api. 600 AAAA fd00::7"});
  // Other types of a known name (HTTPS = 65, MX = 15) stay here, answered empty.
  for (uint16_t type : {65, 15}) {
    auto other = ask(dns_query(4, "web", type));
    EXPECT_EQ(other.rcode, 0) << type;
    EXPECT_TRUE(other.answers.empty()) << type;
  }
}

TEST_F(DnsServerTest, Ptr) {
  auto r = ask(dns_query(5, "5.0.1.10.in-addr.arpa", kDnsTypePtr));
  EXPECT_EQ(r.answers, std::vector<std::string>{"5.0.1.10.in-addr.arpa. 600 PTR web.net1."});
}

TEST_F(DnsServerTest, UnknownNameWithoutUpstreamsIsServfail) {
  auto r = ask(dns_query(6, "example.com", kDnsTypeA));
  ASSERT_TRUE(r.ok) << "no answer";
  EXPECT_EQ(r.id, 6);
  EXPECT_EQ(r.rcode, 2);
  // Also an unknown PTR (not a container address) and an unknown single label.
  EXPECT_EQ(ask(dns_query(7, "9.9.9.9.in-addr.arpa", kDnsTypePtr)).rcode, 2);
  EXPECT_EQ(ask(dns_query(8, "nosuch", kDnsTypeA)).rcode, 2);
}

TEST_F(DnsServerTest, ForwardsUnknownNamesAndRelaysTheAnswer) {
  UdpPeer upstream;
  use_upstreams({&upstream});
  auto query = dns_query(0x1234, "Example.COM", kDnsTypeA);
  client.send(port, query);
  uint16_t from = 0;
  auto forwarded = upstream.receive(2s, &from);
  ASSERT_FALSE(forwarded.empty()) << "nothing reached the upstream";
  // The same query with another id.
  ASSERT_EQ(forwarded.size(), query.size());
  EXPECT_TRUE(std::equal(query.begin() + 2, query.end(), forwarded.begin() + 2));
  auto answer = build_dns_answer(forwarded, {DnsRcode::NoError, {ip("192.0.2.80")}});
  ASSERT_TRUE(answer);
  upstream.send(from, *answer);
  auto r = read_reply(client.receive());
  ASSERT_TRUE(r.ok) << "no answer relayed";
  EXPECT_EQ(r.id, 0x1234);
  EXPECT_EQ(r.answers, std::vector<std::string>{"Example.COM. 600 A 192.0.2.80"});
}

TEST_F(DnsServerTest, DropsAnswersFromServersNotAsked) {
  UdpPeer upstream, stranger;
  use_upstreams({&upstream});
  client.send(port, dns_query(0x2222, "example.com", kDnsTypeA));
  uint16_t from = 0;
  auto forwarded = upstream.receive(2s, &from);
  ASSERT_FALSE(forwarded.empty());
  // The right id from the wrong port, and the right port with another question.
  stranger.send(from, *build_dns_answer(forwarded, {DnsRcode::NoError, {ip("6.6.6.6")}}));
  auto other = dns_query(0, "evil.example", kDnsTypeA);
  other[0] = forwarded[0], other[1] = forwarded[1];
  upstream.send(from, *build_dns_answer(other, {DnsRcode::NoError, {ip("6.6.6.6")}}));
  EXPECT_TRUE(client.receive(200ms).empty()) << "a spoofed answer was relayed";
  upstream.send(from, *build_dns_answer(forwarded, {DnsRcode::NoError, {ip("192.0.2.80")}}));
  auto r = read_reply(client.receive());
  EXPECT_EQ(r.answers, std::vector<std::string>{"example.com. 600 A 192.0.2.80"});
}

TEST_F(DnsServerTest, NextUpstreamOnTimeoutAndOnServfail) {
  UdpPeer silent, failing, good;
  use_upstreams({&silent, &failing, &good});
  auto start = std::chrono::steady_clock::now();
  client.send(port, dns_query(0x3333, "example.com", kDnsTypeA));
  EXPECT_FALSE(silent.receive().empty());
  uint16_t from = 0;
  auto second = failing.receive(2s, &from);  // after the 300 ms timeout
  ASSERT_FALSE(second.empty()) << "the second upstream was not asked";
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
  failing.send(from, *build_dns_answer(second, {DnsRcode::ServFail}));
  auto third = good.receive(2s, &from);
  ASSERT_FALSE(third.empty()) << "the third upstream was not asked after SERVFAIL";
  good.send(from, *build_dns_answer(third, {DnsRcode::NoError, {ip("192.0.2.80")}}));
  auto r = read_reply(client.receive());
  EXPECT_EQ(r.id, 0x3333);
  EXPECT_EQ(r.rcode, 0);
  EXPECT_EQ(r.answers.size(), 1u);
}

TEST_F(DnsServerTest, ServfailWhenEveryUpstreamTimesOut) {
  UdpPeer a, b;
  use_upstreams({&a, &b});
  auto start = std::chrono::steady_clock::now();
  auto r = ask(dns_query(0x4444, "example.com", kDnsTypeAaaa), 3s);
  ASSERT_TRUE(r.ok) << "no SERVFAIL";
  EXPECT_EQ(r.id, 0x4444);
  EXPECT_EQ(r.rcode, 2);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 550ms);  // 2 x 300 ms
  EXPECT_FALSE(a.receive(0ms).empty());
  EXPECT_FALSE(b.receive(0ms).empty());
}

// A TCP connection to the server; queries and answers with their 2-byte length.
struct TcpClient {
  UniqueFd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  explicit TcpClient(uint16_t port) {
    sockaddr_in a = loopback(port);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }
  void send(const std::vector<uint8_t>& q) const {
    std::vector<uint8_t> framed = {uint8_t(q.size() >> 8), uint8_t(q.size())};
    framed.insert(framed.end(), q.begin(), q.end());
    ASSERT_EQ(::send(fd.get(), framed.data(), framed.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(framed.size()));
  }
  std::vector<uint8_t> receive() const {
    auto exactly = [&](size_t n) {
      std::vector<uint8_t> out;
      while (out.size() < n) {
        pollfd p{fd.get(), POLLIN, 0};
        if (::poll(&p, 1, 2000) != 1) return std::vector<uint8_t>{};
        uint8_t buf[4096];
        ssize_t got = ::recv(fd.get(), buf, std::min(sizeof buf, n - out.size()), 0);
        if (got <= 0) return std::vector<uint8_t>{};
        out.insert(out.end(), buf, buf + got);
      }
      return out;
    };
    auto len = exactly(2);
    if (len.size() != 2) return {};
    return exactly(size_t(len[0]) << 8 | len[1]);
  }
};

TEST_F(DnsServerTest, TruncatesOverUdpAndAnswersInFullOverTcp) {
  auto udp = ask(dns_query(0x5555, "many", kDnsTypeA));
  EXPECT_TRUE(udp.tc);
  EXPECT_LT(udp.answers.size(), 100u);
  TcpClient tcp(port);
  tcp.send(dns_query(0x5556, "many", kDnsTypeA));
  auto r = read_reply(tcp.receive());
  ASSERT_TRUE(r.ok) << "no answer over TCP";
  EXPECT_EQ(r.id, 0x5556);
  EXPECT_FALSE(r.tc);
  EXPECT_EQ(r.answers.size(), 100u);
}

TEST_F(DnsServerTest, TcpQueriesInOneWriteAndForwarded) {
  UdpPeer upstream;
  use_upstreams({&upstream});
  TcpClient tcp(port);
  tcp.send(dns_query(1, "web", kDnsTypeA));
  tcp.send(dns_query(2, "api", kDnsTypeAaaa));
  tcp.send(dns_query(3, "example.com", kDnsTypeA));
  EXPECT_EQ(read_reply(tcp.receive()).id, 1);
  EXPECT_EQ(read_reply(tcp.receive()).answers, std::vector<std::string>{"api. 600 AAAA fd00::7"});
  uint16_t from = 0;
  auto forwarded = upstream.receive(2s, &from);
  ASSERT_FALSE(forwarded.empty()) << "the TCP query was not forwarded";
  upstream.send(from, *build_dns_answer(forwarded, {DnsRcode::NoError, {ip("192.0.2.80")}}));
  auto r = read_reply(tcp.receive());
  EXPECT_EQ(r.id, 3);
  EXPECT_EQ(r.answers, std::vector<std::string>{"example.com. 600 A 192.0.2.80"});
}

TEST_F(DnsServerTest, IgnoresMalformedPacketsAndResponses) {
  client.send(port, {1, 2, 3, 4, 5});
  auto response = dns_query(9, "web", kDnsTypeA);
  response[2] |= 0x80;
  client.send(port, response);
  EXPECT_TRUE(client.receive(200ms).empty());
  EXPECT_EQ(ask(dns_query(10, "web", kDnsTypeA)).answers.size(), 2u);
}

TEST_F(DnsServerTest, AddressInUseIsAConflictNamingTheAddress) {
  DnsServer other(engine.lookup(), engine.reverse_fn(), {});
  auto r = other.listen("net2", netns.get(), kLoopback, port);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Conflict);
  EXPECT_EQ(r.error().sys_errno, EADDRINUSE);
  EXPECT_NE(r.error().message.find("127.0.0.1:" + std::to_string(port) + " is in use"),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("another DNS server listens there"), std::string::npos);
}

TEST_F(DnsServerTest, UnlistenFreesThePort) {
  server->unlisten("net1");
  EXPECT_TRUE(ask(dns_query(11, "web", kDnsTypeA), 200ms).answers.empty());
  DnsServer other(engine.lookup(), engine.reverse_fn(), {});
  auto r = other.listen("net1", netns.get(), kLoopback, port);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, port);
  EXPECT_EQ(ask(dns_query(12, "web", kDnsTypeA)).answers.size(), 2u);
}

TEST_F(DnsServerTest, ListenersAreNamedByKey) {
  auto second = server->listen("net2", netns.get(), kLoopback, 0);
  ASSERT_TRUE(second) << second.error().message;
  client.send(*second, dns_query(13, "web", kDnsTypeA));
  EXPECT_EQ(read_reply(client.receive()).answers.size(), 2u);
  std::lock_guard lock(engine.mu);
  ASSERT_FALSE(engine.asked.empty());
  EXPECT_EQ(engine.asked.back(), "net2 127.0.0.1 web IPv4");
}

// listen() and unlisten() from other threads while the server answers.
TEST_F(DnsServerTest, ListenersChangeWhileServing) {
  std::atomic<bool> done = false;
  std::mutex mu;
  std::vector<std::string> failures;
  std::vector<std::thread> churn;
  for (int t = 0; t < 2; ++t)
    churn.emplace_back([&, t] {
      std::string key = "churn" + std::to_string(t);
      while (!done) {
        if (auto r = server->listen(key, netns.get(), kLoopback, 0); !r) {
          std::lock_guard lock(mu);
          failures.push_back(r.error().message);
        }
        server->unlisten(key);
      }
    });
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(ask(dns_query(static_cast<uint16_t>(100 + i), "web", kDnsTypeA)).answers.size(), 2u)
        << i;
  done = true;
  for (auto& t : churn) t.join();
  EXPECT_TRUE(failures.empty()) << failures.front();
}

// An IPv6 listener (a network's IPv6 gateway), forwarding to an IPv6 upstream.
TEST_F(DnsServerTest, Ipv6ListenerAndUpstream) {
  UniqueFd up(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  socklen_t len = sizeof a;
  if (!up || ::bind(up.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
    GTEST_SKIP() << "skipped, because this host has no IPv6 loopback (::1): " << strerror(errno);
  ASSERT_EQ(::getsockname(up.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);
  server->set_upstreams({{ip("::1"), ntohs(a.sin6_port)}});
  auto p6 = server->listen("net6", netns.get(), ip("::1"), 0);
  ASSERT_TRUE(p6) << p6.error().message;

  UniqueFd c(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 to = a;
  to.sin6_port = htons(*p6);
  auto exchange = [&](const std::vector<uint8_t>& q) {
    EXPECT_EQ(::sendto(c.get(), q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(q.size()));
  };
  auto receive = [](int fd, sockaddr_in6* from = nullptr) {
    std::vector<uint8_t> buf(4096);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) return std::vector<uint8_t>{};
    socklen_t fl = sizeof(sockaddr_in6);
    ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(from), &fl);
    buf.resize(n < 0 ? 0 : static_cast<size_t>(n));
    return buf;
  };
  exchange(dns_query(20, "api", kDnsTypeAaaa));
  EXPECT_EQ(read_reply(receive(c.get())).answers,
            std::vector<std::string>{"api. 600 AAAA fd00::7"});
  exchange(dns_query(21, "example.com", kDnsTypeAaaa));
  sockaddr_in6 from{};
  auto forwarded = receive(up.get(), &from);
  ASSERT_FALSE(forwarded.empty()) << "nothing reached the IPv6 upstream";
  auto answer = *build_dns_answer(forwarded, {DnsRcode::NoError, {ip("2001:db8::80")}});
  ASSERT_EQ(::sendto(up.get(), answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from),
                     sizeof from),
            static_cast<ssize_t>(answer.size()));
  auto r = read_reply(receive(c.get()));
  EXPECT_EQ(r.id, 21);
  EXPECT_EQ(r.answers, std::vector<std::string>{"example.com. 600 AAAA 2001:db8::80"});
  std::lock_guard lock(engine.mu);
  EXPECT_EQ(engine.asked.front(), "net6 ::1 api IPv6");
}

TEST(DnsServerListen, BadNamespaceIsAnError) {
  DnsServer server({}, {}, {});
  auto r = server.listen("net1", -1, kLoopback, 0);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("dns server on 127.0.0.1:0"), std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace silo::network
