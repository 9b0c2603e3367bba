// The network service, containers' side: the namespace made at start, endpoints connected
// and disconnected, the settings Docker shows in inspect, /etc/hosts and resolv.conf.

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <sstream>
#include <thread>

#include "common/id.h"
#include "common/log.h"
#include "common/sys.h"
#include "engine/engine_impl.h"
#include "engine/network_service_impl.h"
#include "network/dhcp.h"
#include "network/dns.h"
#include "network/l2bridge.h"
#include "network/nat.h"
#include "network/netns.h"
#include "network/transparent.h"

namespace silo::engine {

using network::Family;
using network::IpAddress;
using network::Prefix;

namespace {

Json zero_endpoint() {
  return {{"IPAMConfig", nullptr},   {"Links", nullptr},         {"Aliases", nullptr},
          {"NetworkID", ""},         {"EndpointID", ""},         {"Gateway", ""},
          {"IPAddress", ""},         {"IPPrefixLen", 0},         {"IPv6Gateway", ""},
          {"GlobalIPv6Address", ""}, {"GlobalIPv6PrefixLen", 0}, {"MacAddress", ""},
          {"DriverOpts", nullptr}};
}

std::vector<std::string> strings_of(const Json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::string mode_of(const Json& host_config) {
  auto it = host_config.find("NetworkMode");
  std::string m = it != host_config.end() && it->is_string() ? it->get<std::string>() : "";
  return m.empty() ? "default" : m;
}

// Makes a network namespace and bind-mounts it at `path` (as `ip netns add` does). The
// unshare runs on a thread of its own so no thread of silod changes namespace.
Status make_netns(const std::string& path) {
  {
    auto fd = sys::open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_EXCL, 0444);
    if (!fd) return wrap(fd.error(), "network namespace file " + path);
  }
  Status result;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      result = fail_errno(errno, "unshare(CLONE_NEWNET)");
      return;
    }
    std::string self = "/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/ns/net";
    result = sys::mount(self, path, "", MS_BIND, "");
  });
  t.join();
  if (!result) (void)::unlink(path.c_str());
  return result;
}

void drop_netns(const std::string& path) {
  (void)::umount2(path.c_str(), MNT_DETACH);
  (void)::unlink(path.c_str());
}

// The networks a container is on, the one it names in NetworkMode first.
std::vector<std::string> network_names(const ContainerRecord& rec, const std::string& primary) {
  std::vector<std::string> out;
  const Json& nets = rec.network_settings.value("Networks", Json::object());
  if (nets.contains(primary)) out.push_back(primary);
  for (const auto& [name, _] : nets.items())
    if (name != primary) out.push_back(name);
  return out;
}

}  // namespace

Json Endpoint::to_json() const {
  Json addrs = Json::array(), ps = Json::array();
  for (const auto& a : addresses) addrs.push_back(a.str());
  for (const auto& p : ports) ps.push_back(p.str());
  Json j = {{"id", id},           {"container_id", container_id},
            {"container_name", container_name}, {"network_id", network_id},
            {"ifname", ifname},   {"addresses", addrs},
            {"mac", mac},         {"aliases", aliases},
            {"ports", ps},        {"links", links}};
  if (lease) {
    Json l = {{"address", lease->address.str()}, {"server", lease->server.str()},
              {"lease_s", lease->lease_s},       {"t1_s", lease->t1_s},
              {"t2_s", lease->t2_s},             {"obtained", lease_obtained}};
    if (lease->router) l["router"] = lease->router->str();
    j["lease"] = l;
  }
  return j;
}

