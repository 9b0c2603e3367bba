#pragma once
// The host network service as the engine runs it: networks in the store, endpoints of
// running containers, port mappings and static NAT mappings, the embedded DNS, and
// reconcile of the kernel objects after a crash. The drivers, IPAM and nftables plans
// are the network library's (src/network); this file joins them to containers.
//
// A container on a network gets, at each start, a fresh network namespace bind-mounted at
// <exec-root>/netns/<id> (journaled first) that the endpoints are made in before its
// process runs; once the shim holds the namespace the bind mount goes, so the kernel
// frees the namespace and its veths when the container's last process exits.
//
// Private to the engine. Thread-safe: one mutex serialises network changes; it is taken
// after a container's operation lock, never before.

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"
#include "engine/config.h"
#include "engine/store.h"
#include "network/address.h"
#include "network/dhcp.h"
#include "network/ipam.h"
#include "network/netlink.h"
#include "network/nft.h"

namespace silo::network {
class DnsServer;
}

namespace silo::engine {

using FilterValues = std::map<std::string, std::vector<std::string>>;

// A network as the service keeps it (NetworkRecord::data holds it as JSON).
struct NetworkInfo {
  std::string id;
  std::string name;
  std::string driver;  // nat, transparent, l2bridge, host, null
  std::string created;
  Labels labels;
  std::map<std::string, std::string> options;
  std::map<std::string, std::string> ipam_options;
  bool internal = false;
  bool ipv6 = false;
  bool attachable = false;
  bool builtin = false;  // the default nat network, host and none
  std::vector<network::IpamSubnet> subnets;
  std::string bridge;  // nat: the Linux bridge
  std::string parent;  // transparent, l2bridge: the host interface
  std::optional<unsigned> mtu;

  bool dhcp() const { return driver == "transparent" && subnets.empty(); }
  Json to_data() const;
  [[nodiscard]] static Result<NetworkInfo> from_record(const NetworkRecord& rec);
};

// One endpoint of a running container.
struct Endpoint {
  std::string id;
  std::string container_id;
  std::string container_name;
  std::string network_id;
  std::string ifname;
  std::vector<network::Prefix> addresses;  // with the subnet's length
  std::string mac;
  std::vector<std::string> aliases;  // --network-alias, the short id
  std::map<std::string, std::string> links;  // --link: alias -> container name, for its own lookups
  std::vector<network::PortMapping> ports;
  std::optional<network::DhcpLease> lease;  // DHCP: what the server granted
  int64_t lease_obtained = 0;               // unix seconds of the last ACK
  int64_t next_renew = 0;                   // unix seconds; 0 = at T1

  Json to_json() const;
  [[nodiscard]] static Result<Endpoint> from_json(const Json& j);
};

// A static NAT mapping (Windows' NetNatStaticMapping).
struct StaticMapping {
  int64_t id = 0;
  std::string network_id;
  network::PortMapping port;    // host side in host_ip/host_port
  network::IpAddress internal;  // where it goes, with port.container_port
  std::string tag() const { return "static-" + std::to_string(id); }
};

class NetworkService {
 public:
  // Loads the networks, makes the built-in ones (the default `nat` unless daemon.json
  // says "bridge": "none", `host`, `none`), re-learns the endpoints of the containers in
  // `running`, and starts the embedded DNS. Reconcile runs separately (reconcile()).
  [[nodiscard]] static Result<std::unique_ptr<NetworkService>> open(
      const DaemonConfig& cfg, Store& store, const std::vector<ContainerRecord>& running);
  ~NetworkService();

  // --- networks (the /networks API) ---
  [[nodiscard]] Result<Json> create(const Json& body);  // {"Id","Warning"}
  [[nodiscard]] Result<NetworkInfo> find(std::string_view ref);
  [[nodiscard]] Result<Json> inspect(std::string_view ref);
  [[nodiscard]] Result<Json> list(const FilterValues& filters);
  // Errors: Conflict naming the containers still attached; Forbidden-style Invalid for the
  // built-in networks.
  [[nodiscard]] Status remove(std::string_view ref);
  [[nodiscard]] Result<std::vector<std::string>> prune(const FilterValues& filters);

  // --- static NAT (silo network nat) ---
  [[nodiscard]] Result<Json> nat_list(std::string_view network);
  [[nodiscard]] Status nat_add(const Json& body);
  [[nodiscard]] Result<Json> nat_remove(std::string_view network, std::optional<uint16_t> port,
                                        std::string_view proto);

  // --- containers ---
  // The network a container joins first (NetworkMode), resolved: "default"/"bridge" is
  // the default network. nullopt for none/host/container:<x>.
  bool needs_netns(const Json& host_config) const;
  // At create: checks the container's networks exist and its endpoint settings fit them,
  // and fills NetworkSettings.Networks (one entry per network, by name).
  [[nodiscard]] Status prepare(ContainerRecord& rec);
  // At start: the namespace and every endpoint, ports published. Fills the runtime fields
  // of rec.network_settings and rec.shim["endpoints"]. Undoes everything on failure.
  [[nodiscard]] Status attach(ContainerRecord& rec, const std::string& netns_path);
  // Removes the bind mount of a started container's namespace (its processes hold it).
  void release_netns(const std::string& id);
  // When a container stopped: its endpoints' rules, links and addresses, and the runtime
  // fields of its settings. Never fails; problems are logged.
  void detach(ContainerRecord& rec);
  // docker network connect / disconnect. `pid` is the container's init when it runs.
  [[nodiscard]] Status connect(ContainerRecord& rec, std::string_view net_ref,
                               const Json& endpoint_config, pid_t pid);
  [[nodiscard]] Status disconnect(ContainerRecord& rec, std::string_view net_ref, bool force);
  // A container's new name, for the embedded DNS and network inspect.
  void renamed(const std::string& id, const std::string& name);
  // The netns path a container's spec names (its bind mount while starting).
  std::string netns_path(const std::string& id) const;
  // Lines for /etc/hosts and resolv.conf of a started container.
  std::string hosts_file(const ContainerRecord& rec) const;
  std::string resolv_conf(const ContainerRecord& rec) const;

  // How the DHCP renewer finds a running container's init (0: not running). Set once by
  // the engine after open(); the renewer thread starts then.
  void start_dhcp_renewal(std::function<pid_t(const std::string& container_id)> pid_of);

  // Removes tagged nftables rules, links and netns mounts no container or network needs.
  [[nodiscard]] Status reconcile();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace silo::engine
