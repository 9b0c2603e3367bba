// DHCPv4 packets (RFC 2131, options RFC 2132): builder, parser, lease, client messages.

#include <algorithm>
#include <bit>
#include <cstdio>

#include "network/dhcp.h"

namespace silo::network {

namespace {

constexpr size_t kFixed = 236;  // op .. file, before the magic cookie
constexpr uint8_t kCookie[4] = {99, 130, 83, 99};

enum Opt : uint8_t {
  kPad = 0,
  kSubnetMask = 1,
  kRouter = 3,
  kDns = 6,
  kHostname = 12,
  kRequestedIp = 50,
  kLeaseTime = 51,
  kMessageType = 53,
  kServerId = 54,
  kParamRequest = 55,
  kMessage = 56,
  kT1 = 58,
  kT2 = 59,
  kClientId = 61,
  kEnd = 255,
};

IpAddress v4(const uint8_t* p) {
  IpAddress a;
  std::copy(p, p + 4, a.bytes.begin());
  return a;
}
uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
uint16_t be16(const uint8_t* p) {
  return uint16_t(p[0] << 8 | p[1]);
}

class Writer {
 public:
  std::vector<uint8_t> out;
  void u8(uint8_t v) { out.push_back(v); }
  void u16(uint16_t v) { u8(v >> 8), u8(v & 0xff); }
  void u32(uint32_t v) { u16(v >> 16), u16(v & 0xffff); }
  void ip(const IpAddress& a) { out.insert(out.end(), a.bytes.begin(), a.bytes.begin() + 4); }
  void opt(uint8_t code, std::span<const uint8_t> data) {
    u8(code), u8(static_cast<uint8_t>(data.size()));
    out.insert(out.end(), data.begin(), data.end());
  }
  void opt_ip(uint8_t code, const IpAddress& a) { opt(code, {a.bytes.data(), 4}); }
  void opt_u32(uint8_t code, uint32_t v) {
    uint8_t b[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
    opt(code, b);
  }
};

// Applies one option to `m`; a malformed known option is an error.
Status apply_option(DhcpMessage& m, uint8_t code, std::span<const uint8_t> d) {
  auto need = [&](size_t n, const char* what) -> Status {
    if (d.size() < n || (n == 4 && code != kRouter && code != kDns && d.size() != 4) ||
        (n == 1 && d.size() != 1))
      return fail(Code::Invalid, "DHCP option " + std::to_string(code) + " (" + what +
                                     ") has length " + std::to_string(d.size()));
    return {};
  };
  switch (code) {
    case kMessageType:
      SILO_TRY(need(1, "message type"));
      if (d[0] < 1 || d[0] > 7)
        return fail(Code::Invalid, "DHCP message type " + std::to_string(d[0]) + " is unknown");
      m.type = static_cast<DhcpType>(d[0]);
      break;
    case kSubnetMask:
      SILO_TRY(need(4, "subnet mask"));
      m.subnet_mask = v4(d.data());
      break;
    case kRouter:
      SILO_TRY(need(4, "router"));
      m.router = v4(d.data());
      break;
    case kDns:
      SILO_TRY(need(4, "DNS servers"));
      for (size_t i = 0; i + 4 <= d.size(); i += 4) m.dns.push_back(v4(d.data() + i));
      break;
    case kServerId:
      SILO_TRY(need(4, "server identifier"));
      m.server_id = v4(d.data());
      break;
    case kRequestedIp:
      SILO_TRY(need(4, "requested address"));
      m.requested = v4(d.data());
      break;
    case kLeaseTime:
      SILO_TRY(need(4, "lease time"));
      m.lease_s = be32(d.data());
      break;
    case kT1:
      SILO_TRY(need(4, "renewal time"));
      m.t1_s = be32(d.data());
      break;
    case kT2:
      SILO_TRY(need(4, "rebinding time"));
      m.t2_s = be32(d.data());
      break;
    case kMessage:
      m.message.assign(d.begin(), d.end());
      break;
    case kHostname:
      m.hostname.assign(d.begin(), d.end());
      break;
    default:
      break;  // options Silo does not use
  }
  return {};
}

int mask_len(const IpAddress& mask) {
  uint32_t m = be32(mask.bytes.data());
  int len = std::popcount(m);
  // A contiguous mask only: 255.0.255.0 is not a prefix.
  return len == 0 || m == ~((uint32_t(1) << (32 - len)) - 1) ? len : -1;
}

}  // namespace

std::string_view dhcp_type_name(DhcpType t) {
  static constexpr std::string_view names[] = {
      "",        "DHCPDISCOVER", "DHCPOFFER",  "DHCPREQUEST", "DHCPDECLINE",
      "DHCPACK", "DHCPNAK",      "DHCPRELEASE"};
  auto i = static_cast<size_t>(t);
  return i < std::size(names) ? names[i] : "DHCP?";
}

Result<Mac> mac_bytes(std::string_view text) {
  Mac m{};
  unsigned b[6];
  char tail;
  std::string s(text);
  if (s.size() != 17 || std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
                                    &b[3], &b[4], &b[5], &tail) != 6)
    return fail(Code::Invalid, "invalid MAC address \"" + s + "\"");
  for (int i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(b[i]);
  return m;
}

std::vector<uint8_t> build_dhcp(const DhcpMessage& m) {
  Writer w;
  w.u8(m.op), w.u8(1), w.u8(6), w.u8(0);  // htype ethernet, hlen 6, hops
  w.u32(m.xid), w.u16(m.secs), w.u16(m.flags);
  w.ip(m.ciaddr), w.ip(m.yiaddr), w.ip(m.siaddr), w.ip(m.giaddr);
  w.out.insert(w.out.end(), m.chaddr.begin(), m.chaddr.end());
  w.out.resize(kFixed, 0);  // chaddr padding, sname, file
  w.out.insert(w.out.end(), std::begin(kCookie), std::end(kCookie));
  if (m.type) w.opt(kMessageType, std::array{static_cast<uint8_t>(*m.type)});
  if (m.op == 1) {
    // Client identifier: hardware type 1 + the MAC, so the server keys the lease by it.
    std::array<uint8_t, 7> cid{1};
    std::copy(m.chaddr.begin(), m.chaddr.end(), cid.begin() + 1);
    w.opt(kClientId, cid);
  }
  if (m.requested) w.opt_ip(kRequestedIp, *m.requested);
  if (m.server_id) w.opt_ip(kServerId, *m.server_id);
  if (m.subnet_mask) w.opt_ip(kSubnetMask, *m.subnet_mask);
  if (m.router) w.opt_ip(kRouter, *m.router);
  if (!m.dns.empty()) {
    std::vector<uint8_t> d;
    for (const auto& a : m.dns) d.insert(d.end(), a.bytes.begin(), a.bytes.begin() + 4);
    w.opt(kDns, std::span(d).first(std::min<size_t>(d.size(), 252)));
  }
  if (m.lease_s) w.opt_u32(kLeaseTime, *m.lease_s);
  if (m.t1_s) w.opt_u32(kT1, *m.t1_s);
  if (m.t2_s) w.opt_u32(kT2, *m.t2_s);
  auto text = [&](uint8_t code, const std::string& s) {
    if (!s.empty())
      w.opt(code, {reinterpret_cast<const uint8_t*>(s.data()), std::min<size_t>(s.size(), 255)});
  };
  text(kMessage, m.message);
  text(kHostname, m.hostname);
  if (m.op == 1) w.opt(kParamRequest, std::array<uint8_t, 5>{kSubnetMask, kRouter, kDns, kT1, kT2});
  w.u8(kEnd);
  if (w.out.size() < 300) w.out.resize(300, kPad);  // BOOTP minimum (RFC 1542)
  return w.out;
}

Result<DhcpMessage> parse_dhcp(std::span<const uint8_t> p) {
  if (p.size() < kFixed + 4)
    return fail(Code::Invalid, "DHCP packet of " + std::to_string(p.size()) +
                                   " bytes is shorter than the 240-byte header");
  if (!std::equal(std::begin(kCookie), std::end(kCookie), p.begin() + kFixed))
    return fail(Code::Invalid, "DHCP packet has no magic cookie (a plain BOOTP packet?)");
  if (p[1] != 1 || p[2] != 6)
    return fail(Code::Invalid, "DHCP packet is not for Ethernet (htype " + std::to_string(p[1]) +
                                   ", hlen " + std::to_string(p[2]) + ")");
  DhcpMessage m;
  m.op = p[0];
  m.xid = be32(&p[4]);
  m.secs = be16(&p[8]);
  m.flags = be16(&p[10]);
  m.ciaddr = v4(&p[12]), m.yiaddr = v4(&p[16]), m.siaddr = v4(&p[20]), m.giaddr = v4(&p[24]);
  std::copy(&p[28], &p[34], m.chaddr.begin());
  for (size_t i = kFixed + 4; i < p.size();) {
    uint8_t code = p[i++];
    if (code == kPad) continue;
    if (code == kEnd) return m;
    if (i >= p.size())
      return fail(Code::Invalid, "DHCP option " + std::to_string(code) + " has no length");
    size_t len = p[i++];
    if (i + len > p.size())
      return fail(Code::Invalid, "DHCP option " + std::to_string(code) + " of length " +
                                     std::to_string(len) + " runs past the packet's end");
    SILO_TRY(apply_option(m, code, p.subspan(i, len)));
    i += len;
  }
  return m;  // no END: tolerated, as most servers and clients do
}

Result<DhcpLease> lease_from_ack(const DhcpMessage& ack) {
  if (ack.type != DhcpType::Ack)
    return fail(Code::Invalid, "expected a DHCPACK, got " +
                                   std::string(ack.type ? dhcp_type_name(*ack.type) : "no type"));
  if (to_number(ack.yiaddr) == 0)
    return fail(Code::Invalid, "the DHCPACK grants no address (yiaddr 0.0.0.0)");
  if (!ack.server_id) return fail(Code::Invalid, "the DHCPACK has no server identifier");
  if (!ack.lease_s || *ack.lease_s == 0)
    return fail(Code::Invalid, "the DHCPACK has no lease time");
  int len = ack.subnet_mask ? mask_len(*ack.subnet_mask) : 32;
  if (len < 0)
    return fail(Code::Invalid,
                "the DHCPACK's subnet mask " + ack.subnet_mask->str() + " is not contiguous");
  DhcpLease l{Prefix{ack.yiaddr, len}, ack.router, *ack.server_id, ack.dns, *ack.lease_s, 0, 0};
  if (ack.router && to_number(*ack.router) == 0) l.router.reset();
  uint32_t lease = *ack.lease_s;
  l.t1_s = ack.t1_s && *ack.t1_s < lease ? *ack.t1_s : lease / 2;
  l.t2_s = ack.t2_s && *ack.t2_s<lease&& * ack.t2_s> l.t1_s
               ? *ack.t2_s
               : static_cast<uint32_t>(uint64_t(lease) * 7 / 8);
  return l;
}

DhcpMessage dhcp_discover(const Mac& mac, uint32_t xid, const std::string& hostname) {
  DhcpMessage m;
  m.xid = xid;
  // Broadcast flag: the endpoint has no address yet, so a unicast answer to the offered
  // address would be dropped by its IP stack before our socket sees it.
  m.flags = kDhcpBroadcastFlag;
  m.chaddr = mac;
  m.type = DhcpType::Discover;
  m.hostname = hostname;
  return m;
}

DhcpMessage dhcp_request(const Mac& mac, uint32_t xid, const DhcpMessage& offer,
                         const std::string& hostname) {
  DhcpMessage m = dhcp_discover(mac, xid, hostname);
  m.type = DhcpType::Request;
  m.requested = offer.yiaddr;
  m.server_id = offer.server_id;
  return m;
}

DhcpMessage dhcp_renew_request(const Mac& mac, uint32_t xid, const DhcpLease& lease) {
  DhcpMessage m;
  m.xid = xid;
  m.chaddr = mac;
  m.type = DhcpType::Request;
  m.ciaddr = lease.address.addr;  // RENEWING: no requested-address, no server id (4.3.2)
  return m;
}

bool dhcp_answers(const DhcpMessage& reply, uint32_t xid, const Mac& mac) {
  return reply.op == 2 && reply.xid == xid && reply.chaddr == mac && reply.type.has_value();
}

std::chrono::system_clock::time_point renew_at(const DhcpLease& lease,
                                               std::chrono::system_clock::time_point obtained) {
  return obtained + std::chrono::seconds(lease.t1_s);
}

}  // namespace silo::network
