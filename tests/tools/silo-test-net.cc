// silo-test-net: drives the network library for tests/integration/network. Keeps its
// networks, IPAM state and endpoints in a JSON file (as the engine will in SQLite).
//
//   silo-test-net STATE HOST_NS network-create NAME [--driver nat|transparent|l2bridge]
//       [--subnet S] [--gateway G] [--ip-range R] [--aux-address K=IP] [--bridge BR]
//       [--internal] [-o KEY=VALUE]...
//   silo-test-net STATE HOST_NS connect NETWORK ENDPOINT CONTAINER_NS [--ip IP]
//       [--mac-address MAC] [-p SPEC]...
//       (transparent without --subnet: the address is leased by DHCP)
//   silo-test-net STATE HOST_NS dhcp-renew NETWORK ENDPOINT
//   silo-test-net STATE HOST_NS disconnect NETWORK ENDPOINT
//   silo-test-net STATE HOST_NS network-delete NAME
//   silo-test-net STATE HOST_NS reconcile      (removes what the state file does not know)
//   silo-test-net STATE HOST_NS nft-list       (one "chain handle comment" line per rule)
//
// Errors go to stderr as "silo-test-net: <message>" with exit status 1.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/id.h"
#include "network/dhcp.h"
#include "network/ipam.h"
#include "network/l2bridge.h"
#include "network/nat.h"
#include "network/netns.h"
#include "network/reconcile.h"
#include "network/transparent.h"

using namespace silo;
using namespace silo::network;
using nlohmann::json;

namespace {

struct Args {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> opts;
  std::string get(const std::string& k) const {
    auto it = opts.find(k);
    return it == opts.end() ? "" : it->second;
  }
};

// What every command works with.
struct Ctx {
  Netlink& nl;
  Nftables& nft;
  NatDriver& nat;
  std::string host_ns;
};

Args parse_args(int argc, char** argv, int from) {
  Args a;
  for (int i = from; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--internal")
      a.opts.emplace(s, "1");
    else if (s.starts_with("-") && i + 1 < argc)
      a.opts.emplace(s, argv[++i]);
    else
      a.positional.push_back(s);
  }
  return a;
}

json load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return json{{"networks", json::object()}, {"endpoints", json::object()}};
  return json::parse(in);
}

void save(const std::string& path, const json& j) {
  std::ofstream(path) << j.dump(2);
}

Result<NatNetwork> network_of(const json& n) {
  NatNetwork net{n["id"], n["name"], n["bridge"], {}, std::nullopt, n.value("internal", false)};
  for (const auto& s : n["subnets"]) {
    auto sub = subnet_from_json(s);
    if (!sub) return std::unexpected(sub.error());
    net.gateways.push_back(Prefix{sub->gateway, sub->subnet.len});
  }
  return net;
}

NatEndpoint endpoint_of(const json& e) {
  NatEndpoint ep{e["id"], e["netns"], "eth0", {}, "", {}};
  for (const auto& a : e["addresses"]) ep.addresses.push_back(*Prefix::parse(a.get<std::string>()));
  for (const auto& p : e["ports"]) ep.ports.push_back(*PortMapping::parse(p.get<std::string>()));
  return ep;
}

std::map<std::string, std::string> options_of(const Args& a) {
  std::map<std::string, std::string> out;
  for (auto [it, end] = a.opts.equal_range("-o"); it != end; ++it) {
    auto eq = it->second.find('=');
    out[it->second.substr(0, eq)] = eq == std::string::npos ? "" : it->second.substr(eq + 1);
  }
  return out;
}

std::vector<NamedPrefix> subnets_in_use(const json& st) {
  std::vector<NamedPrefix> out;
  for (const auto& [n, v] : st["networks"].items())
    for (const auto& s : v["subnets"])
      out.emplace_back(n, *Prefix::parse(s["subnet"].get<std::string>()));
  return out;
}

TransparentNetwork transparent_of(const json& n) {
  TransparentNetwork net{n["id"], n["name"], n["parent"], std::nullopt, std::nullopt};
  if (!n["subnets"].empty()) {
    auto sub = subnet_from_json(n["subnets"][0]);
    net.gateway = Prefix{sub->gateway, sub->subnet.len};
  }
  return net;
}

TransparentEndpoint transparent_endpoint_of(const json& e) {
  TransparentEndpoint ep{e["id"], e["netns"], "eth0", std::nullopt, e["mac"]};
  if (!e["addresses"].empty()) ep.address = *Prefix::parse(e["addresses"][0].get<std::string>());
  return ep;
}