Result<Endpoint> Endpoint::from_json(const Json& j) {
  if (!j.is_object()) return fail(Code::Internal, "endpoint: not an object");
  Endpoint ep{.id = j.value("id", ""),
              .container_id = j.value("container_id", ""),
              .container_name = j.value("container_name", ""),
              .network_id = j.value("network_id", ""),
              .ifname = j.value("ifname", "eth0"),
              .mac = j.value("mac", "")};
  for (const auto& a : strings_of(j.value("addresses", Json::array())))
    if (auto p = Prefix::parse(a)) ep.addresses.push_back(*p);
  ep.aliases = strings_of(j.value("aliases", Json::array()));
  if (auto l = j.find("links"); l != j.end() && l->is_object())
    for (const auto& [k, v] : l->items())
      if (v.is_string()) ep.links[k] = v.get<std::string>();
  for (const auto& p : strings_of(j.value("ports", Json::array()))) {
    // "0.0.0.0:8080->80/tcp" back into a mapping.
    auto arrow = p.find("->");
    auto colon = p.rfind(':', arrow);
    if (arrow == std::string::npos || colon == std::string::npos) continue;
    std::string host = p.substr(0, colon), rest = p.substr(arrow + 2);
    auto m = network::PortMapping::parse(p.substr(colon + 1, arrow - colon - 1) + ":" + rest);
    if (!m) continue;
    if (host != "0.0.0.0" && host != "::")
      if (auto a = IpAddress::parse(host)) m->host_ip = *a;
    ep.ports.push_back(*m);
  }
  if (auto l = j.find("lease"); l != j.end() && l->is_object()) {
    auto addr = Prefix::parse(l->value("address", ""));
    auto server = IpAddress::parse(l->value("server", ""));
    if (addr && server) {
      network::DhcpLease lease{.address = *addr, .server = *server};
      if (auto r = IpAddress::parse(l->value("router", ""))) lease.router = *r;
      lease.lease_s = l->value("lease_s", 0u);
      lease.t1_s = l->value("t1_s", 0u);
      lease.t2_s = l->value("t2_s", 0u);
      ep.lease = lease;
      ep.lease_obtained = l->value("obtained", int64_t{0});
    }
  }
  if (ep.id.empty()) return fail(Code::Internal, "endpoint without an id");
  return ep;
}

bool NetworkService::needs_netns(const Json& host_config) const {
  std::string m = mode_of(host_config);
  if (m == "host" || m == "none" || m.starts_with("container:")) return false;
  if (m == "default" || m == "bridge") {
    std::lock_guard g(impl_->mu);
    return impl_->default_network() != nullptr;
  }
  return true;
}

Status NetworkService::prepare(ContainerRecord& rec) {
  Impl& im = *impl_;
  std::string mode = mode_of(rec.host_config);
  Json nets = Json::object();
  if (mode == "host" || mode == "none" || mode.starts_with("container:")) {
    if (mode.starts_with("container:")) mode = "container";
    nets[mode] = zero_endpoint();
    rec.network_settings = {{"Networks", nets}};
    return {};
  }
  std::lock_guard g(im.mu);
  NetworkInfo* primary = nullptr;
  if (mode == "default" || mode == "bridge") {
    primary = im.default_network();
    if (!primary) {
      nets["none"] = zero_endpoint();
      rec.network_settings = {{"Networks", nets}};
      return {};
    }
  } else {
    auto n = im.find_locked(mode);
    if (!n) return std::unexpected(n.error());
    primary = *n;
  }
  if (primary->driver == "host" || primary->driver == "null") {
    rec.host_config["NetworkMode"] = primary->name;
    nets[primary->name] = zero_endpoint();
    rec.network_settings = {{"Networks", nets}};
    return {};
  }
  Json requested = rec.network_settings.value("EndpointsConfig", Json::object());
  if (!requested.is_object()) requested = Json::object();
  auto settings_for = [&](NetworkInfo& net, const Json& want) -> Status {
    Json es = zero_endpoint();
    es["NetworkID"] = net.id;
    if (want.is_object()) {
      if (auto c = want.find("IPAMConfig"); c != want.end() && c->is_object() && !c->empty()) {
        if (net.builtin)
          return fail(Code::Invalid,
                      "user specified IP address is supported on user defined networks only");
        for (const char* k : {"IPv4Address", "IPv6Address"}) {
          std::string ip = c->value(k, "");
          if (ip.empty()) continue;
          auto a = IpAddress::parse(ip);
          if (!a) return wrap(a.error(), "--ip");
          bool inside = std::any_of(net.subnets.begin(), net.subnets.end(),
                                    [&](const auto& s) { return s.subnet.contains(*a); });
          if (!inside && !net.dhcp())
            return fail(Code::Invalid, "no configured subnet or ip-range contain the IP address " +
                                           ip + " (network " + net.name + ")");
        }
        es["IPAMConfig"] = *c;
      }
      auto aliases = strings_of(want.value("Aliases", Json::array()));
      if (!aliases.empty()) {
        if (net.builtin)
          return fail(Code::Invalid,
                      "network-scoped alias is supported only for containers in user defined "
                      "networks");
        es["Aliases"] = aliases;
      }
      auto links = strings_of(want.value("Links", Json::array()));
      if (!links.empty()) es["Links"] = links;
      if (auto m = want.value("MacAddress", ""); !m.empty()) {
        auto mac = network::parse_mac(m);
        if (!mac) return wrap(mac.error(), "--mac-address");
        es["MacAddress"] = *mac;
      }
    }
    nets[net.name] = es;
    return {};
  };
  // The endpoint settings the user gave under the primary network's name (or "bridge"/
  // "default" for the default network) belong to it.
  Json primary_want = Json::object();
  for (const auto& [k, v] : requested.items()) {
    auto n = im.find_locked(k);
    if (n && *n == primary) primary_want = v;
  }
  SILO_TRY(settings_for(*primary, primary_want));
  for (const auto& [k, v] : requested.items()) {
    auto n = im.find_locked(k);
    if (!n) return std::unexpected(n.error());
    if (*n == primary) continue;
    if ((*n)->driver == "host" || (*n)->driver == "null")
      return fail(Code::Invalid, "container cannot be connected to network " + k +
                                     " and to " + primary->name + " at once");
    SILO_TRY(settings_for(**n, v));
  }
  if (rec.host_config.value("NetworkMode", "") == "bridge" ||
      rec.host_config.value("NetworkMode", "") == "default")
    rec.host_config["NetworkMode"] = "default";
  Json links = rec.host_config.value("Links", Json(nullptr));
  if (links.is_array() && !links.empty() && !nets[primary->name]["Links"].is_array())
    nets[primary->name]["Links"] = links;
  rec.network_settings = {{"Networks", nets}};
  return {};
}

