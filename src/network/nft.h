#pragma once
// nftables plans for Silo's own table `inet silo` (it never touches another table):
// masquerade, isolation between networks, port mappings (DNAT from outside, from the
// host itself including 127.0.0.1, hairpin) and a firewall accept per mapping.
//
// A plan is a list of nft commands applied as ONE transaction. Every rule carries a
// comment tag, "silo:net=<network id>" or "silo:ep=<endpoint id>", so it can be found
// (by handle) and removed exactly, and reconcile can see what the table holds.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "network/address.h"

namespace silo::network {

inline constexpr std::string_view kNftTable = "inet silo";

// One published port: [host_ip:]host_port -> container_port / proto.
struct PortMapping {
  std::string proto = "tcp";         // tcp or udp
  std::optional<IpAddress> host_ip;  // none: every local address, 127.0.0.1 included
  uint16_t host_port = 0;
  uint16_t container_port = 0;

  // "-p" syntax: "8080:80", "127.0.0.1:8080:80/udp", "80" (host port = container port).
  [[nodiscard]] static Result<PortMapping> parse(std::string_view text);
  std::string str() const;  // "0.0.0.0:8080->80/tcp"
};

// What the firewall needs to know about a bridge network.
struct NftNetwork {
  std::string id;
  std::string bridge;
  std::vector<Prefix> subnets;
  bool masquerade = true;  // false for --internal style networks
};

// What the firewall needs to know about an endpoint on a bridge network.
struct NftEndpoint {
  std::string id;
  std::string bridge;
  std::vector<IpAddress> addresses;  // one per family
  std::vector<PortMapping> ports;
};

// An nft script to run as one transaction.
struct NftPlan {
  std::vector<std::string> commands;
  std::string script() const;  // commands joined by newlines
  bool empty() const { return commands.empty(); }
};

std::string network_tag(std::string_view id);   // "silo:net=<id>"
std::string endpoint_tag(std::string_view id);  // "silo:ep=<id>"

// The table, its chains and the `bridges` set ("add" is idempotent in nft).
NftPlan plan_table();
// Table + the network's masquerade, isolation, forwarding and bridge-set element.
NftPlan plan_add_network(const NftNetwork& net);
// Table + the endpoint's DNAT (prerouting and output) and firewall accept rules.
// Invalid when a mapping's host address family has no container address.
[[nodiscard]] Result<NftPlan> plan_add_endpoint(const NftEndpoint& ep);

// A rule as listed from the kernel.
struct NftRule {
  std::string chain;
  uint64_t handle = 0;
  std::string comment;
};

// What `inet silo` holds now.
struct NftState {
  bool exists = false;
  std::vector<NftRule> rules;
  std::vector<std::string> bridges;  // elements of the `bridges` set
};

// Parses `nft -j -a list table inet silo` output.
[[nodiscard]] Result<NftState> parse_nft_json(std::string_view json);

// Deletes every rule tagged `tag` (by handle), and `bridge` from the bridges set when
// given and present. Empty when there is nothing to remove.
NftPlan plan_remove(const NftState& state, std::string_view tag, const std::string& bridge = {});

// Runs nft scripts in a network namespace (given by fd).
class Nftables {
 public:
  virtual ~Nftables() = default;
  // Applies the script as one transaction; the error carries nft's message.
  virtual Status run(int ns, const std::string& script) = 0;
  // JSON of `list table inet silo` with handles; "" when the table does not exist.
  virtual Result<std::string> list_json(int ns) = 0;
};

// The real one, over libnftables.
std::unique_ptr<Nftables> make_nftables();

// Lists what Silo's table holds (for reconcile and removal).
[[nodiscard]] Result<NftState> list_silo(Nftables& nft, int ns);

}  // namespace silo::network
