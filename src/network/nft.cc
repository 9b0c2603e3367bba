#include "network/nft.h"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

namespace silo::network {

namespace {

const std::string kT = "inet silo";

std::string nft_quote(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}
std::string comment(std::string_view tag) {
  return " comment " + nft_quote(tag);
}

// "ip" or "ip6", the nft keyword for an address's family.
std::string l3(Family f) {
  return f == Family::V4 ? "ip" : "ip6";
}
std::string nfproto(Family f) {
  return f == Family::V4 ? "ipv4" : "ipv6";
}
std::string to_addr(const IpAddress& a, uint16_t port) {
  return a.family == Family::V4 ? a.str() + ":" + std::to_string(port)
                                : "[" + a.str() + "]:" + std::to_string(port);
}

Result<uint16_t> parse_port(std::string_view s, std::string_view whole) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v == 0 || v > 65535)
    return fail(Code::Invalid, "invalid port \"" + std::string(s) + "\" in \"" +
                                   std::string(whole) + "\": expected 1 to 65535");
  return static_cast<uint16_t>(v);
}

// Rules for one mapping to one container address.
void add_mapping(NftPlan& p, const NftEndpoint& ep, const PortMapping& m, const IpAddress& ctr) {
  std::string tag = comment(endpoint_tag(ep.id));
  Family f = ctr.family;
  std::string match = "meta nfproto " + nfproto(f) + " fib daddr type local";
  if (m.host_ip) match += " " + l3(f) + " daddr " + m.host_ip->str();
  match += " " + m.proto + " dport " + std::to_string(m.host_port);
  std::string dnat = " dnat " + l3(f) + " to " + to_addr(ctr, m.container_port);
  // From other hosts and from containers (hairpin): prerouting. From the host itself,
  // 127.0.0.1 included: output (the bridge's route_localnet lets 127.0.0.1 out).
  p.commands.push_back("add rule " + kT + " prerouting " + match + dnat + tag);
  p.commands.push_back("add rule " + kT + " output " + match + dnat + tag);
  // Inserted at the top of forward, ahead of the network's "drop what nobody asked for".
  p.commands.push_back("insert rule " + kT + " forward oifname " + nft_quote(ep.bridge) + " " +
                       l3(f) + " daddr " + ctr.str() + " " + m.proto + " dport " +
                       std::to_string(m.container_port) + " ct status dnat accept" + tag);
}

}  // namespace