Result<Endpoint> NetworkService::Impl::connect_one(ContainerRecord& rec, NetworkInfo& net,
                                                   Json& es, const std::string& netns,
                                                   const std::string& ifname,
                                                   const std::vector<network::PortMapping>& ports) {
  if (net.driver == "host" || net.driver == "null")
    return fail(Code::Invalid, "container " + rec.name + " cannot be connected to network " +
                                   net.name + " (" + net.driver + ")");
  Endpoint ep{.id = new_id(), .container_id = rec.id, .container_name = rec.name,
              .network_id = net.id, .ifname = ifname, .ports = ports};
  network::Holder holder{"container", rec.id, rec.name};
  const Json ipam = es.value("IPAMConfig", Json(nullptr));
  for (auto& s : net.subnets) {
    std::optional<IpAddress> wanted;
    if (ipam.is_object()) {
      std::string k = s.subnet.family() == Family::V4 ? "IPv4Address" : "IPv6Address";
      if (auto w = ipam.value(k, ""); !w.empty())
        if (auto a = IpAddress::parse(w); a && s.subnet.contains(*a)) wanted = *a;
    }
    auto a = network::allocate(s, holder, wanted);
    if (!a) {
      release_addresses(net, ep);
      return wrap(a.error(), "network " + net.name);
    }
    ep.addresses.push_back(Prefix{*a, s.subnet.len});
  }
  ep.mac = es.value("MacAddress", "");
  if (ep.mac.empty() && ifname == "eth0") ep.mac = rec.config.value("MacAddress", "");
  if (ep.mac.empty()) {
    if (net.driver == "transparent") {
      ep.mac = network::generate_mac(ep.id);
    } else {
      for (const auto& a : ep.addresses)
        if (a.family() == Family::V4) {
          ep.mac = mac_from_ipv4(a.addr);
          break;
        }
    }
  }
  ep.aliases = strings_of(es.value("Aliases", Json::array()));
  if (!net.builtin) ep.aliases.push_back(rec.id.substr(0, 12));
  for (auto l : strings_of(es.value("Links", Json::array()))) {
    while (!l.empty() && l.front() == '/') l.erase(0, 1);
    auto colon = l.find(':');
    std::string target = l.substr(0, colon);
    std::string alias = colon == std::string::npos ? target : l.substr(colon + 1);
    if (auto slash = alias.rfind('/'); slash != std::string::npos) alias = alias.substr(slash + 1);
    ep.links[alias] = target;
  }

  Status made;
  if (net.driver == "nat") {
    network::NatDriver d(*nl, *nft, host_ns);
    made = d.connect(nat_of(net), {.id = ep.id, .netns = netns, .ifname = ifname,
                                   .addresses = ep.addresses, .mac = ep.mac, .ports = ep.ports,
                                   .default_route = ifname == "eth0"});
  } else if (net.driver == "l2bridge") {
    network::L2BridgeDriver d(*nl, host_ns);
    network::L2BridgeNetwork n{.id = net.id, .name = net.name, .uplink = net.parent,
                               .gateway = Prefix{net.subnets[0].gateway, net.subnets[0].subnet.len},
                               .mtu = net.mtu};
    made = d.connect(n, {.id = ep.id, .netns = netns, .ifname = ifname,
                         .address = ep.addresses.at(0), .default_route = ifname == "eth0"});
  } else if (net.driver == "transparent") {
    network::TransparentDriver d(*nl, host_ns);
    network::TransparentNetwork n{.id = net.id, .name = net.name, .parent = net.parent,
                                  .mtu = net.mtu};
    network::TransparentEndpoint te{.id = ep.id, .netns = netns, .ifname = ifname, .mac = ep.mac,
                                    .default_route = ifname == "eth0"};
    if (!net.subnets.empty()) {
      n.gateway = Prefix{net.subnets[0].gateway, net.subnets[0].subnet.len};
      te.address = ep.addresses.at(0);
    }
    made = d.connect(n, te);
    if (made && net.dhcp()) {
      auto fd = network::open_netns(netns);
      auto lease = fd ? network::dhcp_acquire(fd->get(), ifname, ep.mac,
                                              rec.config.value("Hostname", ""))
                      : Result<network::DhcpLease>(std::unexpected(fd.error()));
      if (!lease) {
        made = wrap(lease.error(), "DHCP");
      } else {
        made = network::apply_links(network::plan_lease(te, lease->address, lease->router), *nl);
        ep.addresses = {lease->address};
        ep.lease = *lease;
        ep.lease_obtained = ::time(nullptr);
        es["Gateway"] = lease->router ? lease->router->str() : "";
      }
      if (!made) (void)d.disconnect(n, te);
    }
  } else {
    made = fail(Code::Internal, "network " + net.name + ": unknown driver " + net.driver);
  }
  if (!made) {
    release_addresses(net, ep);
    return wrap(made.error(), "network " + net.name);
  }
  if (auto ok = save(net); !ok) spdlog::error("save network {}: {}", net.name, ok.error().message);

  es["NetworkID"] = net.id;
  es["EndpointID"] = ep.id;
  es["MacAddress"] = ep.mac;
  for (const auto& a : ep.addresses) {
    const network::IpamSubnet* sub = nullptr;
    for (const auto& s : net.subnets)
      if (s.subnet.contains(a.addr)) sub = &s;
    if (a.family() == Family::V4) {
      es["IPAddress"] = a.addr.str();
      es["IPPrefixLen"] = a.len;
      if (sub && !net.internal) es["Gateway"] = sub->gateway.str();
    } else {
      es["GlobalIPv6Address"] = a.addr.str();
      es["GlobalIPv6PrefixLen"] = a.len;
      if (sub && !net.internal) es["IPv6Gateway"] = sub->gateway.str();
    }
  }
  if (!net.builtin) es["Aliases"] = ep.aliases;
  endpoints[ep.id] = ep;
  return ep;
}

