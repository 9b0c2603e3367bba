// The network service: published ports (-p, -P) and static NAT mappings, each checked
// against every other mapping and the host's own listening sockets before anything
// changes.

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/fd.h"
#include "common/log.h"
#include "common/sys.h"
#include "engine/network_service_impl.h"
#include "network/netns.h"

namespace silo::engine {

using network::Family;
using network::IpAddress;
using network::PortMapping;

namespace {

bool overlaps(const PortMapping& a, const PortMapping& b) {
  if (a.proto != b.proto || a.host_port != b.host_port) return false;
  return !a.host_ip || !b.host_ip || *a.host_ip == *b.host_ip;
}

// The process listening on a local port, from /proc/net/{tcp,udp}[6] and the sockets in
// /proc/*/fd: "process nginx (pid 812)"; "" when it cannot be told.
std::string socket_holder(const PortMapping& m) {
  std::set<std::string> inodes;
  for (const char* v : {"", "6"}) {
    std::ifstream f("/proc/net/" + m.proto + v);
    std::string line;
    std::getline(f, line);
    while (std::getline(f, line)) {
      std::istringstream ls(line);
      std::string sl, local, remote, state, queues, tr, retr, uid, timeout, inode;
      ls >> sl >> local >> remote >> state >> queues >> tr >> retr >> uid >> timeout >> inode;
      auto colon = local.rfind(':');
      if (colon == std::string::npos) continue;
      unsigned port = std::stoul(local.substr(colon + 1), nullptr, 16);
      bool listening = m.proto == "udp" || state == "0A";
      if (port == m.host_port && listening && inode != "0") inodes.insert("socket:[" + inode + "]");
    }
  }
  if (inodes.empty()) return "";
  DIR* proc = ::opendir("/proc");
  if (!proc) return "";
  std::string found;
  while (dirent* d = ::readdir(proc)) {
    std::string pid = d->d_name;
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string fds = "/proc/" + pid + "/fd";
    DIR* fd_dir = ::opendir(fds.c_str());
    if (!fd_dir) continue;
    while (dirent* e = ::readdir(fd_dir)) {
      char buf[64];
      std::string link = fds + "/" + e->d_name;
      ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
      if (n <= 0) continue;
      if (inodes.contains(std::string(buf, static_cast<size_t>(n)))) {
        std::string comm = sys::read_file("/proc/" + pid + "/comm").value_or("?");
        while (!comm.empty() && comm.back() == '\n') comm.pop_back();
        found = "process " + comm + " (pid " + pid + ")";
        break;
      }
    }
    ::closedir(fd_dir);
    if (!found.empty()) break;
  }
  ::closedir(proc);
  return found;
}

// Whether a host socket holds the port: a bind with SO_REUSEADDR fails only when
// something listens (TCP) or is bound (UDP) there, not for connections in TIME_WAIT.
bool host_port_taken(const PortMapping& m) {
  Family f = m.host_ip ? m.host_ip->family : Family::V4;
  int domain = f == Family::V4 ? AF_INET : AF_INET6;
  UniqueFd s(::socket(domain, (m.proto == "udp" ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
  if (!s) return false;
  int one = 1;
  (void)::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (domain == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(m.host_port);
    if (m.host_ip) std::memcpy(&a->sin_addr, m.host_ip->bytes.data(), 4);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(m.host_port);
    std::memcpy(&a->sin6_addr, m.host_ip->bytes.data(), 16);
    len = sizeof *a;
  }
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0) return false;
  return errno == EADDRINUSE;
}

std::pair<uint16_t, uint16_t> ephemeral_range() {
  auto text = sys::read_file("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned lo = 32768, hi = 60999;
  if (text) std::sscanf(text->c_str(), "%u %u", &lo, &hi);
  if (lo == 0 || hi > 65535 || lo > hi) lo = 32768, hi = 60999;
  return {static_cast<uint16_t>(lo), static_cast<uint16_t>(hi)};
}

Json mapping_json(const std::string& network, const std::string& network_id, const PortMapping& m,
                  const std::string& internal, const std::string& container,
                  const std::string& container_name, bool is_static) {
  return {{"Network", network},
          {"NetworkID", network_id},
          {"Protocol", m.proto},
          {"ExternalIP", m.host_ip ? m.host_ip->str() : ""},
          {"ExternalPort", m.host_port},
          {"InternalIP", internal},
          {"InternalPort", m.container_port},
          {"Container", container},
          {"ContainerName", container_name},
          {"Static", is_static}};
}

}  // namespace

Status NetworkService::Impl::check_port_free(const PortMapping& m, const std::string& self) {
  std::string what = "port " + std::to_string(m.host_port) + "/" + m.proto + " on " +
                     (m.host_ip ? m.host_ip->str() : "0.0.0.0");
  for (const auto& [id, ep] : endpoints)
    for (const auto& p : ep.ports)
      if (overlaps(p, m))
        return fail(Code::Conflict,
                    ep.container_id == self
                        ? what + " is published twice by this container; publish it once"
                        : what + " is already published by container " + ep.container_name +
                              " (" + ep.container_id.substr(0, 12) +
                              "); stop it or publish another host port");
  for (const auto& s : statics)
    if (overlaps(s.port, m))
      return fail(Code::Conflict, what + " is held by a static NAT mapping to " +
                                      s.internal.str() + ":" +
                                      std::to_string(s.port.container_port) +
                                      "; remove it with `silo network nat rm --external-port " +
                                      std::to_string(m.host_port) + "` or publish another port");
  if (host_port_taken(m)) {
    std::string who = socket_holder(m);
    return fail(Code::Conflict, what + " is in use on the host" +
                                    (who.empty() ? "" : " by " + who) +
                                    "; stop it or publish another host port");
  }
  return {};
}

Result<std::vector<PortMapping>> NetworkService::Impl::resolve_ports(const ContainerRecord& rec) {
  std::vector<PortMapping> out;
  Json bindings = rec.host_config.value("PortBindings", Json::object());
  if (!bindings.is_object()) bindings = Json::object();
  if (rec.host_config.value("PublishAllPorts", false)) {
    const Json exposed = rec.config.value("ExposedPorts", Json::object());
    for (const auto& [k, _] : exposed.items())
      if (!bindings.contains(k)) bindings[k] = Json::array({Json::object()});
  }
  auto [lo, hi] = ephemeral_range();
  auto taken = [&](const PortMapping& m) {
    for (const auto& o : out)
      if (overlaps(o, m)) return true;
    return !check_port_free(m, rec.id);
  };
  for (const auto& [key, list] : bindings.items()) {
    if (!list.is_array()) continue;
    std::string port = key.substr(0, key.find('/'));
    std::string proto = key.find('/') == std::string::npos ? "tcp" : key.substr(key.find('/') + 1);
    if (proto != "tcp" && proto != "udp")
      return fail(Code::Invalid, "publish " + key + ": Silo publishes tcp and udp ports only");
    unsigned cport = std::strtoul(port.c_str(), nullptr, 10);
    if (cport == 0 || cport > 65535) return fail(Code::Invalid, "invalid port " + key);
    for (const auto& b : list) {
      PortMapping m{.proto = proto, .container_port = static_cast<uint16_t>(cport)};
      std::string hip = b.is_object() ? b.value("HostIp", "") : "";
      std::string hport = b.is_object() ? b.value("HostPort", "") : "";
      if (!hip.empty()) {
        auto a = IpAddress::parse(hip);
        if (!a) return wrap(a.error(), "publish " + key);
        if (network::to_number(*a) != 0) m.host_ip = *a;
        if (a->family == Family::V6 && network::to_number(*a) == 0) continue;  // "::": v4 covers it
      }
      unsigned from = 0, to = 0;
      if (hport.empty()) {
        from = lo, to = hi;
      } else if (auto dash = hport.find('-'); dash != std::string::npos) {
        from = std::strtoul(hport.substr(0, dash).c_str(), nullptr, 10);
        to = std::strtoul(hport.substr(dash + 1).c_str(), nullptr, 10);
      } else {
        from = to = std::strtoul(hport.c_str(), nullptr, 10);
      }
      if (from == 0 || to > 65535 || from > to)
        return fail(Code::Invalid, "publish " + key + ": invalid host port " + hport);
      if (from == to) {
        m.host_port = static_cast<uint16_t>(from);
        for (const auto& o : out)
          if (overlaps(o, m))
            return fail(Code::Conflict, "port " + std::to_string(from) + "/" + proto +
                                            " is published twice by this container");
        SILO_TRY_CTX(check_port_free(m, rec.id), "publish " + key);
        out.push_back(m);
        continue;
      }
      // A range or an ephemeral port: the next free one, going round from where the
      // last pick stopped (Docker's allocator does the same, so a freed port is not
      // handed out again at once).
      unsigned span = to - from + 1;
      unsigned start = hport.empty() && next_ephemeral >= from && next_ephemeral <= to
                           ? next_ephemeral
                           : from;
      bool ok = false;
      for (unsigned i = 0; i < span && !ok; ++i) {
        m.host_port = static_cast<uint16_t>(from + (start - from + i) % span);
        if (!taken(m)) ok = true;
      }
      if (!ok)
        return fail(Code::Conflict, "publish " + key + ": no free host port in " +
                                        std::to_string(from) + "-" + std::to_string(to));
      if (hport.empty()) next_ephemeral = static_cast<uint16_t>(m.host_port + 1);
      out.push_back(m);
    }
  }
  return out;
}

Status NetworkService::Impl::remove_tagged(const std::string& tag) {
  auto ns = network::open_netns(host_ns);
  if (!ns) return std::unexpected(ns.error());
  auto state = network::list_silo(*nft, ns->get());
  if (!state) return std::unexpected(state.error());
  auto plan = network::plan_remove(*state, tag);
  if (plan.empty()) return {};
  return nft->run(ns->get(), plan.script());
}

Status NetworkService::Impl::apply_static(const StaticMapping& s, const NetworkInfo& net) {
  network::NftEndpoint ep{.id = s.tag(), .bridge = net.bridge, .addresses = {s.internal},
                          .ports = {s.port}};
  auto plan = network::plan_add_endpoint(ep);
  if (!plan) return std::unexpected(plan.error());
  auto ns = network::open_netns(host_ns);
  if (!ns) return std::unexpected(ns.error());
  return nft->run(ns->get(), plan->script());
}

Result<Json> NetworkService::nat_list(std::string_view network) {
  Impl& im = *impl_;
  std::lock_guard g(im.mu);
  std::string want;
  if (!network.empty()) {
    auto n = im.find_locked(network);
    if (!n) return std::unexpected(n.error());
    want = (*n)->id;
  }
  Json out = Json::array();
  for (const auto& [id, ep] : im.endpoints) {
    if (ep.ports.empty() || (!want.empty() && ep.network_id != want)) continue;
    auto n = im.networks.find(ep.network_id);
    std::string name = n == im.networks.end() ? "" : n->second.name;
    std::string internal;
    for (const auto& a : ep.addresses)
      if (a.family() == Family::V4) internal = a.addr.str();
    for (const auto& m : ep.ports)
      out.push_back(mapping_json(name, ep.network_id, m, internal, ep.container_id,
                                 ep.container_name, false));
  }
  for (const auto& s : im.statics) {
    if (!want.empty() && s.network_id != want) continue;
    auto n = im.networks.find(s.network_id);
    out.push_back(mapping_json(n == im.networks.end() ? "" : n->second.name, s.network_id,
                               s.port, s.internal.str(), "", "", true));
  }
  return out;
}

Status NetworkService::nat_add(const Json& body) {
  Impl& im = *impl_;
  if (!body.is_object()) return fail(Code::Invalid, "nat add: the body must be an object");
  std::lock_guard g(im.mu);
  std::string net_ref = body.value("Network", "");
  auto found = im.find_locked(net_ref.empty() ? "nat" : net_ref);
  if (!found) return std::unexpected(found.error());
  NetworkInfo& net = **found;
  if (net.driver != "nat")
    return fail(Code::Invalid, "network " + net.name + " uses the " + net.driver +
                                   " driver; static NAT mappings need a nat network");
  PortMapping m{.proto = body.value("Protocol", "tcp")};
  if (m.proto != "tcp" && m.proto != "udp")
    return fail(Code::Invalid, "protocol " + m.proto + ": want tcp or udp");
  auto port = [&](const char* key) -> Result<uint16_t> {
    auto it = body.find(key);
    if (it == body.end() || !it->is_number_integer() || it->get<int64_t>() < 1 ||
        it->get<int64_t>() > 65535)
      return fail(Code::Invalid, std::string(key) + ": want a port from 1 to 65535");
    return static_cast<uint16_t>(it->get<int64_t>());
  };
  auto ext = port("ExternalPort");
  if (!ext) return std::unexpected(ext.error());
  auto in = port("InternalPort");
  if (!in) return std::unexpected(in.error());
  m.host_port = *ext;
  m.container_port = *in;
  if (auto ip = body.value("ExternalIP", ""); !ip.empty()) {
    auto a = IpAddress::parse(ip);
    if (!a) return wrap(a.error(), "ExternalIP");
    if (network::to_number(*a) != 0) m.host_ip = *a;
  }
  auto internal = IpAddress::parse(body.value("InternalIP", ""));
  if (!internal) return wrap(internal.error(), "InternalIP");
  bool inside = std::any_of(net.subnets.begin(), net.subnets.end(),
                            [&](const auto& s) { return s.subnet.contains(*internal); });
  if (!inside)
    return fail(Code::Invalid, "internal address " + internal->str() +
                                   " is not in a subnet of network " + net.name);
  SILO_TRY(im.check_port_free(m, ""));
  StaticMapping s{.network_id = net.id, .port = m, .internal = *internal};
  Json data = {{"port", std::to_string(m.host_port) + ":" + std::to_string(m.container_port) +
                            "/" + m.proto},
               {"host_ip", m.host_ip ? m.host_ip->str() : ""},
               {"internal", internal->str()}};
  auto id = im.store->add_static_nat({.network_id = net.id, .data = data});
  if (!id) return std::unexpected(id.error());
  s.id = *id;
  if (auto ok = im.apply_static(s, net); !ok) {
    (void)im.remove_tagged(network::endpoint_tag(s.tag()));
    (void)im.store->remove_static_nat(s.id);
    return std::unexpected(ok.error());
  }
  im.statics.push_back(s);
  return {};
}

Result<Json> NetworkService::nat_remove(std::string_view network, std::optional<uint16_t> port,
                                        std::string_view proto) {
  Impl& im = *impl_;
  std::lock_guard g(im.mu);
  std::string want;
  if (!network.empty()) {
    auto n = im.find_locked(network);
    if (!n) return std::unexpected(n.error());
    want = (*n)->id;
  }
  if (port)
    for (const auto& [id, ep] : im.endpoints)
      for (const auto& m : ep.ports)
        if (m.host_port == *port && (proto.empty() || m.proto == proto) &&
            (want.empty() || ep.network_id == want))
          return fail(Code::Conflict, "port " + std::to_string(*port) + "/" + m.proto +
                                          " is published by container " + ep.container_name +
                                          "; stop the container to remove its mapping");
  Json removed = Json::array();
  for (auto it = im.statics.begin(); it != im.statics.end();) {
    bool match = (want.empty() || it->network_id == want) && (!port || it->port.host_port == *port) &&
                 (proto.empty() || it->port.proto == proto);
    if (!match) {
      ++it;
      continue;
    }
    SILO_TRY(im.remove_tagged(network::endpoint_tag(it->tag())));
    SILO_TRY(im.store->remove_static_nat(it->id));
    auto n = im.networks.find(it->network_id);
    removed.push_back(mapping_json(n == im.networks.end() ? "" : n->second.name, it->network_id,
                                   it->port, it->internal.str(), "", "", true));
    it = im.statics.erase(it);
  }
  if (port && removed.empty())
    return fail(Code::NotFound, "no static NAT mapping on external port " +
                                    std::to_string(*port) + "; see `silo network nat ls`");
  return Json{{"Removed", removed}};
}

}  // namespace silo::engine