// Gives an endpoint's static address back to its network's IPAM.
Status release_address(json& n, const json& e) {
  if (n["subnets"].empty() || e["addresses"].empty()) return {};
  auto sub = subnet_from_json(n["subnets"][0]);
  if (!sub) return std::unexpected(sub.error());
  auto addr = Prefix::parse(e["addresses"][0].get<std::string>());
  SILO_TRY(release(*sub, addr->addr, Holder{"container", e["id"], e["name"]}));
  n["subnets"][0] = to_json(*sub);
  return {};
}

// A parent interface and, for a static network, a subnet.
L2BridgeNetwork l2bridge_of(const json& n) {
  auto sub = subnet_from_json(n["subnets"][0]);
  return {n["id"], n["name"], n["parent"], Prefix{sub->gateway, sub->subnet.len}, std::nullopt};
}
L2BridgeEndpoint l2bridge_endpoint_of(const json& e) {
  return {e["id"], e["netns"], "eth0", *Prefix::parse(e["addresses"][0].get<std::string>())};
}

// transparent and l2bridge: a parent (uplink) interface and, for a static network, a subnet.
Status create_transparent(json& st, Ctx& c, const Args& a, const std::string& name,
                          const SubnetRequest& req, const std::string& driver) {
  auto parent = parent_interface(options_of(a));
  if (!parent) return wrap(parent.error(), "create network " + name);
  json n{{"id", new_id()},
         {"name", name},
         {"driver", driver},
         {"parent", *parent},
         {"subnets", json::array()}};
  if (!req.subnet.empty()) {
    auto others = subnets_in_use(st);
    auto sub = make_subnet(req, std::nullopt, others);
    if (!sub) return wrap(sub.error(), "create network " + name);
    n["subnets"].push_back(to_json(*sub));
  }
  if (driver == "l2bridge") {
    if (n["subnets"].empty())
      return fail(Code::Invalid,
                  "create network " + name +
                      ": l2bridge needs --subnet and --gateway of the host's network");
    L2BridgeDriver drv(c.nl, c.host_ns);
    SILO_TRY(drv.create_network(l2bridge_of(n)));
  } else {
    std::vector<NamedParent> parents;
    for (const auto& [k, v] : st["networks"].items())
      if (v.value("driver", "nat") == "transparent") parents.emplace_back(k, v["parent"]);
    TransparentDriver drv(c.nl, c.host_ns);
    SILO_TRY(drv.create_network(transparent_of(n), parents));
  }
  st["networks"][name] = n;
  std::cout << "network " << name << " driver " << driver << " parent " << *parent
            << (n["subnets"].empty() ? std::string(" dhcp")
                                     : " subnet " + n["subnets"][0]["subnet"].get<std::string>())
            << "\n";
  return {};
}

json lease_json(const DhcpLease& l) {
  return json{{"address", l.address.str()},
              {"router", l.router ? l.router->str() : ""},
              {"server", l.server.str()},
              {"lease_s", l.lease_s},
              {"t1_s", l.t1_s}};
}

DhcpLease lease_of(const json& j) {
  DhcpLease l{*Prefix::parse(j["address"].get<std::string>()),
              std::nullopt,
              *IpAddress::parse(j["server"].get<std::string>()),
              {},
              j["lease_s"],
              j["t1_s"],
              0};
  if (auto r = j["router"].get<std::string>(); !r.empty()) l.router = *IpAddress::parse(r);
  return l;
}

// DHCP from inside the container on its macvlan, then the leased address and route.
Result<DhcpLease> lease_endpoint(Ctx& c, const json& n, const TransparentEndpoint& ep,
                                 const std::string& epname) {
  auto ns = open_netns(ep.netns);
  if (!ns) return std::unexpected(ns.error());
  auto lease = dhcp_acquire(ns->get(), ep.ifname, ep.mac, epname);
  if (!lease)
    return wrap(lease.error(), "connect " + epname + " to " + n["name"].get<std::string>());
  SILO_TRY(apply_links(plan_lease(ep, lease->address, lease->router), c.nl));
  return lease;
}