Result<PortMapping> PortMapping::parse(std::string_view text) {
  PortMapping m;
  std::string_view rest = text;
  if (auto slash = rest.rfind('/'); slash != std::string_view::npos) {
    m.proto = std::string(rest.substr(slash + 1));
    rest = rest.substr(0, slash);
    if (m.proto != "tcp" && m.proto != "udp")
      return fail(Code::Invalid, "invalid protocol \"" + m.proto + "\" in \"" + std::string(text) +
                                     "\": expected tcp or udp");
  }
  auto colon = rest.rfind(':');
  auto cport = parse_port(colon == std::string_view::npos ? rest : rest.substr(colon + 1), text);
  if (!cport) return std::unexpected(cport.error());
  m.container_port = m.host_port = *cport;
  if (colon == std::string_view::npos) return m;
  std::string_view front = rest.substr(0, colon);
  auto hcolon = front.rfind(':');
  auto hport =
      parse_port(hcolon == std::string_view::npos ? front : front.substr(hcolon + 1), text);
  if (!hport) return std::unexpected(hport.error());
  m.host_port = *hport;
  if (hcolon != std::string_view::npos) {
    std::string_view host = front.substr(0, hcolon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    auto ip = IpAddress::parse(host);
    if (!ip) return wrap(ip.error(), "host address in \"" + std::string(text) + "\"");
    if (to_number(*ip) != 0) m.host_ip = *ip;  // 0.0.0.0 and :: mean every address
  }
  return m;
}

std::string PortMapping::str() const {
  std::string host = host_ip ? host_ip->str() : "0.0.0.0";
  return host + ":" + std::to_string(host_port) + "->" + std::to_string(container_port) + "/" +
         proto;
}

std::string NftPlan::script() const {
  std::string out;
  for (const auto& c : commands) out += c + "\n";
  return out;
}

std::string network_tag(std::string_view id) {
  return "silo:net=" + std::string(id);
}
std::string endpoint_tag(std::string_view id) {
  return "silo:ep=" + std::string(id);
}

NftPlan plan_table() {
  return {{
      "add table " + kT,
      "add set " + kT + " bridges { type ifname; }",
      "add chain " + kT +
          " prerouting { type nat hook prerouting priority dstnat; policy accept; }",
      "add chain " + kT + " output { type nat hook output priority -100; policy accept; }",
      "add chain " + kT +
          " postrouting { type nat hook postrouting priority srcnat; policy accept; }",
      "add chain " + kT + " forward { type filter hook forward priority filter; policy accept; }",
  }};
}

NftPlan plan_add_network(const NftNetwork& net) {
  NftPlan p = plan_table();
  std::string tag = comment(network_tag(net.id));
  std::string br = nft_quote(net.bridge);
  auto add = [&](std::string chain, std::string rule) {
    p.commands.push_back("add rule " + kT + " " + chain + " " + rule + tag);
  };
  p.commands.push_back("add element " + kT + " bridges { " + br + " }");
  if (net.masquerade)
    for (const auto& s : net.subnets)
      add("postrouting",
          l3(s.family()) + " saddr " + s.network().str() + " oifname != " + br + " masquerade");
  // Published ports reached from the host as 127.0.0.1: the reply must come back to the
  // gateway, not to a loopback address the container cannot route to (as Docker does
  // with route_localnet and MASQUERADE for 127.0.0.0/8).
  add("postrouting", "oifname " + br + " ip saddr 127.0.0.0/8 masquerade");
  // Hairpin: a container reaching a published port of its own network; without the
  // masquerade the answer would go straight back over the bridge and be dropped. Matched
  // by source, not by input interface: with br_netfilter loaded the DNATed packet is
  // bridged back out of its port, and the postrouting hook then sees no input interface.
  if (net.masquerade)
    for (const auto& s : net.subnets)
      add("postrouting", "oifname " + br + " " + l3(s.family()) + " saddr " + s.network().str() +
                             " ct status dnat masquerade");
  add("forward", "iifname " + br + " oifname @bridges oifname != " + br + " drop");
  add("forward", "oifname " + br + " ct state established,related accept");
  add("forward", "iifname " + br + " accept");
  add("forward", "oifname " + br + " drop");
  return p;
}

Result<NftPlan> plan_add_endpoint(const NftEndpoint& ep) {
  NftPlan p = plan_table();
  for (const auto& m : ep.ports) {
    bool mapped = false;
    for (const auto& a : ep.addresses) {
      if (m.host_ip && m.host_ip->family != a.family) continue;
      add_mapping(p, ep, m, a);
      mapped = true;
    }
    if (!mapped)
      return fail(Code::Invalid,
                  "publish " + m.str() + ": the endpoint has no " +
                      std::string(family_name(m.host_ip ? m.host_ip->family : Family::V4)) +
                      " address to map it to");
  }
  return p;
}

Result<NftState> parse_nft_json(std::string_view json) {
  NftState st;
  if (json.empty()) return st;
  try {
    auto j = nlohmann::json::parse(json);
    for (const auto& item : j.at("nftables")) {
      if (item.contains("table")) st.exists = true;
      if (auto r = item.find("rule"); r != item.end()) {
        NftRule rule{r->at("chain"), r->at("handle").get<uint64_t>(), r->value("comment", "")};
        st.rules.push_back(std::move(rule));
      }
      if (auto s = item.find("set"); s != item.end() && s->value("name", "") == "bridges")
        for (const auto& e : s->value("elem", nlohmann::json::array()))
          if (e.is_string()) st.bridges.push_back(e.get<std::string>());
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(Code::Internal, std::string("parse nft listing of table inet silo: ") + e.what());
  }
  return st;
}

NftPlan plan_remove(const NftState& state, std::string_view tag, const std::string& bridge) {
  NftPlan p;
  for (const auto& r : state.rules)
    if (r.comment == tag)
      p.commands.push_back("delete rule " + kT + " " + r.chain + " handle " +
                           std::to_string(r.handle));
  if (!bridge.empty() &&
      std::find(state.bridges.begin(), state.bridges.end(), bridge) != state.bridges.end())
    p.commands.push_back("delete element " + kT + " bridges { " + nft_quote(bridge) + " }");
  return p;
}

Result<NftState> list_silo(Nftables& nft, int ns) {
  auto json = nft.list_json(ns);
  if (!json) return wrap(json.error(), "list nftables table inet silo");
  return parse_nft_json(*json);
}

}  // namespace silo::network