void NetworkService::Impl::release_addresses(NetworkInfo& net, const Endpoint& ep) {
  network::Holder holder{"container", ep.container_id, ep.container_name};
  for (const auto& a : ep.addresses)
    for (auto& s : net.subnets)
      if (s.subnet.contains(a.addr)) {
        auto it = s.allocated.find(a.addr);
        if (it != s.allocated.end() && it->second.kind == "container" &&
            it->second.id == ep.container_id)
          s.allocated.erase(it);
      }
  if (auto ok = save(net); !ok) spdlog::error("save network {}: {}", net.name, ok.error().message);
}

void NetworkService::Impl::disconnect_one(NetworkInfo* net, const Endpoint& ep, bool ns_gone) {
  Status ok;
  if (!net) {
    ok = remove_tagged(network::endpoint_tag(ep.id));
    (void)network::teardown_links({network::DeleteLink{host_ns, network::host_veth_name(ep.id)}},
                                  *nl);
  } else if (net->driver == "nat") {
    network::NatDriver d(*nl, *nft, host_ns);
    ok = d.disconnect(nat_of(*net), {.id = ep.id, .ifname = ep.ifname});
  } else if (net->driver == "l2bridge") {
    network::L2BridgeDriver d(*nl, host_ns);
    ok = d.disconnect({.id = net->id, .name = net->name, .uplink = net->parent,
                       .gateway = Prefix{net->subnets[0].gateway, net->subnets[0].subnet.len}},
                      {.id = ep.id, .ifname = ep.ifname, .address = ep.addresses.at(0)});
  } else if (net->driver == "transparent" && !ns_gone) {
    // The macvlan lives in the container's namespace; with the container gone it is too.
  }
  if (!ok) spdlog::warn("disconnect endpoint {}: {}", ep.id.substr(0, 12), ok.error().message);
  endpoints.erase(ep.id);
  if (net) release_addresses(*net, ep);
}