Status dhcp_renew_cmd(json& st, const Args& a) {
  if (a.positional.size() < 2) return fail(Code::Invalid, "dhcp-renew needs NETWORK ENDPOINT");
  std::string key = a.positional[0] + "/" + a.positional[1];
  if (!st["endpoints"].contains(key) || !st["endpoints"][key].contains("lease"))
    return fail(Code::NotFound, "endpoint " + key + " has no DHCP lease");
  json& e = st["endpoints"][key];
  auto ns = open_netns(e["netns"]);
  if (!ns) return std::unexpected(ns.error());
  auto lease = dhcp_renew(ns->get(), "eth0", e["mac"], lease_of(e["lease"]));
  if (!lease) return std::unexpected(lease.error());
  e["lease"] = lease_json(*lease);
  std::cout << "renewed " << lease->address.str() << " lease " << lease->lease_s << "s renew after "
            << lease->t1_s << "s\n";
  return {};
}

Status connect_transparent(json& st, Ctx& c, const Args& a, json& n, const std::string& key) {
  const std::string& epname = a.positional[1];
  std::string id = new_id();
  std::string mac = generate_mac(id);
  if (auto m = a.get("--mac-address"); !m.empty()) {
    auto parsed = parse_mac(m);
    if (!parsed) return std::unexpected(parsed.error());
    mac = *parsed;
  }
  json e{{"id", id},       {"netns", a.positional[2]},   {"network", n["name"]},
         {"name", epname}, {"addresses", json::array()}, {"ports", json::array()},
         {"mac", mac}};
  if (!n["subnets"].empty()) {
    auto sub = subnet_from_json(n["subnets"][0]);
    if (!sub) return std::unexpected(sub.error());
    std::optional<IpAddress> wanted;
    if (auto ip = a.get("--ip"); !ip.empty()) {
      auto w = IpAddress::parse(ip);
      if (!w) return std::unexpected(w.error());
      wanted = *w;
    }
    auto addr = allocate(*sub, Holder{"container", id, epname}, wanted);
    if (!addr)
      return wrap(addr.error(), "connect " + epname + " to " + n["name"].get<std::string>());
    e["addresses"].push_back(Prefix{*addr, sub->subnet.len}.str());
    n["subnets"][0] = to_json(*sub);
  }
  if (n["driver"] == "l2bridge") {
    L2BridgeDriver drv(c.nl, c.host_ns);
    SILO_TRY(drv.connect(l2bridge_of(n), l2bridge_endpoint_of(e)));
    st["endpoints"][key] = e;
    std::cout << "endpoint " << epname << " id " << id << " address "
              << Prefix::parse(e["addresses"][0].get<std::string>())->addr.str() << " veth "
              << host_veth_name(id) << "\n";
    return {};
  }
  TransparentDriver drv(c.nl, c.host_ns);
  TransparentEndpoint ep = transparent_endpoint_of(e);
  SILO_TRY(drv.connect(transparent_of(n), ep));
  if (n["subnets"].empty()) {
    auto lease = lease_endpoint(c, n, ep, epname);
    if (!lease) {
      (void)drv.disconnect(transparent_of(n), ep);
      return std::unexpected(lease.error());
    }
    e["addresses"].push_back(lease->address.str());
    e["lease"] = lease_json(*lease);
  }
  st["endpoints"][key] = e;
  std::cout << "endpoint " << epname << " id " << id << " address "
            << (e["addresses"].empty()
                    ? std::string("-")
                    : Prefix::parse(e["addresses"][0].get<std::string>())->addr.str())
            << " mac " << mac << "\n";
  return {};
}

