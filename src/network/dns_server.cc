// The DNS server's thread: one poll() loop over every listener's sockets. Each round reads
// what is ready under the lock, decides the answers without it (the engine's callbacks
// may take the engine's locks, which may be held by a caller of listen()), then sends
// under the lock again. Sockets are found again by the listener's serial number, so a
// listener removed or replaced in between is simply no longer there.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "network/dns.h"

// ldns/common.h defines bool, true and false as macros unless <stdbool.h> came first
// (which, in C++, defines nothing but the guard); they break <optional>'s operator<=>.
#include <stdbool.h>  // NOLINT

#include <ldns/ldns.h>
#include "network/netns.h"

namespace silo::network {

namespace {

using Clock = std::chrono::steady_clock;

// Our replies carry no EDNS option, so over UDP they keep to RFC 1035's 512 bytes and set
// TC beyond; the client asks again over TCP.
constexpr size_t kUdpReplyMax = 512;
constexpr size_t kTcpReplyMax = 65535;
constexpr size_t kMaxPending = 1024;    // forwarded queries in flight; more get SERVFAIL
constexpr size_t kMaxTcpConns = 64;     // per listener; more are closed at once
constexpr size_t kMaxTcpOut = 1 << 20;  // a client that does not read is dropped
constexpr int kReadsPerRound = 64;      // per socket, so that one busy client cannot starve
constexpr auto kTcpIdle = std::chrono::seconds(10);

struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = sizeof(sockaddr_storage);
  sockaddr* sa() { return reinterpret_cast<sockaddr*>(&ss); }
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss); }
};

SockAddr sockaddr_of(const IpAddress& a, uint16_t port) {
  SockAddr s;
  if (a.family == Family::V4) {
    auto* in = reinterpret_cast<sockaddr_in*>(&s.ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    std::copy_n(a.bytes.begin(), 4, reinterpret_cast<uint8_t*>(&in->sin_addr));
    s.len = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&s.ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    std::copy_n(a.bytes.begin(), 16, in6->sin6_addr.s6_addr);
    s.len = sizeof(sockaddr_in6);
  }
  return s;
}

IpAddress address_of(const SockAddr& s) {
  IpAddress a;
  if (s.ss.ss_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&s.ss);
    std::copy_n(reinterpret_cast<const uint8_t*>(&in->sin_addr), 4, a.bytes.begin());
  } else {
    a.family = Family::V6;
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(&s.ss);
    std::copy_n(in6->sin6_addr.s6_addr, 16, a.bytes.begin());
  }
  return a;
}

uint16_t port_of(const SockAddr& s) {
  return ntohs(s.ss.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in*>(&s.ss)->sin_port
                                         : reinterpret_cast<const sockaddr_in6*>(&s.ss)->sin6_port);
}

std::string endpoint_str(const IpAddress& a, uint16_t port) {
  return (a.family == Family::V6 ? "[" + a.str() + "]" : a.str()) + ":" + std::to_string(port);
}

uint16_t random_id() {
  uint16_t id = 0;
  if (::getrandom(&id, sizeof id, 0) != sizeof id)
    id = static_cast<uint16_t>(Clock::now().time_since_epoch().count());
  return id;
}

struct TcpConn {
  UniqueFd fd;
  IpAddress peer;
  std::vector<uint8_t> in, out;
  Clock::time_point last;
};

struct Listener {
  uint64_t serial = 0;
  std::string key;
  IpAddress addr;
  uint16_t port = 0;
  UniqueFd udp, tcp;
  // Forwarded queries leave from these, made in the listener's namespace so that the
  // upstream is reached from where the listener is. up6 is invalid without IPv6.
  UniqueFd up4, up6;
  std::map<uint64_t, TcpConn> conns;
};

// A query read from a client, and where its answer goes.
struct Query {
  uint64_t listener = 0;  // serial
  std::string key;
  IpAddress client;
  SockAddr from;                 // a UDP client's address
  std::optional<uint64_t> conn;  // the TCP connection, for a query over TCP
  std::vector<uint8_t> packet;
};

// What the thread does with a query, decided without the lock.
struct Decision {
  enum { Drop, Reply, Forward } action = Drop;
  std::vector<uint8_t> reply;
  DnsQuery question;
};