Status NetworkService::attach(ContainerRecord& rec, const std::string& netns) {
  Impl& im = *impl_;
  SILO_TRY(im.store->record_kernel_object({.kind = "netns", .key = netns, .owner = rec.id}));
  drop_netns(netns);  // a leftover of a start that crashed
  SILO_TRY_CTX(make_netns(netns), "network namespace");
  std::lock_guard g(im.mu);
  std::string mode = mode_of(rec.host_config);
  NetworkInfo* primary = nullptr;
  if (mode == "default" || mode == "bridge")
    primary = im.default_network();
  else if (auto n = im.find_locked(mode))
    primary = *n;
  std::vector<Endpoint> made;
  auto undo = [&](const Error& e) -> Status {
    for (auto it = made.rbegin(); it != made.rend(); ++it) {
      auto net = im.networks.find(it->network_id);
      im.disconnect_one(net == im.networks.end() ? nullptr : &net->second, *it, false);
    }
    drop_netns(netns);
    (void)im.store->forget_kernel_object("netns", netns);
    return std::unexpected(e);
  };
  // lo up, whatever networks follow.
  {
    auto fd = network::open_netns(netns);
    if (!fd) return undo(fd.error());
    if (auto ok = im.nl->set_link(fd->get(), "lo", true, std::nullopt, ""); !ok)
      return undo(ok.error());
  }
  Json& nets = rec.network_settings["Networks"];
  std::vector<std::string> names = network_names(rec, primary ? primary->name : "");
  bool published = false;
  int index = 0;
  for (const auto& name : names) {
    Json& es = nets[name];
    NetworkInfo* net = nullptr;
    std::string id = es.value("NetworkID", "");
    if (auto it = im.networks.find(id); it != im.networks.end()) net = &it->second;
    if (!net) {
      auto n = im.find_locked(name);
      if (!n)
        return undo(Error{0, Code::NotFound,
                          "network " + name +
                              " not found; it was removed after the container was created: "
                              "`silo network disconnect " + name + " " + rec.name +
                              "` or create the network again"});
      net = *n;
    }
    std::vector<network::PortMapping> ports;
    if (!published && net->driver == "nat") {
      auto p = im.resolve_ports(rec);
      if (!p) return undo(p.error());
      ports = *p;
      published = true;
    }
    auto ep = im.connect_one(rec, *net, es, netns, "eth" + std::to_string(index++), ports);
    if (!ep) return undo(ep.error());
    made.push_back(*ep);
  }
  // What inspect shows: the primary endpoint at the top level, the published ports.
  Json eps = Json::array();
  for (const auto& ep : made) eps.push_back(ep.to_json());
  rec.shim["endpoints"] = eps;
  auto& ns = rec.network_settings;
  ns["SandboxKey"] = netns;
  ns["SandboxID"] = rec.id;
  Json ports = Json::object();
  const Json exposed = rec.config.value("ExposedPorts", Json::object());
  for (const auto& [k, _] : exposed.items())
    ports[k] = nullptr;
  for (const auto& ep : made)
    for (const auto& m : ep.ports) {
      std::string key = std::to_string(m.container_port) + "/" + m.proto;
      if (!ports[key].is_array()) ports[key] = Json::array();
      ports[key].push_back({{"HostIp", m.host_ip ? m.host_ip->str() : "0.0.0.0"},
                            {"HostPort", std::to_string(m.host_port)}});
    }
  ns["Ports"] = ports;
  if (primary && nets.contains(primary->name)) {
    const Json& p = nets[primary->name];
    for (const char* k : {"EndpointID", "Gateway", "GlobalIPv6Address", "GlobalIPv6PrefixLen",
                          "IPAddress", "IPPrefixLen", "IPv6Gateway", "MacAddress"})
      ns[k] = p[k];
  }
  return {};
}