Status network_create(json& st, Ctx& c, const Args& a) {
  NatDriver& drv = c.nat;
  if (a.positional.empty()) return fail(Code::Invalid, "network-create needs a NAME");
  std::string name = a.positional[0];
  if (st["networks"].contains(name))
    return fail(Code::Conflict, "network " + name + " already exists");
  SubnetRequest req{a.get("--subnet"), a.get("--gateway"), a.get("--ip-range"), {}};
  for (auto [it, end] = a.opts.equal_range("--aux-address"); it != end; ++it) {
    auto eq = it->second.find('=');
    if (eq == std::string::npos) return fail(Code::Invalid, "--aux-address wants NAME=IP");
    req.aux_addresses[it->second.substr(0, eq)] = it->second.substr(eq + 1);
  }
  std::string driver = a.get("--driver").empty() ? "nat" : a.get("--driver");
  if (driver == "transparent" || driver == "l2bridge")
    return create_transparent(st, c, a, name, req, driver);
  if (driver != "nat") return fail(Code::Invalid, "unknown driver " + driver);
  std::vector<NamedPrefix> others;
  std::vector<Prefix> used;
  for (const auto& [n, v] : st["networks"].items())
    for (const auto& s : v["subnets"]) {
      others.emplace_back(n, *Prefix::parse(s["subnet"].get<std::string>()));
      used.push_back(others.back().second);
    }
  std::optional<Prefix> picked;
  if (req.subnet.empty()) {
    auto routes = drv.host_routes();
    if (!routes) return std::unexpected(routes.error());
    auto pools = default_pools(Family::V4);
    auto p = pick_subnet(pools, *routes, used);
    if (!p) return std::unexpected(p.error());
    if (!p->note.empty()) std::cout << "note: " << p->note << "\n";
    picked = p->subnet;
  }
  auto sub = make_subnet(req, picked, others);
  if (!sub) return wrap(sub.error(), "create network " + name);
  std::string id = new_id();
  auto br = bridge_name(id, a.get("--bridge"));
  if (!br) return std::unexpected(br.error());
  json n{{"id", id},
         {"name", name},
         {"bridge", *br},
         {"internal", a.opts.contains("--internal")},
         {"subnets", json::array({to_json(*sub)})}};
  auto net = network_of(n);
  SILO_TRY(drv.create_network(*net));
  st["networks"][name] = n;
  std::cout << "network " << name << " bridge " << *br << " subnet " << sub->subnet.str()
            << " gateway " << sub->gateway.str() << "\n";
  return {};
}

Status connect(json& st, Ctx& c, const Args& a) {
  NatDriver& drv = c.nat;
  if (a.positional.size() < 3)
    return fail(Code::Invalid, "connect needs NETWORK ENDPOINT CONTAINER_NS");
  const std::string &netname = a.positional[0], &epname = a.positional[1];
  if (!st["networks"].contains(netname))
    return fail(Code::NotFound, "network " + netname + " not found");
  json& n = st["networks"][netname];
  std::string key = netname + "/" + epname;
  if (st["endpoints"].contains(key)) return fail(Code::Conflict, "endpoint " + key + " exists");
  if (n.value("driver", "nat") != "nat") return connect_transparent(st, c, a, n, key);
  auto sub = subnet_from_json(n["subnets"][0]);
  if (!sub) return std::unexpected(sub.error());
  std::string id = new_id();
  Holder holder{"container", id, epname};
  std::optional<IpAddress> wanted;
  if (auto ip = a.get("--ip"); !ip.empty()) {
    auto w = IpAddress::parse(ip);
    if (!w) return std::unexpected(w.error());
    wanted = *w;
  }
  auto addr = allocate(*sub, holder, wanted);
  if (!addr) return wrap(addr.error(), "connect " + epname + " to " + netname);
  json e{{"id", id},
         {"netns", a.positional[2]},
         {"network", netname},
         {"name", epname},
         {"addresses", json::array({Prefix{*addr, sub->subnet.len}.str()})},
         {"ports", json::array()}};
  for (auto [it, end] = a.opts.equal_range("-p"); it != end; ++it) {
    auto m = PortMapping::parse(it->second);
    if (!m) return std::unexpected(m.error());
    e["ports"].push_back(it->second);
  }
  auto net = network_of(n);
  if (!net) return std::unexpected(net.error());
  SILO_TRY(drv.connect(*net, endpoint_of(e)));
  n["subnets"][0] = to_json(*sub);
  st["endpoints"][key] = e;
  std::cout << "endpoint " << epname << " id " << id << " address " << addr->str() << " veth "
            << host_veth_name(id) << "\n";
  return {};
}