// A query relayed upstream, by (listener serial, the id it was sent with).
struct Pending {
  Query query;  // with the client's id
  DnsQuery question;
  std::vector<DnsUpstream> upstreams;  // as they were when it was forwarded
  size_t current = 0;                  // the one asked last
  Clock::time_point deadline;
};

// One pollfd's owner.
struct Slot {
  enum Kind { Wake, Udp, Tcp, Conn, Upstream4, Upstream6 } kind = Wake;
  uint64_t serial = 0;
  uint64_t conn = 0;
};

Status set_int(int fd, int level, int name, int value, const char* what) {
  if (::setsockopt(fd, level, name, &value, sizeof value) < 0) return fail_errno(errno, what);
  return {};
}

Result<UniqueFd> new_socket(Family family, int type) {
  UniqueFd fd(
      ::socket(family == Family::V4 ? AF_INET : AF_INET6, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno(errno, "socket");
  return fd;
}

Status bind_to(int fd, const IpAddress& addr, uint16_t port, const char* proto) {
  if (addr.family == Family::V6) {
    SILO_TRY(set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY"));
    // A new bridge's IPv6 address is tentative until duplicate address detection ends
    // (about a second, RFC 4862); bind(2) would fail with EADDRNOTAVAIL until then.
    SILO_TRY(set_int(fd, IPPROTO_IP, IP_FREEBIND, 1, "IP_FREEBIND"));
  }
  SockAddr a = sockaddr_of(addr, port);
  if (::bind(fd, a.sa(), a.len) == 0) return {};
  std::string where = std::string(proto) + " " + endpoint_str(addr, port);
  if (errno == EADDRINUSE) {
    auto e = fail(Code::Conflict, where + " is in use; another DNS server listens there");
    e.error().sys_errno = EADDRINUSE;
    return e;
  }
  return fail_errno(errno, "bind " + where);
}

// The UDP and TCP sockets on l.addr:l.port. With port 0 the kernel picks the UDP port and
// TCP takes the same number, or, when that number is taken for TCP, both try another.
Status open_listening(Listener& l) {
  for (int attempt = 1;; ++attempt) {
    auto udp = new_socket(l.addr.family, SOCK_DGRAM);
    if (!udp) return std::unexpected(udp.error());
    SILO_TRY(bind_to(udp->get(), l.addr, l.port, "udp"));
    SockAddr bound;
    if (::getsockname(udp->get(), bound.sa(), &bound.len) < 0)
      return fail_errno(errno, "getsockname");
    uint16_t port = port_of(bound);
    auto tcp = new_socket(l.addr.family, SOCK_STREAM);
    if (!tcp) return std::unexpected(tcp.error());
    // Rebinding after a restart must not wait for old connections in TIME_WAIT; a port in
    // LISTEN state still cannot be bound twice.
    SILO_TRY(set_int(tcp->get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"));
    auto st = bind_to(tcp->get(), l.addr, port, "tcp");
    if (!st && l.port == 0 && st.error().sys_errno == EADDRINUSE && attempt < 8) continue;
    SILO_TRY(st);
    if (::listen(tcp->get(), 64) < 0) return fail_errno(errno, "listen");
    l.udp = std::move(*udp);
    l.tcp = std::move(*tcp);
    l.port = port;
    return {};
  }
}

// The listener's sockets, in the calling thread's namespace.
Status open_sockets(Listener& l) {
  auto up4 = new_socket(Family::V4, SOCK_DGRAM);
  if (!up4) return wrap(up4.error(), "upstream socket");
  auto up6 = new_socket(Family::V6, SOCK_DGRAM);  // EAFNOSUPPORT without IPv6: v4 only
  SILO_TRY(open_listening(l));
  l.up4 = std::move(*up4);
  if (up6) l.up6 = std::move(*up6);
  return {};
}

// Runs `fn` in the namespace `netns_fd`: directly when the calling thread is already there
// (the daemon's own host namespace, the usual case), since setns(2) even into one's own
// namespace needs CAP_SYS_ADMIN; otherwise on run_in_netns's helper thread.
Status in_namespace(int netns_fd, const std::function<Status()>& fn) {
  struct stat target = {};
  struct stat self = {};
  if (::fstat(netns_fd, &target) < 0) return fail_errno(errno, "network namespace");
  if (::stat("/proc/thread-self/ns/net", &self) == 0 && self.st_dev == target.st_dev &&
      self.st_ino == target.st_ino)
    return fn();
  return run_in_netns(netns_fd, fn);
}

}  // namespace

struct DnsServer::State {
  DnsLookup lookup;
  DnsReverse reverse;
  std::chrono::milliseconds timeout;

  std::mutex mu;  // guards everything below
  std::vector<DnsUpstream> upstreams;
  std::map<std::string, std::unique_ptr<Listener>> listeners;  // by key
  std::map<std::pair<uint64_t, uint16_t>, Pending> pending;
  uint64_t next_serial = 1, next_conn = 1;
  UniqueFd wake_fd;  // eventfd; valid once the thread runs
  std::thread thread;
  bool stop = false;
  std::vector<uint8_t> buf = std::vector<uint8_t>(65536);

  void wake() const {
    uint64_t one = 1;
    if (wake_fd) (void)!::write(wake_fd.get(), &one, sizeof one);
  }
  Listener* by_serial(uint64_t serial) {
    for (auto& [_, l] : listeners)
      if (l->serial == serial) return l.get();
    return nullptr;
  }

  void run();
  int poll_set(std::vector<pollfd>& fds, std::vector<Slot>& slots);
  void read_ready(const Slot& slot, short revents, std::vector<Query>& out);
  void read_udp(Listener& l, std::vector<Query>& out);
  void accept_tcp(Listener& l);
  bool read_tcp(Listener& l, uint64_t id, TcpConn& c, std::vector<Query>& out);
  bool flush(TcpConn& c);
  void read_upstream(Listener& l, int fd);
  void expire(Clock::time_point now);

  Decision decide(const Query& q) const;
  void deliver(Query& q, Decision& d);
  void reply(const Query& q, std::span<const uint8_t> packet);
  void servfail(const Query& q);
  void forward(Query& q, const DnsQuery& question);
  bool send_upstream(Pending& p, uint16_t id);
};

void DnsServer::State::run() {
  std::vector<pollfd> fds;
  std::vector<Slot> slots;
  for (;;) {
    int wait_ms;
    {
      std::lock_guard lock(mu);
      if (stop) return;
      wait_ms = poll_set(fds, slots);
    }
    if (::poll(fds.data(), fds.size(), wait_ms) < 0 && errno != EINTR) {
      spdlog::warn("dns server: poll: {}", std::strerror(errno));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::vector<Query> queries;
    {
      std::lock_guard lock(mu);
      if (stop) return;
      for (size_t i = 0; i < fds.size(); ++i)
        if (fds[i].revents) read_ready(slots[i], fds[i].revents, queries);
      expire(Clock::now());
    }
    std::vector<Decision> decisions;
    for (const Query& q : queries) decisions.push_back(decide(q));
    std::lock_guard lock(mu);
    for (size_t i = 0; i < queries.size(); ++i) deliver(queries[i], decisions[i]);
  }
}

// The sockets to wait on, and how long until a forwarded query or a TCP connection times
// out (-1: none).
int DnsServer::State::poll_set(std::vector<pollfd>& fds, std::vector<Slot>& slots) {
  fds.assign(1, pollfd{wake_fd.get(), POLLIN, 0});
  slots.assign(1, Slot{});
  auto add = [&](int fd, short events, Slot::Kind kind, uint64_t serial, uint64_t conn = 0) {
    if (fd < 0) return;
    fds.push_back(pollfd{fd, events, 0});
    slots.push_back(Slot{kind, serial, conn});
  };
  auto now = Clock::now();
  std::optional<Clock::time_point> next;
  auto soonest = [&](Clock::time_point t) { next = next ? std::min(*next, t) : t; };
  for (auto& [_, l] : listeners) {
    add(l->udp.get(), POLLIN, Slot::Udp, l->serial);
    add(l->tcp.get(), POLLIN, Slot::Tcp, l->serial);
    add(l->up4.get(), POLLIN, Slot::Upstream4, l->serial);
    add(l->up6.get(), POLLIN, Slot::Upstream6, l->serial);
    for (auto& [id, c] : l->conns) {
      add(c.fd.get(), static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), Slot::Conn,
          l->serial, id);
      soonest(c.last + kTcpIdle);
    }
  }
  for (auto& [_, p] : pending) soonest(p.deadline);
  if (!next) return -1;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(*next - now).count();
  return static_cast<int>(std::clamp<int64_t>(ms, 0, 60'000));
}

void DnsServer::State::read_ready(const Slot& slot, short revents, std::vector<Query>& out) {
  if (slot.kind == Slot::Wake) {
    uint64_t n;
    (void)!::read(wake_fd.get(), &n, sizeof n);
    return;
  }
  Listener* l = by_serial(slot.serial);
  if (!l) return;  // removed or replaced since poll_set
  switch (slot.kind) {
    case Slot::Udp:
      return read_udp(*l, out);
    case Slot::Tcp:
      return accept_tcp(*l);
    case Slot::Upstream4:
      return read_upstream(*l, l->up4.get());
    case Slot::Upstream6:
      return read_upstream(*l, l->up6.get());
    case Slot::Conn: {
      auto it = l->conns.find(slot.conn);
      if (it == l->conns.end()) return;
      bool keep = true;
      if (revents & (POLLIN | POLLHUP | POLLERR)) keep = read_tcp(*l, it->first, it->second, out);
      if (keep && (revents & POLLOUT)) keep = flush(it->second);
      if (!keep) l->conns.erase(it);
      return;
    }
    case Slot::Wake:
      return;
  }
}

void DnsServer::State::read_udp(Listener& l, std::vector<Query>& out) {
  for (int i = 0; i < kReadsPerRound; ++i) {
    SockAddr from;
    ssize_t n = ::recvfrom(l.udp.get(), buf.data(), buf.size(), MSG_DONTWAIT, from.sa(), &from.len);
    if (n < 0) return;  // EAGAIN: drained; anything else: nothing to answer
    out.push_back(Query{l.serial, l.key, address_of(from), from, std::nullopt,
                        std::vector<uint8_t>(buf.begin(), buf.begin() + n)});
  }
}

void DnsServer::State::accept_tcp(Listener& l) {
  for (int i = 0; i < kReadsPerRound; ++i) {
    SockAddr from;
    UniqueFd fd(::accept4(l.tcp.get(), from.sa(), &from.len, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) return;
    if (l.conns.size() >= kMaxTcpConns) continue;  // closed at once
    l.conns.emplace(next_conn++, TcpConn{std::move(fd), address_of(from), {}, {}, Clock::now()});
  }
}

// Reads what the client sent and takes out its complete (length-prefixed, RFC 1035 4.2.2)
// queries; false when the connection is to be closed.
bool DnsServer::State::read_tcp(Listener& l, uint64_t id, TcpConn& c, std::vector<Query>& out) {
  ssize_t n = ::recv(c.fd.get(), buf.data(), buf.size(), MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return false;
  if (n < 0) return true;
  c.last = Clock::now();
  c.in.insert(c.in.end(), buf.begin(), buf.begin() + n);
  while (c.in.size() >= 2) {
    size_t len = ldns_read_uint16(c.in.data());
    if (len == 0) return false;
    if (c.in.size() < 2 + len) break;
    out.push_back(Query{l.serial,
                        l.key,
                        c.peer,
                        {},
                        id,
                        std::vector<uint8_t>(c.in.begin() + 2, c.in.begin() + 2 + len)});
    c.in.erase(c.in.begin(), c.in.begin() + 2 + len);
  }
  return true;
}

bool DnsServer::State::flush(TcpConn& c) {
  while (!c.out.empty()) {
    ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    c.out.erase(c.out.begin(), c.out.begin() + n);
  }
  return true;
}

// An upstream's answer: relayed to the client with its own id, or asked of the next
// upstream on SERVFAIL or REFUSED (as Docker's resolver does).
void DnsServer::State::read_upstream(Listener& l, int fd) {
  for (int i = 0; i < kReadsPerRound; ++i) {
    SockAddr from;
    ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), MSG_DONTWAIT, from.sa(), &from.len);
    if (n < 0) return;
    if (static_cast<size_t>(n) < LDNS_HEADER_SIZE) continue;
    auto it = pending.find({l.serial, LDNS_ID_WIRE(buf.data())});
    if (it == pending.end()) continue;
    Pending& p = it->second;
    // Only from a server that was asked, and only an answer to the question asked: a
    // spoofed or stray packet is dropped.
    DnsUpstream src{address_of(from), port_of(from)};
    auto asked = std::span(p.upstreams).first(p.current + 1);
    if (std::ranges::find(asked, src) == asked.end()) continue;
    std::span<uint8_t> answer(buf.data(), static_cast<size_t>(n));
    auto q = parse_dns_query(answer);
    if (!q || !q->response || q->name != p.question.name || q->qtype != p.question.qtype) continue;
    uint8_t rcode = LDNS_RCODE_WIRE(answer.data());
    if ((rcode == LDNS_RCODE_SERVFAIL || rcode == LDNS_RCODE_REFUSED) &&
        p.current + 1 < p.upstreams.size()) {
      ++p.current;
      if (send_upstream(p, it->first.second)) continue;
    }
    LDNS_ID_SET(answer.data(), ldns_read_uint16(p.query.packet.data()));
    reply(p.query, answer);
    pending.erase(it);
  }
}

// Forwarded queries past their deadline go to the next upstream, or get SERVFAIL; idle
// TCP connections are closed.
void DnsServer::State::expire(Clock::time_point now) {
  for (auto it = pending.begin(); it != pending.end();) {
    Pending& p = it->second;
    if (p.deadline > now) {
      ++it;
      continue;
    }
    ++p.current;
    if (send_upstream(p, it->first.second)) {
      ++it;
      continue;
    }
    servfail(p.query);
    it = pending.erase(it);
  }
  for (auto& [_, l] : listeners)
    std::erase_if(l->conns, [&](const auto& c) { return c.second.last + kTcpIdle <= now; });
}

Decision DnsServer::State::decide(const Query& q) const {
  auto question = parse_dns_query(q.packet);
  if (!question || question->response) return {};  // not a query: no answer at all
  auto answer = [&](DnsAnswer a) {
    auto wire = build_dns_answer(q.packet, a, q.conn ? kTcpReplyMax : kUdpReplyMax);
    return wire ? Decision{Decision::Reply, std::move(*wire), {}} : Decision{};
  };
  Decision forward{Decision::Forward, {}, *question};
  if (question->opcode != LDNS_PACKET_QUERY) return answer({DnsRcode::NotImp});
  if (question->qclass != kDnsClassIn) return forward;
  auto find = [&](Family f) {
    return lookup ? lookup(q.key, q.client, question->name, f) : std::nullopt;
  };
  switch (question->qtype) {
    case kDnsTypeA:
    case kDnsTypeAaaa: {
      auto addrs = find(question->qtype == kDnsTypeA ? Family::V4 : Family::V6);
      if (!addrs) return forward;
      return answer({DnsRcode::NoError, std::move(*addrs)});
    }
    case kDnsTypePtr: {
      auto addr = address_from_reverse_name(question->name);
      auto name = addr && reverse ? reverse(q.key, *addr) : std::nullopt;
      if (!name) return forward;
      return answer({DnsRcode::NoError, {}, std::move(*name)});
    }
    default:
      // A known name has no other records; asking upstream (HTTPS, MX, TXT) could only
      // get an NXDOMAIN that some resolvers take for the whole name.
      if (find(Family::V4) || find(Family::V6)) return answer({DnsRcode::NoError});
      return forward;
  }
}

void DnsServer::State::deliver(Query& q, Decision& d) {
  if (d.action == Decision::Reply) reply(q, d.reply);
  if (d.action == Decision::Forward) forward(q, d.question);
}

void DnsServer::State::reply(const Query& q, std::span<const uint8_t> packet) {
  Listener* l = by_serial(q.listener);
  if (!l) return;
  if (!q.conn) {
    // A lost reply is the client's to retry, as any UDP loss.
    (void)::sendto(l->udp.get(), packet.data(), packet.size(), MSG_DONTWAIT, q.from.sa(),
                   q.from.len);
    return;
  }
  auto it = l->conns.find(*q.conn);
  if (it == l->conns.end()) return;
  TcpConn& c = it->second;
  uint8_t len[2];
  ldns_write_uint16(len, static_cast<uint16_t>(packet.size()));
  c.out.insert(c.out.end(), len, len + 2);
  c.out.insert(c.out.end(), packet.begin(), packet.end());
  if (c.out.size() > kMaxTcpOut || !flush(c)) l->conns.erase(it);
}

void DnsServer::State::servfail(const Query& q) {
  if (auto wire =
          build_dns_answer(q.packet, {DnsRcode::ServFail}, q.conn ? kTcpReplyMax : kUdpReplyMax))
    reply(q, *wire);
}

void DnsServer::State::forward(Query& q, const DnsQuery& question) {
  Listener* l = by_serial(q.listener);
  if (!l) return;
  Pending p{std::move(q), question, {}, 0, {}};
  // Never to ourselves (the host's resolv.conf could name a gateway): that would loop.
  for (const DnsUpstream& u : upstreams)
    if (!(u.addr == l->addr && u.port == l->port)) p.upstreams.push_back(u);
  if (pending.size() >= kMaxPending) return servfail(p.query);
  uint16_t id = random_id();
  for (int tries = 0; pending.contains({l->serial, id}) && tries < 16; ++tries) id = random_id();
  if (pending.contains({l->serial, id}) || !send_upstream(p, id)) return servfail(p.query);
  pending.emplace(std::pair{l->serial, id}, std::move(p));
}

// Sends the query to p.upstreams[p.current], or the first after it that takes it, with
// `id`; false when none is left.
bool DnsServer::State::send_upstream(Pending& p, uint16_t id) {
  Listener* l = by_serial(p.query.listener);
  if (!l) return false;
  std::vector<uint8_t> packet = p.query.packet;
  LDNS_ID_SET(packet.data(), id);
  for (; p.current < p.upstreams.size(); ++p.current) {
    const DnsUpstream& u = p.upstreams[p.current];
    int fd = u.addr.family == Family::V4 ? l->up4.get() : l->up6.get();
    SockAddr to = sockaddr_of(u.addr, u.port);
    if (fd >= 0 && ::sendto(fd, packet.data(), packet.size(), MSG_DONTWAIT, to.sa(), to.len) >= 0) {
      p.deadline = Clock::now() + timeout;
      return true;
    }
  }
  return false;
}

DnsServer::DnsServer(DnsLookup lookup, DnsReverse reverse, std::vector<DnsUpstream> upstreams,
                     std::chrono::milliseconds upstream_timeout)
    : state_(std::make_unique<State>()) {
  state_->lookup = std::move(lookup);
  state_->reverse = std::move(reverse);
  state_->upstreams = std::move(upstreams);
  state_->timeout = upstream_timeout;
}

DnsServer::~DnsServer() {
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
  }
  state_->wake();
  if (state_->thread.joinable()) state_->thread.join();
}

Result<uint16_t> DnsServer::listen(const std::string& key, int netns_fd, const IpAddress& addr,
                                   uint16_t port) {
  std::string what = "dns server on " + endpoint_str(addr, port);
  unlisten(key);
  auto l = std::make_unique<Listener>();
  l->key = key;
  l->addr = addr;
  l->port = port;
  if (auto st = in_namespace(netns_fd, [&] { return open_sockets(*l); }); !st)
    return wrap(st.error(), what);
  std::lock_guard lock(state_->mu);
  if (!state_->thread.joinable()) {
    UniqueFd wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!wake) return fail_errno(errno, what + ": eventfd");
    state_->wake_fd = std::move(wake);
    try {
      state_->thread = std::thread([s = state_.get()] { s->run(); });
    } catch (const std::system_error& e) {
      return fail(Code::Internal, what + ": start thread: " + e.what());
    }
  }
  l->serial = state_->next_serial++;
  uint16_t bound = l->port;
  state_->listeners[key] = std::move(l);
  state_->wake();
  return bound;
}

void DnsServer::unlisten(const std::string& key) {
  std::lock_guard lock(state_->mu);
  auto it = state_->listeners.find(key);
  if (it == state_->listeners.end()) return;
  uint64_t serial = it->second->serial;
  state_->listeners.erase(it);  // closes its sockets now; the thread rebuilds its poll set
  std::erase_if(state_->pending, [&](const auto& p) { return p.first.first == serial; });
  state_->wake();
}

void DnsServer::set_upstreams(std::vector<DnsUpstream> upstreams) {
  std::lock_guard lock(state_->mu);
  state_->upstreams = std::move(upstreams);
}

}  // namespace silo::network
