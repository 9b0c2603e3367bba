#pragma once
// DHCPv4 for transparent endpoints on a network without a subnet: the daemon leases an
// address for each endpoint with the endpoint's own MAC as chaddr, from inside the
// container's namespace on its macvlan, and renews it before it expires.
//
// Hand-written: Debian packages DHCP clients as programs (isc-dhcp-client, udhcpc,
// dhcpcd) but no library with an embeddable client API, and Silo must run the exchange
// for many endpoints, each in its own namespace, with a MAC that is not the daemon's.
//
// The packet builder and parser are pure (unit-tested, fuzzed); the client functions
// open one UDP socket bound to the endpoint's device.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"
#include "network/address.h"

namespace silo::network {

enum class DhcpType : uint8_t {
  Discover = 1,
  Offer = 2,
  Request = 3,
  Decline = 4,
  Ack = 5,
  Nak = 6,
  Release = 7,
};
std::string_view dhcp_type_name(DhcpType t);

using Mac = std::array<uint8_t, 6>;
// "02:42:ac:11:00:02" -> bytes; Invalid otherwise.
[[nodiscard]] Result<Mac> mac_bytes(std::string_view text);

inline constexpr uint16_t kDhcpBroadcastFlag = 0x8000;

// One BOOTP/DHCP message, the fields and options Silo uses.
struct DhcpMessage {
  uint8_t op = 1;  // 1 BOOTREQUEST, 2 BOOTREPLY
  uint32_t xid = 0;
  uint16_t secs = 0;
  uint16_t flags = 0;
  IpAddress ciaddr, yiaddr, siaddr, giaddr;  // IPv4; 0.0.0.0 when unset
  Mac chaddr{};
  std::optional<DhcpType> type;          // option 53
  std::optional<IpAddress> server_id;    // option 54
  std::optional<IpAddress> requested;    // option 50
  std::optional<IpAddress> subnet_mask;  // option 1
  std::optional<IpAddress> router;       // option 3, the first router
  std::vector<IpAddress> dns;            // option 6
  std::optional<uint32_t> lease_s;       // option 51
  std::optional<uint32_t> t1_s, t2_s;    // options 58, 59
  std::string message;                   // option 56 (a NAK's reason)
  std::string hostname;                  // option 12
};

// The wire form (with the magic cookie, options, END, padded to BOOTP's 300 bytes).
std::vector<uint8_t> build_dhcp(const DhcpMessage& m);
// Invalid when the packet is short, has no magic cookie, or an option overruns it.
[[nodiscard]] Result<DhcpMessage> parse_dhcp(std::span<const uint8_t> packet);

// What an ACK grants.
struct DhcpLease {
  Prefix address;  // yiaddr with the subnet mask's length (/32 without a mask)
  std::optional<IpAddress> router;
  IpAddress server;  // server identifier: where renewals go
  std::vector<IpAddress> dns;
  uint32_t lease_s = 0;
  uint32_t t1_s = 0;  // renew after this (option 58, else half the lease, RFC 2131 4.4.5)
  uint32_t t2_s = 0;  // rebind after this (option 59, else 7/8 of the lease)
};
// The lease in an ACK; Invalid when it is not an ACK or lacks an address, server id or
// lease time.
[[nodiscard]] Result<DhcpLease> lease_from_ack(const DhcpMessage& ack);

// The client's messages.
DhcpMessage dhcp_discover(const Mac& mac, uint32_t xid, const std::string& hostname = {});
// REQUEST in SELECTING state: the offered address and the offering server.
DhcpMessage dhcp_request(const Mac& mac, uint32_t xid, const DhcpMessage& offer,
                         const std::string& hostname = {});
// REQUEST in RENEWING state: ciaddr = the leased address, unicast to the server.
DhcpMessage dhcp_renew_request(const Mac& mac, uint32_t xid, const DhcpLease& lease);
// Is `reply` an answer to our request `xid` for `mac`?
bool dhcp_answers(const DhcpMessage& reply, uint32_t xid, const Mac& mac);

struct DhcpTiming {
  std::chrono::milliseconds first_wait{1000};  // doubled per retransmission
  int tries = 4;
};

// The whole exchange (DISCOVER, OFFER, REQUEST, ACK) on `ifname` inside the namespace
// `netns_fd`, with chaddr = `mac`. The interface must be up; it needs no address.
// Unavailable when no server answers (naming the interface, the MAC and the tries),
// Conflict on a NAK (with the server's reason).
[[nodiscard]] Result<DhcpLease> dhcp_acquire(int netns_fd, const std::string& ifname,
                                             const std::string& mac,
                                             const std::string& hostname = {},
                                             DhcpTiming timing = {});
// Renews `lease` with its server (unicast from the leased address, which must be
// configured on `ifname`). The engine schedules this at renew_at(); a NAK means the
// address is gone and the endpoint must acquire again.
[[nodiscard]] Result<DhcpLease> dhcp_renew(int netns_fd, const std::string& ifname,
                                           const std::string& mac, const DhcpLease& lease,
                                           DhcpTiming timing = {});
// When to renew a lease obtained at `obtained` (T1).
std::chrono::system_clock::time_point renew_at(const DhcpLease& lease,
                                               std::chrono::system_clock::time_point obtained);

}  // namespace silo::network
