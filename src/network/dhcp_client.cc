// The DHCP exchange on a socket inside the endpoint's namespace. A UDP socket bound to
// the device (SO_BINDTODEVICE) is enough: the kernel sends to 255.255.255.255 out of a
// bound device without an address or a route (source 0.0.0.0), and delivers the
// server's broadcast answers (we set the broadcast flag) to a socket on port 68.

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "network/dhcp.h"
#include "network/netns.h"

namespace silo::network {

namespace {

constexpr uint16_t kServerPort = 67, kClientPort = 68;

uint32_t new_xid() {
  uint32_t x = 0;
  if (::getrandom(&x, sizeof x, 0) != sizeof x)
    x = static_cast<uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return x;
}

Result<UniqueFd> client_socket(const std::string& ifname) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno(errno, "dhcp: socket");
  int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      ::setsockopt(fd.get(), SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0)
    return fail_errno(errno, "dhcp: setsockopt");
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(), ifname.size() + 1) < 0)
    return fail_errno(errno, "dhcp: bind to interface " + ifname);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(kClientPort);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
    return fail_errno(
        errno, "dhcp: bind port 68 on " + ifname + " (another DHCP client in this namespace?)");
  return fd;
}

Status send_to(int fd, const DhcpMessage& m, const IpAddress& dst) {
  auto bytes = build_dhcp(m);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(kServerPort);
  std::copy(dst.bytes.begin(), dst.bytes.begin() + 4, reinterpret_cast<uint8_t*>(&a.sin_addr));
  if (::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
    return fail_errno(errno,
                      "dhcp: send " + std::string(dhcp_type_name(*m.type)) + " to " + dst.str());
  return {};
}

// Waits up to `wait` for an answer to (xid, mac) of one of the wanted types; nullopt on
// timeout. Other packets (other endpoints' answers on the same segment) are skipped.
Result<std::optional<DhcpMessage>> receive(int fd, uint32_t xid, const Mac& mac,
                                           std::initializer_list<DhcpType> wanted,
                                           std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  uint8_t buf[1500];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail_errno(errno, "dhcp: poll");
    if (r == 0) return std::nullopt;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno(errno, "dhcp: receive");
    auto m = parse_dhcp({buf, static_cast<size_t>(n)});
    if (!m || !dhcp_answers(*m, xid, mac)) continue;
    for (DhcpType t : wanted)
      if (m->type == t) return std::optional<DhcpMessage>(std::move(*m));
  }
}

// Sends `m` and waits for an answer, retransmitting with a doubling wait.
Result<DhcpMessage> exchange(int fd, const DhcpMessage& m, const IpAddress& dst, const Mac& mac,
                             std::initializer_list<DhcpType> wanted, const DhcpTiming& timing,
                             const std::string& what) {
  auto wait = timing.first_wait;
  for (int i = 0; i < timing.tries; ++i, wait *= 2) {
    SILO_TRY(send_to(fd, m, dst));
    auto r = receive(fd, m.xid, mac, wanted, wait);
    if (!r) return std::unexpected(r.error());
    if (*r) return std::move(**r);
  }
  return fail(Code::Unavailable, what + ": no DHCP server answered " +
                                     std::string(dhcp_type_name(*m.type)) + " after " +
                                     std::to_string(timing.tries) +
                                     " tries; check that a DHCP server serves the parent "
                                     "interface's network, or give the network a --subnet");
}

Result<DhcpLease> ack_or_nak(const DhcpMessage& reply, const std::string& what) {
  if (reply.type == DhcpType::Nak)
    return fail(Code::Conflict,
                what + ": DHCP server " + (reply.server_id ? reply.server_id->str() : "?") +
                    " refused the request (DHCPNAK" +
                    (reply.message.empty() ? std::string() : ": " + reply.message) + ")");
  auto lease = lease_from_ack(reply);
  if (!lease) return wrap(lease.error(), what);
  return lease;
}

IpAddress broadcast() {
  return *IpAddress::parse("255.255.255.255");
}

}  // namespace

Result<DhcpLease> dhcp_acquire(int netns_fd, const std::string& ifname, const std::string& mac,
                               const std::string& hostname, DhcpTiming timing) {
  std::string what = "dhcp on " + ifname + " (" + mac + ")";
  auto hw = mac_bytes(mac);
  if (!hw) return wrap(hw.error(), what);
  Result<DhcpLease> out = fail(Code::Internal, what + ": not run");
  auto st = run_in_netns(netns_fd, [&]() -> Status {
    auto fd = client_socket(ifname);
    if (!fd) return std::unexpected(fd.error());
    uint32_t xid = new_xid();
    auto offer = exchange(fd->get(), dhcp_discover(*hw, xid, hostname), broadcast(), *hw,
                          {DhcpType::Offer}, timing, what);
    if (!offer) return std::unexpected(offer.error());
    if (!offer->server_id)
      return fail(Code::Invalid, what + ": the DHCPOFFER has no server identifier");
    auto reply = exchange(fd->get(), dhcp_request(*hw, xid, *offer, hostname), broadcast(), *hw,
                          {DhcpType::Ack, DhcpType::Nak}, timing, what);
    if (!reply) return std::unexpected(reply.error());
    out = ack_or_nak(*reply, what);
    return {};
  });
  if (!st) return wrap(st.error(), what);
  return out;
}

Result<DhcpLease> dhcp_renew(int netns_fd, const std::string& ifname, const std::string& mac,
                             const DhcpLease& lease, DhcpTiming timing) {
  std::string what = "dhcp renew of " + lease.address.addr.str() + " on " + ifname;
  auto hw = mac_bytes(mac);
  if (!hw) return wrap(hw.error(), what);
  Result<DhcpLease> out = fail(Code::Internal, what + ": not run");
  auto st = run_in_netns(netns_fd, [&]() -> Status {
    auto fd = client_socket(ifname);
    if (!fd) return std::unexpected(fd.error());
    auto reply = exchange(fd->get(), dhcp_renew_request(*hw, new_xid(), lease), lease.server, *hw,
                          {DhcpType::Ack, DhcpType::Nak}, timing, what);
    if (!reply) return std::unexpected(reply.error());
    out = ack_or_nak(*reply, what);
    return {};
  });
  if (!st) return wrap(st.error(), what);
  return out;
}

}  // namespace silo::network