void NetworkService::release_netns(const std::string& id) {
  std::string path = netns_path(id);
  drop_netns(path);
  (void)impl_->store->forget_kernel_object("netns", path);
}

void NetworkService::detach(ContainerRecord& rec) {
  Impl& im = *impl_;
  {
    std::lock_guard g(im.mu);
    std::vector<Endpoint> mine;
    for (const auto& [id, ep] : im.endpoints)
      if (ep.container_id == rec.id) mine.push_back(ep);
    for (const auto& ep : mine) {
      auto net = im.networks.find(ep.network_id);
      im.disconnect_one(net == im.networks.end() ? nullptr : &net->second, ep, true);
    }
  }
  release_netns(rec.id);
  rec.shim.erase("endpoints");
  auto& ns = rec.network_settings;
  if (!ns.is_object()) return;
  if (ns.contains("Networks") && ns["Networks"].is_object())
    for (auto& [name, es] : ns["Networks"].items()) {
      for (const char* k : {"EndpointID", "Gateway", "GlobalIPv6Address", "IPAddress",
                            "IPv6Gateway", "MacAddress"})
        es[k] = "";
      es["IPPrefixLen"] = 0;
      es["GlobalIPv6PrefixLen"] = 0;
    }
  for (const char* k : {"EndpointID", "Gateway", "GlobalIPv6Address", "IPAddress", "IPv6Gateway",
                        "MacAddress", "SandboxKey", "SandboxID"})
    ns.erase(k);
  ns.erase("IPPrefixLen");
  ns.erase("GlobalIPv6PrefixLen");
  ns["Ports"] = Json::object();
}

Status NetworkService::connect(ContainerRecord& rec, std::string_view net_ref,
                               const Json& endpoint_config, pid_t pid) {
  Impl& im = *impl_;
  std::string mode = mode_of(rec.host_config);
  if (mode == "host" || mode == "none" || mode.starts_with("container:"))
    return fail(Code::Permission,
                "container " + rec.name + " uses network mode " + mode +
                    " and cannot be connected to other networks; recreate it with --network");
  std::unique_lock g(im.mu);
  auto found = im.find_locked(net_ref);
  if (!found) return std::unexpected(found.error());
  NetworkInfo& net = **found;
  if (net.driver == "host" || net.driver == "null")
    return fail(Code::Permission, "container cannot be disconnected from host network or "
                                  "connected to host network");
  Json& nets = rec.network_settings["Networks"];
  if (nets.contains(net.name) && !nets[net.name].value("EndpointID", "").empty())
    return fail(Code::Permission, "endpoint with name " + rec.name + " already exists in network " +
                                      net.name);
  if (nets.contains(net.name) && pid <= 0)
    return fail(Code::Permission, "endpoint with name " + rec.name + " already exists in network " +
                                      net.name);
  Json es = zero_endpoint();
  es["NetworkID"] = net.id;
  if (endpoint_config.is_object()) {
    if (auto c = endpoint_config.find("IPAMConfig"); c != endpoint_config.end() && c->is_object())
      es["IPAMConfig"] = *c;
    if (auto a = strings_of(endpoint_config.value("Aliases", Json::array())); !a.empty())
      es["Aliases"] = a;
    if (auto l = strings_of(endpoint_config.value("Links", Json::array())); !l.empty())
      es["Links"] = l;
  }
  if (pid > 0) {
    std::string netns = "/proc/" + std::to_string(pid) + "/ns/net";
    int index = 0;
    for (const auto& [id, ep] : im.endpoints)
      if (ep.container_id == rec.id) ++index;
    auto ep = im.connect_one(rec, net, es, netns, "eth" + std::to_string(index), {});
    if (!ep) return std::unexpected(ep.error());
    Json eps = rec.shim.value("endpoints", Json::array());
    eps.push_back(ep->to_json());
    rec.shim["endpoints"] = eps;
  }
  nets[net.name] = es;
  return {};
}

