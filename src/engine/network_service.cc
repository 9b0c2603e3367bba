// The network service: networks (create, inspect, list, remove, prune), the built-in
// ones, and reconcile. Endpoints are in network_endpoints.cc, ports and static NAT in
// network_ports.cc, the embedded DNS in network_dns.cc.

#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "common/id.h"
#include "common/log.h"
#include "common/sys.h"
#include "engine/network_service_impl.h"
#include "network/dns.h"
#include "network/l2bridge.h"
#include "network/netns.h"
#include "network/reconcile.h"
#include "network/transparent.h"

namespace silo::engine {

using network::Family;
using network::IpAddress;
using network::IpamSubnet;
using network::Prefix;

namespace {

Json string_map(const std::map<std::string, std::string>& m) {
  Json j = Json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

std::map<std::string, std::string> map_of(const Json& j) {
  std::map<std::string, std::string> out;
  if (j.is_object())
    for (const auto& [k, v] : j.items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

// Docker's driver names: "bridge" (what docker-compose and the docker CLI ask for by
// default) is the nat driver; "null" is "none".
std::string canonical_driver(std::string d) {
  if (d.empty() || d == "bridge") return "nat";
  if (d == "none") return "null";
  return d;
}

// Docker's name rule for networks (the same as for containers, without the slash).
bool valid_network_name(const std::string& n) {
  if (n.empty()) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

bool builtin_name(std::string_view n) {
  return n == "nat" || n == "bridge" || n == "host" || n == "none";
}

std::string option(const NetworkInfo& n, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (auto it = n.options.find(k); it != n.options.end()) return it->second;
  return "";
}

// The host's resolvers, where the embedded DNS sends the names it does not know. One on
// the host's loopback is reachable too: the server's sockets are in the host's namespace.
std::vector<network::DnsUpstream> upstreams_from_resolv_conf(const std::string& text) {
  std::vector<network::DnsUpstream> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key, v;
    if (ls >> key >> v && key == "nameserver")
      if (auto u = network::DnsUpstream::parse(v)) out.push_back(*u);
  }
  return out;
}

}  // namespace

std::string mac_from_ipv4(const IpAddress& a) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "02:42:%02x:%02x:%02x:%02x", a.bytes[0], a.bytes[1], a.bytes[2],
                a.bytes[3]);
  return buf;
}

Json NetworkInfo::to_data() const {
  Json subs = Json::array();
  for (const auto& s : subnets) subs.push_back(network::to_json(s));
  Json j = {{"driver", driver},       {"created", created},
            {"labels", string_map(labels)}, {"options", string_map(options)},
            {"ipam_options", string_map(ipam_options)},
            {"internal", internal},   {"ipv6", ipv6},
            {"attachable", attachable}, {"builtin", builtin},
            {"subnets", subs},        {"bridge", bridge},
            {"parent", parent}};
  if (mtu) j["mtu"] = *mtu;
  return j;
}

Result<NetworkInfo> NetworkInfo::from_record(const NetworkRecord& rec) {
  NetworkInfo n;
  const Json& d = rec.data;
  n.id = rec.id;
  n.name = rec.name;
  n.driver = d.value("driver", "nat");
  n.created = d.value("created", "");
  n.labels = map_of(d.value("labels", Json::object()));
  n.options = map_of(d.value("options", Json::object()));
  n.ipam_options = map_of(d.value("ipam_options", Json::object()));
  n.internal = d.value("internal", false);
  n.ipv6 = d.value("ipv6", false);
  n.attachable = d.value("attachable", false);
  n.builtin = d.value("builtin", false);
  n.bridge = d.value("bridge", "");
  n.parent = d.value("parent", "");
  if (d.contains("mtu") && d["mtu"].is_number_unsigned()) n.mtu = d["mtu"].get<unsigned>();
  for (const auto& s : d.value("subnets", Json::array())) {
    auto sub = network::subnet_from_json(s);
    if (!sub) return wrap(sub.error(), "network " + rec.name);
    n.subnets.push_back(std::move(*sub));
  }
  return n;
}

network::NatNetwork NetworkService::Impl::nat_of(const NetworkInfo& net) const {
  network::NatNetwork n{.id = net.id, .name = net.name, .bridge = net.bridge, .mtu = net.mtu,
                        .internal = net.internal};
  for (const auto& s : net.subnets) n.gateways.push_back(Prefix{s.gateway, s.subnet.len});
  return n;
}

Status NetworkService::Impl::save(const NetworkInfo& net) {
  return store->put_network({.id = net.id, .name = net.name, .data = net.to_data()});
}

Result<NetworkInfo*> NetworkService::Impl::find_locked(std::string_view ref) {
  std::string r(ref);
  if (r == "bridge" || r == "default") {
    if (auto* d = default_network()) return d;
  }
  for (auto& [id, n] : networks)
    if (id == r) return &n;
  for (auto& [id, n] : networks)
    if (n.name == r) return &n;
  NetworkInfo* found = nullptr;
  if (!r.empty())
    for (auto& [id, n] : networks)
      if (id.starts_with(r)) {
        if (found)
          return fail(Code::NotFound, "network " + r + " is ambiguous (" +
                                          std::to_string(2) + " matches found based on ID prefix)");
        found = &n;
      }
  if (found) return found;
  return fail(Code::NotFound, "network " + r + " not found");
}

NetworkInfo* NetworkService::Impl::default_network() {
  for (auto& [id, n] : networks)
    if (n.builtin && n.driver == "nat") return &n;
  return nullptr;
}

std::vector<network::NamedPrefix> NetworkService::Impl::used_subnets(const std::string& except) {
  std::vector<network::NamedPrefix> out;
  for (const auto& [id, n] : networks)
    if (id != except && n.driver != "transparent" && n.driver != "l2bridge")
      for (const auto& s : n.subnets) out.emplace_back(n.name, s.subnet);
  return out;
}

Status NetworkService::Impl::create_kernel(const NetworkInfo& net) {
  if (net.driver == "nat") {
    network::NatDriver d(*nl, *nft, host_ns);
    return d.create_network(nat_of(net));
  }
  if (net.driver == "l2bridge" && !net.subnets.empty()) {
    network::L2BridgeDriver d(*nl, host_ns);
    return d.create_network({.id = net.id, .name = net.name, .uplink = net.parent,
                             .gateway = Prefix{net.subnets[0].gateway, net.subnets[0].subnet.len},
                             .mtu = net.mtu});
  }
  return {};
}

Status NetworkService::Impl::delete_kernel(const NetworkInfo& net) {
  if (net.driver == "nat") {
    network::NatDriver d(*nl, *nft, host_ns);
    return d.delete_network(nat_of(net));
  }
  if (net.driver == "l2bridge" && !net.subnets.empty()) {
    network::L2BridgeDriver d(*nl, host_ns);
    return d.delete_network({.id = net.id, .name = net.name, .uplink = net.parent,
                             .gateway = Prefix{net.subnets[0].gateway, net.subnets[0].subnet.len},
                             .mtu = net.mtu});
  }
  return {};
}

Json NetworkService::Impl::inspect_json(const NetworkInfo& net, bool with_containers) {
  Json config = Json::array();
  for (const auto& s : net.subnets) {
    Json c = {{"Subnet", s.subnet.str()}, {"Gateway", s.gateway.str()}};
    if (s.ip_range) c["IPRange"] = s.ip_range->str();
    Json aux = Json::object();
    for (const auto& [addr, h] : s.allocated)
      if (h.kind == "aux-address") aux[h.id] = addr.str();
    if (!aux.empty()) c["AuxiliaryAddresses"] = aux;
    config.push_back(c);
  }
  Json containers = Json::object();
  if (with_containers)
    for (const auto& [eid, ep] : endpoints) {
      if (ep.network_id != net.id) continue;
      Json c = {{"Name", ep.container_name}, {"EndpointID", ep.id},
                {"MacAddress", ep.mac},       {"IPv4Address", ""},
                {"IPv6Address", ""}};
      for (const auto& a : ep.addresses)
        c[a.family() == Family::V4 ? "IPv4Address" : "IPv6Address"] = a.str();
      containers[ep.container_id] = c;
    }
  std::string driver = net.driver;
  return {{"Name", net.name},
          {"Id", net.id},
          {"Created", net.created},
          {"Scope", "local"},
          {"Driver", driver},
          {"EnableIPv6", net.ipv6},
          {"IPAM",
           {{"Driver", "default"},
            {"Options", net.ipam_options.empty() ? Json(nullptr) : string_map(net.ipam_options)},
            {"Config", config}}},
          {"Internal", net.internal},
          {"Attachable", net.attachable},
          {"Ingress", false},
          {"ConfigFrom", {{"Network", ""}}},
          {"ConfigOnly", false},
          {"Containers", containers},
          {"Options", string_map(net.options)},
          {"Labels", string_map(net.labels)}};
}

// --- open ---

Result<std::unique_ptr<NetworkService>> NetworkService::open(
    const DaemonConfig& cfg, Store& store, const std::vector<ContainerRecord>& running) {
  auto svc = std::unique_ptr<NetworkService>(new NetworkService());
  svc->impl_ = std::make_unique<Impl>();
  Impl& im = *svc->impl_;
  im.cfg = cfg;
  im.store = &store;
  im.host_ns = "/proc/" + std::to_string(::getpid()) + "/ns/net";
  im.nl = network::make_netlink();
  im.nft = network::make_nftables();
  SILO_TRY(sys::mkdir_p(cfg.netns_dir(), 0755));
  // A bind mount here outlives only a start that crashed half way (a started container's
  // namespace is held by its processes): remove them all.
  for (const auto& obj : store.kernel_objects().value_or(std::vector<KernelObject>{}))
    if (obj.kind == "netns") {
      (void)::umount2(obj.key.c_str(), MNT_DETACH);
      (void)::unlink(obj.key.c_str());
      (void)store.forget_kernel_object("netns", obj.key);
    }

  auto recs = store.list_networks();
  if (!recs) return std::unexpected(recs.error());
  for (const auto& r : *recs) {
    auto n = NetworkInfo::from_record(r);
    if (!n) return std::unexpected(n.error());
    im.networks[n->id] = std::move(*n);
  }
  auto statics = store.list_static_nat();
  if (!statics) return std::unexpected(statics.error());
  for (const auto& s : *statics) {
    StaticMapping m{.id = s.id, .network_id = s.network_id};
    auto p = network::PortMapping::parse(s.data.value("port", ""));
    auto in = IpAddress::parse(s.data.value("internal", ""));
    if (!p || !in) continue;
    m.port = *p;
    if (auto hip = s.data.value("host_ip", ""); !hip.empty())
      if (auto a = IpAddress::parse(hip)) m.port.host_ip = *a;
    m.internal = *in;
    im.statics.push_back(m);
  }

  // The built-in networks.
  auto ensure = [&](const std::string& name, const std::string& driver) -> Status {
    for (const auto& [id, n] : im.networks)
      if (n.name == name) return {};
    NetworkInfo n{.id = new_id(), .name = name, .driver = driver, .created = now_rfc3339(),
                  .builtin = true};
    im.networks[n.id] = n;
    return im.save(n);
  };
  SILO_TRY(ensure("host", "host"));
  SILO_TRY(ensure("none", "null"));
  if (cfg.bridge != "none" && !im.default_network()) {
    NetworkInfo n{.id = new_id(), .name = "nat", .driver = "nat", .created = now_rfc3339(),
                  .builtin = true};
    n.options["com.docker.network.bridge.default_bridge"] = "true";
    auto br = network::bridge_name(n.id, cfg.bridge.empty() ? "" : cfg.bridge);
    if (!br) return wrap(br.error(), "default network");
    n.bridge = *br;
    std::optional<Prefix> picked;
    std::string note;
    network::SubnetRequest req;
    if (!cfg.fixed_cidr.empty()) {
      req.subnet = cfg.fixed_cidr;
      if (auto p = Prefix::parse(cfg.fixed_cidr); p && !p->is_network())
        req.subnet = p->network().str();
    } else {
      network::NatDriver d(*im.nl, *im.nft, im.host_ns);
      auto routes = d.host_routes();
      if (!routes) return wrap(routes.error(), "default network");
      std::vector<Prefix> used;
      for (const auto& [_, p] : im.used_subnets("")) used.push_back(p);
      auto pools = network::default_pools(Family::V4);
      // The Windows default, 172.16.0.0/12, as one network when nothing overlaps it.
      pools.insert(pools.begin(), network::DefaultPool{*Prefix::parse("172.16.0.0/12"), 12});
      auto p = network::pick_subnet(pools, *routes, used);
      if (!p) return wrap(p.error(), "default network: no free address pool");
      picked = p->subnet;
      note = p->note;
    }
    auto sub = network::make_subnet(req, picked, im.used_subnets(""));
    if (!sub) return wrap(sub.error(), "default network (fixed-cidr)");
    n.subnets.push_back(*sub);
    if (!note.empty()) spdlog::info("default network nat: {}", note);
    spdlog::info("default network nat on {} (bridge {})", sub->subnet.str(), n.bridge);
    im.networks[n.id] = n;
    SILO_TRY(im.save(n));
  }

  // Every nat network's bridge and rules (gone after a host reboot; adds are idempotent
  // for the rules, and an existing bridge is kept).
  for (auto& [id, n] : im.networks) {
    if (n.driver != "nat") continue;
    auto ns = network::open_netns(im.host_ns);
    if (!ns) return std::unexpected(ns.error());
    auto link = im.nl->find_link(ns->get(), n.bridge);
    if (link && *link) continue;
    if (auto ok = im.create_kernel(n); !ok)
      spdlog::error("network {}: {}", n.name, ok.error().message);
  }

  for (const auto& rec : running) {
    auto it = rec.shim.find("endpoints");
    if (it == rec.shim.end() || !it->is_array()) continue;
    for (const auto& e : *it)
      if (auto ep = Endpoint::from_json(e)) im.endpoints[ep->id] = *ep;
  }

  im.dns = std::make_unique<network::DnsServer>(
      [&im](const std::string& listener, const IpAddress& client, const std::string& name,
            Family family) -> std::optional<std::vector<IpAddress>> {
        std::lock_guard g(im.mu);
        std::string want = name;
        while (!want.empty() && want.back() == '.') want.pop_back();
        // A --link alias of the asking container names its target.
        for (const auto& [eid, ep] : im.endpoints) {
          if (ep.network_id != listener) continue;
          bool asker = std::any_of(ep.addresses.begin(), ep.addresses.end(),
                                   [&](const Prefix& a) { return a.addr == client; });
          if (!asker) continue;
          if (auto l = ep.links.find(want); l != ep.links.end()) want = l->second;
          break;
        }
        bool known = false;
        std::vector<IpAddress> out;
        for (const auto& [eid, ep] : im.endpoints) {
          if (ep.network_id != listener) continue;
          bool match = ep.container_name == want ||
                       std::find(ep.aliases.begin(), ep.aliases.end(), want) != ep.aliases.end();
          if (!match) continue;
          known = true;
          for (const auto& a : ep.addresses)
            if (a.family() == family) out.push_back(a.addr);
        }
        if (!known) return std::nullopt;
        return out;
      },
      [&im](const std::string& listener, const IpAddress& address) -> std::optional<std::string> {
        std::lock_guard g(im.mu);
        for (const auto& [eid, ep] : im.endpoints) {
          if (ep.network_id != listener) continue;
          for (const auto& a : ep.addresses)
            if (a.addr == address) return ep.container_name;
        }
        return std::nullopt;
      },
      upstreams_from_resolv_conf(sys::read_file("/etc/resolv.conf").value_or("")));
  for (auto& [id, n] : im.networks) im.dns_listen(n);
  return svc;
}

NetworkService::~NetworkService() = default;

std::string NetworkService::netns_path(const std::string& id) const {
  return impl_->cfg.netns_dir() + "/" + id;
}

// --- the API ---

Result<Json> NetworkService::create(const Json& body) {
  Impl& im = *impl_;
  if (!body.is_object()) return fail(Code::Invalid, "network create: the body must be an object");
  std::string name = body.value("Name", "");
  if (name.empty()) return fail(Code::Invalid, "network name must not be empty; name the network");
  if (!valid_network_name(name))
    return fail(Code::Invalid, "invalid network name \"" + name +
                                   "\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  std::string driver = canonical_driver(body.value("Driver", ""));
  if (driver != "nat" && driver != "transparent" && driver != "l2bridge")
    return fail(Code::NotFound, "plugin \"" + body.value("Driver", "") +
                                    "\" not found; Silo's drivers are nat (bridge), "
                                    "transparent and l2bridge");
  std::lock_guard g(im.mu);
  if (builtin_name(name) && name != "nat")
    return fail(Code::Permission, name + " is a pre-defined network and cannot be created");
  for (const auto& [id, n] : im.networks)
    if (n.name == name) return fail(Code::Conflict, "network with name " + name + " already exists");

  NetworkInfo net{.id = new_id(), .name = name, .driver = driver, .created = now_rfc3339()};
  net.labels = map_of(body.value("Labels", Json::object()));
  net.options = map_of(body.value("Options", Json::object()));
  net.internal = body.value("Internal", false);
  net.ipv6 = body.value("EnableIPv6", false);
  net.attachable = body.value("Attachable", false);
  if (auto m = option(net, {"com.docker.network.driver.mtu"}); !m.empty())
    net.mtu = static_cast<unsigned>(std::atoi(m.c_str()));

  Json ipam = body.value("IPAM", Json::object());
  if (!ipam.is_object()) ipam = Json::object();
  if (auto d = ipam.value("Driver", ""); !d.empty() && d != "default")
    return fail(Code::NotFound, "plugin \"" + d + "\" not found; the IPAM driver is \"default\"");
  net.ipam_options = map_of(ipam.value("Options", Json::object()));
  std::vector<network::SubnetRequest> reqs;
  Json configs = ipam.value("Config", Json::array());
  if (configs.is_array())
    for (const auto& c : configs) {
      if (!c.is_object()) continue;
      network::SubnetRequest r{.subnet = c.value("Subnet", ""),
                               .gateway = c.value("Gateway", ""),
                               .ip_range = c.value("IPRange", "")};
      r.aux_addresses = map_of(c.value("AuxiliaryAddresses", Json::object()));
      if (r.subnet.empty() && (!r.gateway.empty() || !r.ip_range.empty()))
        return fail(Code::Invalid, "--gateway and --ip-range need a --subnet");
      reqs.push_back(r);
    }

  if (driver == "transparent" || driver == "l2bridge") {
    // As the Windows hosts, with no interface named the network sits on the host's
    // uplink: the interface of its default route.
    if (!net.options.contains("parent") &&
        !net.options.contains(std::string(network::kWindowsInterfaceOption))) {
      auto ns = network::open_netns(im.host_ns);
      if (!ns) return std::unexpected(ns.error());
      auto routes = im.nl->list_routes(ns->get());
      auto links = im.nl->list_links(ns->get());
      if (routes && links)
        for (const auto& r : *routes)
          if (r.dst.len == 0)
            for (const auto& l : *links)
              if (l.index == r.oif) net.options["parent"] = l.name;
      if (!net.options.contains("parent"))
        return fail(Code::Invalid, "network " + name +
                                       ": the host has no default route to take the parent "
                                       "interface from; name it with -o parent=IF");
    }
    auto parent = network::parent_interface(net.options);
    if (!parent) return wrap(parent.error(), "network " + name);
    net.parent = *parent;
    if (driver == "l2bridge" && reqs.empty())
      return fail(Code::Invalid, "network " + name +
                                     ": the l2bridge driver needs --subnet and --gateway of "
                                     "the host's network");
  }
  if (driver == "nat") {
    auto br = network::bridge_name(net.id, option(net, {"com.docker.network.bridge.name"}));
    if (!br) return std::unexpected(br.error());
    net.bridge = *br;
    for (const auto& [id, n] : im.networks)
      if (n.bridge == net.bridge)
        return fail(Code::Conflict, "bridge " + net.bridge + " is already used by network " +
                                        n.name + "; pick another com.docker.network.bridge.name");
  }
  bool has_v4 = false, has_v6 = false;
  for (const auto& r : reqs) {
    auto p = Prefix::parse(r.subnet);
    if (!p) return wrap(p.error(), "network " + name);
    (p->family() == Family::V4 ? has_v4 : has_v6) = true;
    if (p->family() == Family::V6 && !net.ipv6)
      return fail(Code::Invalid, "network " + name + ": subnet " + r.subnet +
                                     " is IPv6; add --ipv6 to enable IPv6 on this network");
  }
  // Pick what was not given: a v4 subnet for nat; a v6 one when --ipv6 without a v6 subnet.
  auto pick = [&](Family f) -> Status {
    network::NatDriver d(*im.nl, *im.nft, im.host_ns);
    auto routes = d.host_routes();
    if (!routes) return std::unexpected(routes.error());
    std::vector<Prefix> used;
    for (const auto& [_, p] : im.used_subnets("")) used.push_back(p);
    auto pools = network::default_pools(f);
    auto p = network::pick_subnet(pools, *routes, used);
    if (!p) return wrap(p.error(), "network " + name);
    reqs.push_back({.subnet = p->subnet.str()});
    return {};
  };
  if (driver == "nat" && !has_v4) SILO_TRY(pick(Family::V4));
  if (driver == "nat" && net.ipv6 && !has_v6) SILO_TRY(pick(Family::V6));
  auto others = driver == "nat" ? im.used_subnets("") : std::vector<network::NamedPrefix>{};
  for (const auto& r : reqs) {
    auto sub = network::make_subnet(r, std::nullopt, others);
    if (!sub) return wrap(sub.error(), "network " + name);
    net.subnets.push_back(*sub);
  }
  if (driver == "transparent") {
    std::vector<network::NamedParent> parents;
    for (const auto& [id, n] : im.networks)
      if (n.driver == "transparent") parents.emplace_back(n.name, n.parent);
    network::TransparentDriver d(*im.nl, im.host_ns);
    std::optional<Prefix> gw;
    if (!net.subnets.empty()) gw = Prefix{net.subnets[0].gateway, net.subnets[0].subnet.len};
    SILO_TRY(d.create_network({.id = net.id, .name = net.name, .parent = net.parent,
                               .gateway = gw, .mtu = net.mtu},
                              parents));
  }
  // Recorded before the kernel objects exist, so a crash in between leaves a record whose
  // objects are made again at the next start, never objects nobody knows.
  SILO_TRY(im.save(net));
  if (auto ok = im.create_kernel(net); !ok) {
    (void)im.delete_kernel(net);
    (void)im.store->remove_network(net.id);
    return std::unexpected(ok.error());
  }
  im.networks[net.id] = net;
  im.dns_listen(im.networks[net.id]);
  return Json{{"Id", net.id}, {"Warning", ""}};
}

Result<NetworkInfo> NetworkService::find(std::string_view ref) {
  std::lock_guard g(impl_->mu);
  auto n = impl_->find_locked(ref);
  if (!n) return std::unexpected(n.error());
  return **n;
}

Result<Json> NetworkService::inspect(std::string_view ref) {
  std::lock_guard g(impl_->mu);
  auto n = impl_->find_locked(ref);
  if (!n) return std::unexpected(n.error());
  return impl_->inspect_json(**n, true);
}

namespace {

bool label_match(const Labels& labels, const std::string& want) {
  size_t eq = want.find('=');
  auto it = labels.find(want.substr(0, eq));
  if (it == labels.end()) return false;
  return eq == std::string::npos || it->second == want.substr(eq + 1);
}

// dockerd's network filters: driver, id, label, name, scope, type (builtin/custom), dangling.
Result<bool> network_matches(const NetworkInfo& n, const FilterValues& f, bool in_use) {
  for (const auto& [key, values] : f) {
    bool any = false;
    for (const auto& v : values) {
      if (key == "driver")
        any = any || canonical_driver(v) == n.driver;
      else if (key == "id")
        any = any || n.id.starts_with(v);
      else if (key == "name")
        any = any || n.name.find(v) != std::string::npos;
      else if (key == "label")
        any = any || label_match(n.labels, v);
      else if (key == "scope")
        any = any || v == "local";
      else if (key == "type") {
        if (v != "custom" && v != "builtin")
          return fail(Code::Invalid, "invalid filter: 'type'='" + v + "'");
        any = any || (v == "builtin") == n.builtin;
      } else if (key == "dangling") {
        bool want = v == "true" || v == "1";
        if (!want && v != "false" && v != "0")
          return fail(Code::Invalid, "invalid filter 'dangling=" + v + "'");
        any = any || (want == !in_use);
      } else {
        return fail(Code::Invalid, "invalid filter '" + key + "'");
      }
    }
    if (!any) return false;
  }
  return true;
}

}  // namespace

Result<Json> NetworkService::list(const FilterValues& filters) {
  Impl& im = *impl_;
  std::lock_guard g(im.mu);
  std::vector<const NetworkInfo*> nets;
  for (const auto& [id, n] : im.networks) nets.push_back(&n);
  std::sort(nets.begin(), nets.end(), [](auto* a, auto* b) { return a->name < b->name; });
  Json out = Json::array();
  for (const auto* n : nets) {
    bool in_use = std::any_of(im.endpoints.begin(), im.endpoints.end(),
                              [&](const auto& e) { return e.second.network_id == n->id; });
    auto ok = network_matches(*n, filters, in_use);
    if (!ok) return std::unexpected(ok.error());
    if (*ok) out.push_back(im.inspect_json(*n, false));
  }
  return out;
}

Status NetworkService::remove(std::string_view ref) {
  Impl& im = *impl_;
  std::lock_guard g(im.mu);
  auto found = im.find_locked(ref);
  if (!found) return std::unexpected(found.error());
  NetworkInfo net = **found;
  if (net.builtin)
    return fail(Code::Permission,
                net.name + " is a pre-defined network and cannot be removed");
  std::vector<std::string> users;
  for (const auto& [eid, ep] : im.endpoints)
    if (ep.network_id == net.id) users.push_back(ep.container_name);
  if (!users.empty()) {
    std::string list;
    for (const auto& u : users) list += (list.empty() ? "" : ", ") + u;
    return fail(Code::Permission, "error while removing network: network " + net.name + " id " +
                                      net.id + " has active endpoints (" + list +
                                      "); stop them or `silo network disconnect` them first");
  }
  // Containers that are stopped but still name the network keep their setting, as with
  // Docker; they fail to start until it is made again.
  im.dns_unlisten(net);
  for (auto it = im.statics.begin(); it != im.statics.end();) {
    if (it->network_id == net.id) {
      (void)im.remove_tagged(network::endpoint_tag(it->tag()));
      it = im.statics.erase(it);
    } else {
      ++it;
    }
  }
  SILO_TRY(im.store->remove_network(net.id));
  im.networks.erase(net.id);
  if (auto ok = im.delete_kernel(net); !ok)
    spdlog::warn("remove network {}: {}", net.name, ok.error().message);
  return {};
}

Result<std::vector<std::string>> NetworkService::prune(const FilterValues& filters) {
  std::vector<std::string> candidates;
  {
    Impl& im = *impl_;
    std::lock_guard g(im.mu);
    for (const auto& [id, n] : im.networks) {
      if (n.builtin) continue;
      bool in_use = std::any_of(im.endpoints.begin(), im.endpoints.end(),
                                [&](const auto& e) { return e.second.network_id == id; });
      if (in_use) continue;
      FilterValues f = filters;
      f.erase("until");
      auto ok = network_matches(n, f, false);
      if (!ok) return std::unexpected(ok.error());
      if (*ok) candidates.push_back(n.name);
    }
  }
  std::vector<std::string> deleted;
  for (const auto& name : candidates)
    if (remove(name)) deleted.push_back(name);
  return deleted;
}

// --- reconcile ---

Status NetworkService::reconcile() {
  Impl& im = *impl_;
  std::lock_guard g(im.mu);
  network::KnownState known;
  for (const auto& [id, n] : im.networks) {
    known.networks.insert(id);
    if (!n.bridge.empty()) known.bridges.insert(n.bridge);
  }
  for (const auto& [id, ep] : im.endpoints) known.endpoints.insert(id);
  for (const auto& s : im.statics) known.endpoints.insert(s.tag());
  auto strays = network::find_strays(*im.nl, *im.nft, im.host_ns, known);
  if (!strays) return std::unexpected(strays.error());
  for (const auto& f : strays->found) spdlog::info("reconcile: removing stray {}", f);
  SILO_TRY(network::remove_strays(*im.nl, *im.nft, im.host_ns, *strays));
  // Addresses held for containers that have no endpoint any more (a crash between the
  // allocation and the container's record, or an exit while no daemon ran) are freed.
  for (auto& [id, n] : im.networks) {
    bool changed = false;
    for (auto& s : n.subnets)
      for (auto it = s.allocated.begin(); it != s.allocated.end();) {
        bool held = it->second.kind != "container";
        for (const auto& [eid, ep] : im.endpoints)
          if (!held && ep.network_id == id && ep.container_id == it->second.id)
            for (const auto& a : ep.addresses) held = held || a.addr == it->first;
        if (held) {
          ++it;
          continue;
        }
        spdlog::info("reconcile: network {}: freeing {} (held by {})", n.name, it->first.str(),
                     it->second.describe());
        it = s.allocated.erase(it);
        changed = true;
      }
    if (changed) SILO_TRY(im.save(n));
  }
  // Static mappings a crash lost are added again (remove + add: exactly once).
  for (const auto& s : im.statics)
    if (auto it = im.networks.find(s.network_id); it != im.networks.end()) {
      (void)im.remove_tagged(network::endpoint_tag(s.tag()));
      if (auto ok = im.apply_static(s, it->second); !ok)
        spdlog::warn("reconcile static NAT {}: {}", s.port.str(), ok.error().message);
    }
  return {};
}

}  // namespace silo::engine
