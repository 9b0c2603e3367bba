#pragma once
// The embedded DNS server of user-defined networks (Docker's 127.0.0.11). Silo listens on
// each such network's gateway address in the host namespace, and a container's
// resolv.conf says `nameserver <gateway>` (with `options ndots:0`, as Docker writes it, so
// that a bare container name is asked as is before the search domains).
//
// Names Silo knows (container names, aliases: single labels, answered case-insensitively,
// "web" and "web." alike) are answered from the engine through a lookup callback; every
// other name is relayed to the upstream servers (the host's resolv.conf). Packets are
// parsed and built with libldns; the pure functions below are unit-tested and fuzzed.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "network/address.h"

namespace silo::network {

// Query types the server answers itself; any other type of a known name gets an empty
// NOERROR answer.
inline constexpr uint16_t kDnsTypeA = 1;
inline constexpr uint16_t kDnsTypePtr = 12;
inline constexpr uint16_t kDnsTypeAaaa = 28;
inline constexpr uint16_t kDnsClassIn = 1;
// The TTL of local answers, as Docker's resolver (respTTL).
inline constexpr uint32_t kDnsTtl = 600;

enum class DnsRcode : uint8_t {
  NoError = 0,
  FormErr = 1,
  ServFail = 2,
  NxDomain = 3,
  NotImp = 4,
  Refused = 5,
};

// The question of a DNS message, and the header fields the server acts on.
struct DnsQuery {
  uint16_t id = 0;
  std::string name;  // lower-case, no trailing dot; "" for the root
  uint16_t qtype = 0;
  uint16_t qclass = kDnsClassIn;
  uint8_t opcode = 0;     // 0 QUERY
  bool response = false;  // QR: a response rather than a query
};

// Invalid when `packet` is not a DNS message (libldns cannot parse it) or does not carry
// exactly one question.
[[nodiscard]] Result<DnsQuery> parse_dns_query(std::span<const uint8_t> packet);

// What to answer. With NoError: A or AAAA records for `addresses` of the question's
// family (the others are left out), or one PTR record for `ptr` (a name, no trailing dot)
// when the question is PTR; neither is an empty answer. Other rcodes carry no records.
struct DnsAnswer {
  DnsRcode rcode = DnsRcode::NoError;
  std::vector<IpAddress> addresses;
  std::string ptr;
};

// The reply to `query_packet`: its id, RD and question (in the case it was asked), RA set,
// records with TTL kDnsTtl. Records that do not fit in `max_size` bytes are dropped and
// TC is set (512 over UDP, since the reply carries no EDNS option; 65535 over TCP).
// Invalid when `query_packet` does not parse or `ptr` is not a valid name.
[[nodiscard]] Result<std::vector<uint8_t>> build_dns_answer(std::span<const uint8_t> query_packet,
                                                            const DnsAnswer& answer,
                                                            size_t max_size = 512);

// The address a reverse name stands for: "5.0.1.10.in-addr.arpa" -> 10.1.0.5, and the 32
// nibbles of an ip6.arpa name; nullopt for any other name (a partial one included).
std::optional<IpAddress> address_from_reverse_name(std::string_view name);

// An upstream server, "192.0.2.53", "192.0.2.53:5353", "fd00::53" or "[fd00::53]:5353".
struct DnsUpstream {
  IpAddress addr;
  uint16_t port = 53;

  // Invalid names the text.
  [[nodiscard]] static Result<DnsUpstream> parse(std::string_view text);
  std::string str() const;
  auto operator<=>(const DnsUpstream&) const = default;
};

}  // namespace silo::network