Status NetworkService::disconnect(ContainerRecord& rec, std::string_view net_ref, bool force) {
  Impl& im = *impl_;
  std::lock_guard g(im.mu);
  auto found = im.find_locked(net_ref);
  std::string name = found ? (*found)->name : std::string(net_ref);
  Json& nets = rec.network_settings["Networks"];
  if (!nets.contains(name)) {
    if (!found) return std::unexpected(found.error());
    return fail(Code::Permission,
                "container " + rec.id + " is not connected to network " + name);
  }
  if (found && ((*found)->driver == "host" || (*found)->driver == "null"))
    return fail(Code::Permission,
                "container cannot be disconnected from host network or connected to host network");
  (void)force;
  for (const auto& [id, ep] : std::map<std::string, Endpoint>(im.endpoints)) {
    if (ep.container_id != rec.id || !found || ep.network_id != (*found)->id) continue;
    im.disconnect_one(*found, ep, false);
    // The namespace stays; the veth end inside it goes with its peer.
    Json eps = Json::array();
    for (const auto& e : rec.shim.value("endpoints", Json::array()))
      if (e.value("id", "") != id) eps.push_back(e);
    rec.shim["endpoints"] = eps;
  }
  nets.erase(name);
  return {};
}

NetworkService::Impl::~Impl() {
  {
    std::lock_guard g(mu);
    stopping = true;
  }
  renew_cv.notify_all();
  if (renewer.joinable()) renewer.join();
}

void NetworkService::start_dhcp_renewal(std::function<pid_t(const std::string&)> pid_of) {
  Impl& im = *impl_;
  im.pid_of = std::move(pid_of);
  im.renewer = std::thread([&im] { im.renew_loop(); });
}

// Renews each DHCP lease at T1 (RFC 2131 4.4.5) from inside the container's namespace,
// with the endpoint's MAC; a lease that cannot be renewed is tried again every 10 s
// until it expires. The exchange runs without the service's lock.
void NetworkService::Impl::renew_loop() {
  std::unique_lock g(mu);
  while (!stopping) {
    renew_cv.wait_for(g, std::chrono::seconds(1));
    if (stopping) break;
    int64_t now = ::time(nullptr);
    std::vector<Endpoint> due;
    for (auto& [id, ep] : endpoints) {
      if (!ep.lease) continue;
      int64_t at = ep.next_renew ? ep.next_renew : ep.lease_obtained + ep.lease->t1_s;
      if (now >= at) due.push_back(ep);
    }
    for (const auto& ep : due) {
      g.unlock();
      pid_t pid = pid_of ? pid_of(ep.container_id) : 0;
      Result<network::DhcpLease> renewed = fail(Code::Unavailable, "container not running");
      if (pid > 0) {
        auto fd = network::open_netns("/proc/" + std::to_string(pid) + "/ns/net");
        renewed = fd ? network::dhcp_renew(fd->get(), ep.ifname, ep.mac, *ep.lease)
                     : Result<network::DhcpLease>(std::unexpected(fd.error()));
      }
      g.lock();
      auto it = endpoints.find(ep.id);
      if (it == endpoints.end()) continue;
      if (renewed) {
        it->second.lease = *renewed;
        it->second.lease_obtained = ::time(nullptr);
        it->second.next_renew = 0;
        spdlog::debug("DHCP: renewed {} for {}", renewed->address.str(), ep.container_name);
      } else if (pid > 0) {
        it->second.next_renew = now + 10;
        spdlog::warn("DHCP: renew {} of {}: {}", ep.lease->address.str(), ep.container_name,
                     renewed.error().message);
      } else {
        it->second.next_renew = now + 10;
      }
    }
  }
}

