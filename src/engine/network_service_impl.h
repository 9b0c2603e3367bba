#pragma once
// Private to network_*.cc: the state NetworkService::Impl keeps.

#include <sys/types.h>

#include <condition_variable>
#include <map>
#include <thread>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/network_service.h"
#include "network/nat.h"

namespace silo::engine {

struct NetworkService::Impl {
  DaemonConfig cfg;
  Store* store = nullptr;
  std::string host_ns;  // /proc/<silod>/ns/net: where bridges and rules live
  std::unique_ptr<network::Netlink> nl;
  std::unique_ptr<network::Nftables> nft;
  std::unique_ptr<network::DnsServer> dns;

  std::mutex mu;  // guards everything below
  std::map<std::string, NetworkInfo> networks;  // by id
  std::map<std::string, Endpoint> endpoints;    // by endpoint id
  std::vector<StaticMapping> statics;
  uint16_t next_ephemeral = 0;

  // The DHCP renewer: one thread renewing leases at T1 (network_endpoints.cc).
  std::function<pid_t(const std::string&)> pid_of;
  std::thread renewer;
  std::condition_variable renew_cv;
  bool stopping = false;
  void renew_loop();
  ~Impl();

  // --- network_service.cc ---
  Result<NetworkInfo*> find_locked(std::string_view ref);
  NetworkInfo* default_network();
  Status save(const NetworkInfo& net);
  Json inspect_json(const NetworkInfo& net, bool with_containers);
  std::vector<network::NamedPrefix> used_subnets(const std::string& except_id);
  Status create_kernel(const NetworkInfo& net);
  Status delete_kernel(const NetworkInfo& net);
  network::NatNetwork nat_of(const NetworkInfo& net) const;

  // --- network_endpoints.cc ---
  // Connects one endpoint of `rec` to `net` in the namespace `netns`; the endpoint's
  // settings (Docker's EndpointSettings) are read from and written to `settings`.
  Result<Endpoint> connect_one(ContainerRecord& rec, NetworkInfo& net, Json& settings,
                               const std::string& netns, const std::string& ifname,
                               const std::vector<network::PortMapping>& ports);
  void disconnect_one(NetworkInfo* net, const Endpoint& ep, bool ns_gone);
  void release_addresses(NetworkInfo& net, const Endpoint& ep);

  // --- network_ports.cc ---
  // The host side of the container's PortBindings (+ -P), ephemeral ports picked, each
  // checked against every other mapping and the host's listening sockets.
  Result<std::vector<network::PortMapping>> resolve_ports(const ContainerRecord& rec);
  Status check_port_free(const network::PortMapping& m, const std::string& self_container);
  Status apply_static(const StaticMapping& s, const NetworkInfo& net);
  Status remove_tagged(const std::string& tag);

  // --- network_dns.cc ---
  void dns_listen(const NetworkInfo& net);
  void dns_unlisten(const NetworkInfo& net);
  bool dns_enabled(const NetworkInfo& net) const;
};

// Docker's MAC for an IPv4 endpoint: 02:42 and the address's four bytes.
std::string mac_from_ipv4(const network::IpAddress& a);

}  // namespace silo::engine
