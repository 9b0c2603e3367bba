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

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
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

// The engine's answer for `name` (lower-case, no trailing dot) asked of the listener
// `listener` by `client`: the addresses of that family; an empty vector for a name Silo
// knows with no address of that family (NOERROR, no records); nullopt for a name Silo
// does not know (relayed upstream).
using DnsLookup = std::function<std::optional<std::vector<IpAddress>>(
    const std::string& listener, const IpAddress& client, const std::string& name, Family family)>;
// The name of a container address (PTR); nullopt relays the question upstream.
using DnsReverse =
    std::function<std::optional<std::string>(const std::string& listener, const IpAddress& addr)>;

// One thread serving every listener: poll() over the sockets and an eventfd that wakes it
// when listeners change. The callbacks run on that thread without the server's lock held,
// so they may take the engine's locks while the engine calls listen() or unlisten() under
// them; they must not destroy the server.
//
// Forwarding: the raw query goes over UDP to the first upstream with a fresh random id
// (from a socket made in the listener's namespace); after `upstream_timeout` without an
// answer, or on SERVFAIL or REFUSED, to the next; the answer is relayed to the client
// with its own id. When every upstream has failed, or there are none, the client gets
// SERVFAIL, as from Docker's resolver. Queries over TCP are answered locally in the same
// way, and unknown names among them are relayed to the upstream over UDP too (a
// truncated upstream answer reaches the client with TC set).
class DnsServer {
 public:
  DnsServer(DnsLookup lookup, DnsReverse reverse, std::vector<DnsUpstream> upstreams,
            std::chrono::milliseconds upstream_timeout = std::chrono::seconds(2));
  // Stops the thread and closes every socket.
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  // Listens on addr:port over UDP and TCP inside the namespace `netns_fd` (the sockets are
  // made there; the caller never changes namespace), and returns the port (with port 0,
  // the one the kernel chose for UDP; TCP takes the same number). `key` names the listener
  // (a network id) for the callbacks; listening again under a key replaces its listener
  // (the old one is closed first, even when the new one fails). Starts the server thread
  // on first use. Conflict when the address is in use ("... is in use; another DNS server
  // listens there"); otherwise the errno's code, naming the address.
  [[nodiscard]] Result<uint16_t> listen(const std::string& key, int netns_fd, const IpAddress& addr,
                                        uint16_t port = 53);
  // Closes the listener's sockets before it returns (the port is free again); queries
  // still being forwarded for it are dropped. Nothing when `key` is not listening.
  void unlisten(const std::string& key);
  // Used for queries forwarded from now on.
  void set_upstreams(std::vector<DnsUpstream> upstreams);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace silo::network