void NetworkService::renamed(const std::string& id, const std::string& name) {
  std::lock_guard g(impl_->mu);
  for (auto& [eid, ep] : impl_->endpoints)
    if (ep.container_id == id) ep.container_name = name;
}

std::string NetworkService::hosts_file(const ContainerRecord& rec) const {
  std::string out =
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
      "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";
  for (const auto& h : strings_of(rec.host_config.value("ExtraHosts", Json::array()))) {
    auto colon = h.find(':');
    if (colon == std::string::npos) continue;
    out += h.substr(colon + 1) + "\t" + h.substr(0, colon) + "\n";
  }
  std::string hostname = rec.config.value("Hostname", "");
  if (hostname.empty()) hostname = rec.id.substr(0, 12);
  std::string domain = rec.config.value("Domainname", "");
  std::string names = domain.empty() ? hostname : hostname + "." + domain + " " + hostname;
  // --link on the default network: the linked container's address under its alias.
  std::lock_guard g(impl_->mu);
  for (const auto& l : strings_of(rec.host_config.value("Links", Json::array()))) {
    auto colon = l.find(':');
    std::string target = l.substr(0, colon), alias = colon == std::string::npos ? "" : l.substr(colon + 1);
    while (!target.empty() && target.front() == '/') target.erase(0, 1);
    if (auto slash = alias.rfind('/'); slash != std::string::npos) alias = alias.substr(slash + 1);
    for (const auto& [id, ep] : impl_->endpoints)
      if (ep.container_name == target && !ep.addresses.empty()) {
        out += ep.addresses[0].addr.str() + "\t" + alias + " " + target + "\n";
        break;
      }
  }
  for (const auto& [id, ep] : impl_->endpoints)
    if (ep.container_id == rec.id)
      for (const auto& a : ep.addresses) out += a.addr.str() + "\t" + names + "\n";
  return out;
}

std::string NetworkService::resolv_conf(const ContainerRecord& rec) const {
  std::string host = sys::read_file("/etc/resolv.conf").value_or("");
  std::vector<std::string> servers, search, options;
  std::istringstream in(host);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key, v;
    ls >> key;
    if (key == "nameserver" && ls >> v) {
      // A resolver on the host's loopback is not reachable from the container.
      if (!v.starts_with("127.") && v != "::1") servers.push_back(v);
    } else if (key == "search" || key == "domain") {
      while (ls >> v) search.push_back(v);
    } else if (key == "options") {
      while (ls >> v) options.push_back(v);
    }
  }
  auto dns = strings_of(rec.host_config.value("Dns", Json::array()));
  if (!dns.empty()) servers = dns;
  if (auto s = strings_of(rec.host_config.value("DnsSearch", Json::array())); !s.empty())
    search = s;
  if (auto o = strings_of(rec.host_config.value("DnsOptions", Json::array())); !o.empty())
    options = o;
  // On a network with the embedded DNS the container asks it first; it answers container
  // names and passes the rest on to the host's resolvers.
  bool embedded = false;
  {
    std::lock_guard g(impl_->mu);
    for (const auto& [id, ep] : impl_->endpoints) {
      if (ep.container_id != rec.id) continue;
      auto n = impl_->networks.find(ep.network_id);
      if (n == impl_->networks.end() || !impl_->dns_enabled(n->second)) continue;
      for (const auto& s : n->second.subnets)
        if (s.subnet.family() == Family::V4) {
          servers.insert(servers.begin(), s.gateway.str());
          embedded = true;
          break;
        }
      break;
    }
  }
  std::string out;
  if (!search.empty()) {
    out += "search";
    for (const auto& s : search) out += " " + s;
    out += "\n";
  }
  for (const auto& s : servers) out += "nameserver " + s + "\n";
  if (embedded) options.insert(options.begin(), "ndots:0");
  if (!options.empty()) {
    out += "options";
    for (const auto& o : options) out += " " + o;
    out += "\n";
  }
  return out;
}

}  // namespace silo::engine
