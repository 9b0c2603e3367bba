#include "network/address.h"

#include <arpa/inet.h>

namespace silo::network {

namespace {

unsigned __int128 host_mask(int bits, int len) {
  if (len >= bits) return 0;
  unsigned __int128 all =
      bits == 128 ? ~(unsigned __int128)0 : (((unsigned __int128)1 << bits) - 1);
  return all >> len;
}

}  // namespace

Result<IpAddress> IpAddress::parse(std::string_view text) {
  std::string s(text);
  IpAddress a;
  if (::inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = Family::V4;
    return a;
  }
  if (::inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = Family::V6;
    return a;
  }
  return fail(Code::Invalid, "invalid IP address \"" + s + "\": expected e.g. 10.1.0.5 or fd00::5");
}

std::string IpAddress::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family == Family::V4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

unsigned __int128 to_number(const IpAddress& a) {
  unsigned __int128 n = 0;
  int count = a.family == Family::V4 ? 4 : 16;
  for (int i = 0; i < count; ++i) n = (n << 8) | a.bytes[i];
  return n;
}

IpAddress from_number(Family family, unsigned __int128 n) {
  IpAddress a;
  a.family = family;
  int count = family == Family::V4 ? 4 : 16;
  for (int i = count - 1; i >= 0; --i) {
    a.bytes[i] = static_cast<uint8_t>(n & 0xff);
    n >>= 8;
  }
  return a;
}

Result<Prefix> Prefix::parse(std::string_view text) {
  auto slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr)
    return fail(Code::Invalid, "invalid prefix \"" + std::string(text) +
                                   "\": expected e.g. 10.1.0.0/16 or fd00::/64");
  Prefix p{*addr, addr->bits()};
  if (slash == std::string_view::npos) return p;
  std::string_view len = text.substr(slash + 1);
  int n = 0;
  if (len.empty() || len.size() > 3) n = -1;
  for (char c : len) n = (c >= '0' && c <= '9' && n >= 0) ? n * 10 + (c - '0') : -1;
  if (n < 0 || n > addr->bits())
    return fail(Code::Invalid, "invalid prefix length in \"" + std::string(text) +
                                   "\": must be 0 to " + std::to_string(addr->bits()));
  p.len = n;
  return p;
}

std::string Prefix::str() const {
  return addr.str() + "/" + std::to_string(len);
}

Prefix Prefix::network() const {
  unsigned __int128 n = to_number(addr) & ~host_mask(addr.bits(), len);
  return Prefix{from_number(addr.family, n), len};
}

IpAddress Prefix::last() const {
  return from_number(addr.family, to_number(addr) | host_mask(addr.bits(), len));
}

bool Prefix::contains(const IpAddress& a) const {
  if (a.family != addr.family) return false;
  unsigned __int128 mask = ~host_mask(addr.bits(), len);
  return (to_number(a) & mask) == (to_number(addr) & mask);
}

std::string_view family_name(Family f) {
  return f == Family::V4 ? "IPv4" : "IPv6";
}

}  // namespace silo::network
