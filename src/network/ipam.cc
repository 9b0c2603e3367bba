#include "network/ipam.h"

#include <algorithm>

namespace silo::network {

namespace {

using u128 = unsigned __int128;

std::string short_id(const std::string& id) {
  return id.size() > 7 ? id.substr(0, 7) + "…" : id;
}

// IPv4 subnets lose their network and broadcast addresses; IPv6 subnets their
// subnet-router anycast address (RFC 4291 2.6.1), which is the network address.
bool reserved_by_subnet(const Prefix& subnet, const IpAddress& a) {
  if (a == subnet.first()) return true;
  return a.family == Family::V4 && subnet.len < 31 && a == subnet.last();
}

const Prefix& dynamic_range(const IpamSubnet& s) {
  return s.ip_range ? *s.ip_range : s.subnet;
}

bool dynamic_usable(const IpamSubnet& s, const IpAddress& a) {
  return dynamic_range(s).contains(a) && !reserved_by_subnet(s.subnet, a) &&
         !s.allocated.contains(a);
}

std::string u128_str(u128 n) {
  if (n == 0) return "0";
  std::string out;
  for (; n; n /= 10) out.insert(out.begin(), char('0' + int(n % 10)));
  return out;
}

Result<IpAddress> parse_in(const Prefix& subnet, const std::string& text, std::string_view what) {
  auto a = IpAddress::parse(text);
  if (!a) return wrap(a.error(), what);
  if (!subnet.contains(*a))
    return fail(Code::Invalid, std::string(what) + " " + a->str() + " is not in subnet " +
                                   subnet.str() + "; pick an address inside it");
  if (reserved_by_subnet(subnet, *a))
    return fail(Code::Invalid, std::string(what) + " " + a->str() + " is the " +
                                   (*a == subnet.first() ? "network" : "broadcast") +
                                   " address of " + subnet.str() + "; pick a host address");
  return *a;
}

}  // namespace

std::string Holder::describe() const {
  if (kind == "gateway") return "the gateway of this network";
  if (kind == "aux-address") return "aux-address " + id;
  std::string who = kind.empty() ? "container" : kind;
  if (name.empty()) return who + " " + short_id(id);
  return who + " " + name + " (" + short_id(id) + ")";
}

std::vector<DefaultPool> default_pools(Family family) {
  if (family == Family::V6) return {{*Prefix::parse("fd00:5170::/48"), 64}};
  return {{*Prefix::parse("172.16.0.0/12"), 16}, {*Prefix::parse("192.168.0.0/16"), 20}};
}

Result<PickedSubnet> pick_subnet(std::span<const DefaultPool> pools,
                                 std::span<const Prefix> host_routes,
                                 std::span<const Prefix> used) {
  std::string note;
  for (const auto& pool : pools) {
    if (pool.size < pool.base.len || pool.size > pool.base.addr.bits()) continue;
    // Bounded: a pool of more than 65536 subnets is only searched at its start.
    u128 count = std::min<u128>((u128)1 << std::min(pool.size - pool.base.len, 16), 65536);
    u128 step = (u128)1 << (pool.base.addr.bits() - pool.size);
    u128 base = to_number(pool.base.first());
    for (u128 i = 0; i < count; ++i) {
      Prefix cand{from_number(pool.base.family(), base + i * step), pool.size};
      bool in_use =
          std::any_of(used.begin(), used.end(), [&](auto& p) { return p.overlaps(cand); });
      if (in_use) continue;  // our own networks' routes are host routes too: check them first
      auto route = std::find_if(host_routes.begin(), host_routes.end(),
                                [&](auto& r) { return r.len > 0 && r.overlaps(cand); });
      if (route != host_routes.end()) {
        if (note.empty()) note = cand.str() + " overlaps host route " + route->network().str();
        continue;
      }
      if (!note.empty()) note += "; using " + cand.str();
      return PickedSubnet{cand, note};
    }
  }
  return fail(Code::Unavailable, "no free subnet in the default address pools (" +
                                     (note.empty() ? std::string("all in use by networks") : note) +
                                     "); give one with --subnet or remove an unused network");
}

Result<IpamSubnet> make_subnet(const SubnetRequest& req, const std::optional<Prefix>& picked,
                               std::span<const NamedPrefix> others) {
  IpamSubnet s;
  if (!req.subnet.empty()) {
    auto p = Prefix::parse(req.subnet);
    if (!p) return wrap(p.error(), "subnet");
    if (!p->is_network())
      return fail(Code::Invalid, "invalid subnet " + p->str() +
                                     ": host bits are set; did you mean " + p->network().str() +
                                     "?");
    s.subnet = *p;
  } else if (picked) {
    s.subnet = *picked;
  } else {
    return fail(Code::Invalid, "no subnet given and none picked from the default pools");
  }
  int max_len = s.subnet.family() == Family::V4 ? 30 : 127;
  if (s.subnet.len > max_len)
    return fail(Code::Invalid, "subnet " + s.subnet.str() +
                                   " is too small: the longest prefix is /" +
                                   std::to_string(max_len));
  for (const auto& [net, p] : others)
    if (p.overlaps(s.subnet))
      return fail(Code::Conflict, "subnet " + s.subnet.str() + " overlaps " + p.str() +
                                      " of network " + net + "; pick another --subnet");
  if (!req.ip_range.empty()) {
    auto r = Prefix::parse(req.ip_range);
    if (!r) return wrap(r.error(), "ip-range");
    if (!r->is_network() || !s.subnet.contains(*r))
      return fail(Code::Invalid, "ip-range " + r->str() + " is not a prefix inside subnet " +
                                     s.subnet.str() + "; e.g. " + s.subnet.str());
    s.ip_range = *r;
  }
  if (!req.gateway.empty()) {
    auto g = parse_in(s.subnet, req.gateway, "gateway");
    if (!g) return std::unexpected(g.error());
    s.gateway = *g;
  } else {
    s.gateway = from_number(s.subnet.family(), to_number(s.subnet.first()) + 1);
  }
  s.allocated[s.gateway] = Holder{"gateway", "", ""};
  for (const auto& [key, text] : req.aux_addresses) {
    auto a = parse_in(s.subnet, text, "aux-address " + key);
    if (!a) return std::unexpected(a.error());
    if (auto it = s.allocated.find(*a); it != s.allocated.end())
      return fail(Code::Conflict, "aux-address " + key + " " + a->str() + " is already " +
                                      it->second.describe() + "; pick another address");
    s.allocated[*a] = Holder{"aux-address", key, ""};
  }
  return s;
}

unsigned __int128 free_count(const IpamSubnet& s) {
  const Prefix& r = dynamic_range(s);
  u128 total = to_number(r.last()) - to_number(r.first()) + 1;
  if (r.contains(s.subnet.first())) --total;
  if (s.subnet.family() == Family::V4 && s.subnet.len < 31 && r.contains(s.subnet.last())) --total;
  for (const auto& [a, h] : s.allocated)
    if (r.contains(a) && !reserved_by_subnet(s.subnet, a)) --total;
  return total;
}

Result<IpAddress> allocate(IpamSubnet& s, const Holder& holder,
                           const std::optional<IpAddress>& wanted) {
  if (wanted) {
    if (wanted->family != s.subnet.family() || !s.subnet.contains(*wanted))
      return fail(Code::Invalid, "address " + wanted->str() + " is not in subnet " +
                                     s.subnet.str() +
                                     " of this network; pick an address inside it");
    if (reserved_by_subnet(s.subnet, *wanted))
      return fail(Code::Invalid, "address " + wanted->str() + " is reserved in subnet " +
                                     s.subnet.str() + " (network or broadcast address)");
    if (auto it = s.allocated.find(*wanted); it != s.allocated.end())
      return fail(Code::Conflict, "address " + wanted->str() + " is in use by " +
                                      it->second.describe() + "; pick another address");
    s.allocated[*wanted] = holder;
    return *wanted;
  }
  if (free_count(s) == 0)
    return fail(Code::Unavailable, "no free address left in " + dynamic_range(s).str() + " (" +
                                       std::to_string(s.allocated.size()) +
                                       " in use); use a larger --subnet or --ip-range");
  const Prefix& r = dynamic_range(s);
  u128 lo = to_number(r.first()), size = to_number(r.last()) - lo + 1;
  u128 start = s.last && r.contains(*s.last) ? to_number(*s.last) - lo + 1 : 0;
  // Terminates within allocated.size() + 3 steps: free_count() said one address is free.
  for (u128 i = 0; i < size; ++i) {
    IpAddress cand = from_number(r.family(), lo + (start + i) % size);
    if (!dynamic_usable(s, cand)) continue;
    s.allocated[cand] = holder;
    s.last = cand;
    return cand;
  }
  return fail(Code::Internal, "no free address found in " + r.str() + " although " +
                                  u128_str(free_count(s)) + " are counted free");
}

Status release(IpamSubnet& s, const IpAddress& address, const Holder& holder) {
  auto it = s.allocated.find(address);
  if (it == s.allocated.end())
    return fail(Code::NotFound, "address " + address.str() + " is not allocated in " +
                                    s.subnet.str() + " (released already?)");
  if (!(it->second == holder))
    return fail(Code::Conflict, "address " + address.str() + " is held by " +
                                    it->second.describe() + ", not by " + holder.describe());
  s.allocated.erase(it);
  return {};
}

nlohmann::json to_json(const IpamSubnet& s) {
  nlohmann::json j{{"subnet", s.subnet.str()}, {"gateway", s.gateway.str()}};
  if (s.ip_range) j["ip_range"] = s.ip_range->str();
  if (s.last) j["last"] = s.last->str();
  auto& arr = j["allocated"] = nlohmann::json::array();
  for (const auto& [a, h] : s.allocated)
    arr.push_back({{"address", a.str()}, {"kind", h.kind}, {"id", h.id}, {"name", h.name}});
  return j;
}

Result<IpamSubnet> subnet_from_json(const nlohmann::json& j) {
  IpamSubnet s;
  try {
    auto p = Prefix::parse(j.at("subnet").get<std::string>());
    auto g = IpAddress::parse(j.at("gateway").get<std::string>());
    if (!p || !g) return fail(Code::Invalid, "stored IPAM subnet is malformed: " + j.dump());
    s.subnet = *p;
    s.gateway = *g;
    if (j.contains("ip_range")) {
      auto r = Prefix::parse(j["ip_range"].get<std::string>());
      if (!r) return wrap(r.error(), "stored IPAM ip-range");
      s.ip_range = *r;
    }
    if (j.contains("last")) {
      auto l = IpAddress::parse(j["last"].get<std::string>());
      if (!l) return wrap(l.error(), "stored IPAM cursor");
      s.last = *l;
    }
    for (const auto& e : j.at("allocated")) {
      auto a = IpAddress::parse(e.at("address").get<std::string>());
      if (!a) return wrap(a.error(), "stored IPAM allocation");
      s.allocated[*a] = Holder{e.at("kind"), e.at("id"), e.at("name")};
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(Code::Invalid, std::string("stored IPAM subnet is malformed: ") + e.what());
  }
  return s;
}

}  // namespace silo::network
