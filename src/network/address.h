#pragma once
// IP addresses and prefixes (IPv4 and IPv6) as plain values: parse, print, compare,
// step through a range. The IPAM, the link plans and the nftables plans all speak these.

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace silo::network {

enum class Family { V4, V6 };

// An IPv4 or IPv6 address. IPv4 keeps its 4 bytes at the front of `bytes`.
struct IpAddress {
  Family family = Family::V4;
  std::array<uint8_t, 16> bytes{};

  // "10.1.0.5" or "fd00::5"; Invalid names the text when it is neither.
  [[nodiscard]] static Result<IpAddress> parse(std::string_view text);
  std::string str() const;
  int bits() const { return family == Family::V4 ? 32 : 128; }
  auto operator<=>(const IpAddress&) const = default;
};

// The address as a number, and back (IPv6 needs all 128 bits).
unsigned __int128 to_number(const IpAddress& a);
IpAddress from_number(Family family, unsigned __int128 n);

// A network prefix "10.1.0.0/16". `addr` may carry host bits when it names an interface
// address ("10.1.0.1/16"); network() drops them.
struct Prefix {
  IpAddress addr;
  int len = 0;

  // "10.1.0.0/16", "fd00::/64"; a bare address is a host prefix (/32 or /128).
  [[nodiscard]] static Result<Prefix> parse(std::string_view text);
  std::string str() const;
  Family family() const { return addr.family; }
  // The prefix with host bits cleared.
  Prefix network() const;
  // True when addr has no host bits set.
  bool is_network() const { return network().addr == addr; }
  IpAddress first() const { return network().addr; }
  IpAddress last() const;
  bool contains(const IpAddress& a) const;
  bool contains(const Prefix& p) const { return p.len >= len && contains(p.addr); }
  bool overlaps(const Prefix& p) const { return contains(p) || p.contains(*this); }
  auto operator<=>(const Prefix&) const = default;
};

std::string_view family_name(Family f);

}  // namespace silo::network