Status disconnect(json& st, Ctx& c, const Args& a) {
  NatDriver& drv = c.nat;
  if (a.positional.size() < 2) return fail(Code::Invalid, "disconnect needs NETWORK ENDPOINT");
  std::string key = a.positional[0] + "/" + a.positional[1];
  if (!st["endpoints"].contains(key)) return fail(Code::NotFound, "endpoint " + key + " not found");
  json& e = st["endpoints"][key];
  json& n = st["networks"][a.positional[0]];
  if (n.value("driver", "nat") == "l2bridge") {
    L2BridgeDriver l2(c.nl, c.host_ns);
    SILO_TRY(l2.disconnect(l2bridge_of(n), l2bridge_endpoint_of(e)));
    SILO_TRY(release_address(n, e));
    st["endpoints"].erase(key);
    return {};
  }
  if (n.value("driver", "nat") == "transparent") {
    TransparentDriver t(c.nl, c.host_ns);
    SILO_TRY(t.disconnect(transparent_of(n), transparent_endpoint_of(e)));
    SILO_TRY(release_address(n, e));
    st["endpoints"].erase(key);
    return {};
  }
  auto net = network_of(n);
  if (!net) return std::unexpected(net.error());
  SILO_TRY(drv.disconnect(*net, endpoint_of(e)));
  auto sub = subnet_from_json(n["subnets"][0]);
  if (!sub) return std::unexpected(sub.error());
  auto addr = Prefix::parse(e["addresses"][0].get<std::string>());
  SILO_TRY(release(*sub, addr->addr, Holder{"container", e["id"], e["name"]}));
  n["subnets"][0] = to_json(*sub);
  st["endpoints"].erase(key);
  return {};
}

Status network_delete(json& st, Ctx& c, const Args& a) {
  NatDriver& drv = c.nat;
  if (a.positional.empty()) return fail(Code::Invalid, "network-delete needs a NAME");
  std::string name = a.positional[0];
  if (!st["networks"].contains(name)) return fail(Code::NotFound, "network " + name + " not found");
  for (const auto& [k, e] : st["endpoints"].items())
    if (e["network"] == name)
      return fail(Code::Conflict, "network " + name + " has endpoint " +
                                      e["name"].get<std::string>() + "; disconnect it first");
  if (st["networks"][name].value("driver", "nat") == "l2bridge") {
    L2BridgeDriver l2(c.nl, c.host_ns);
    SILO_TRY(l2.delete_network(l2bridge_of(st["networks"][name])));
  }
  if (st["networks"][name].value("driver", "nat") != "nat") {
    st["networks"].erase(name);  // transparent: no kernel object of its own
    return {};
  }
  auto net = network_of(st["networks"][name]);
  if (!net) return std::unexpected(net.error());
  SILO_TRY(drv.delete_network(*net));
  st["networks"].erase(name);
  return {};
}

Status reconcile(const json& st, Ctx& c) {
  KnownState known;
  for (const auto& [k, n] : st["networks"].items()) {
    known.networks.insert(n["id"].get<std::string>());
    if (n.contains("bridge")) known.bridges.insert(n["bridge"].get<std::string>());
  }
  for (const auto& [k, e] : st["endpoints"].items()) known.endpoints.insert(e["id"]);
  auto strays = find_strays(c.nl, c.nft, c.host_ns, known);
  if (!strays) return std::unexpected(strays.error());
  for (const auto& f : strays->found) std::cout << "stray " << f << "\n";
  return remove_strays(c.nl, c.nft, c.host_ns, *strays);
}

Status nft_list(Nftables& nft, const std::string& host_ns) {
  auto ns = open_netns(host_ns);
  if (!ns) return std::unexpected(ns.error());
  auto state = list_silo(nft, ns->get());
  if (!state) return std::unexpected(state.error());
  for (const auto& r : state->rules)
    std::cout << r.chain << " " << r.handle << " " << r.comment << "\n";
  for (const auto& b : state->bridges) std::cout << "bridge " << b << "\n";
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: silo-test-net STATE HOST_NS COMMAND ARGS...\n";
    return 2;
  }
  std::string state_path = argv[1], host_ns = argv[2], cmd = argv[3];
  Args a = parse_args(argc, argv, 4);
  auto nl = make_netlink();
  auto nft = make_nftables();
  NatDriver drv(*nl, *nft, host_ns);
  Ctx ctx{*nl, *nft, drv, host_ns};
  json st = load(state_path);
  Status r;
  if (cmd == "network-create")
    r = network_create(st, ctx, a);
  else if (cmd == "connect")
    r = connect(st, ctx, a);
  else if (cmd == "disconnect")
    r = disconnect(st, ctx, a);
  else if (cmd == "dhcp-renew")
    r = dhcp_renew_cmd(st, a);
  else if (cmd == "network-delete")
    r = network_delete(st, ctx, a);
  else if (cmd == "reconcile")
    r = reconcile(st, ctx);
  else if (cmd == "nft-list")
    r = nft_list(*nft, host_ns);
  else
    r = fail(Code::Invalid, "unknown command " + cmd);
  if (!r) {
    std::cerr << "silo-test-net: " << r.error().message << "\n";
    return 1;
  }
  save(state_path, st);
  return 0;
}
