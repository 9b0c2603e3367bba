#pragma once
// Link plans: the interfaces, addresses, routes and sysctls a driver wants, as plain
// data that unit tests read without root, and the executor that applies them.
//
// Namespaces are named by path (/run/netns/x, /proc/<pid>/ns/net, a bind mount under
// /run/silo/netns); the executor opens each once and passes the fd to Netlink.

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/error.h"
#include "network/address.h"
#include "network/netlink.h"

namespace silo::network {

struct CreateBridge {
  std::string ns, name;
};
// `name` in `ns`; its peer `peer_name` is created directly in `peer_ns`.
struct CreateVeth {
  std::string ns, name, peer_ns, peer_name;
};
// A macvlan (bridge mode) on `parent` in `ns`, created directly in `target_ns`.
struct CreateMacvlan {
  std::string ns, parent, name, target_ns;
};
struct SetMaster {
  std::string ns, name, master;
};
struct SetLink {
  std::string ns, name;
  std::optional<bool> up;
  std::optional<unsigned> mtu;
  std::string mac;  // "" leaves it
};
struct AddAddress {
  std::string ns, name;
  Prefix address;  // interface address with its prefix length, 10.1.0.1/24
};
struct AddRoute {
  std::string ns;
  Prefix dst;
  std::optional<IpAddress> gateway;
  std::string dev;
};
struct SetSysctl {
  std::string ns, key, value;  // key relative to /proc/sys: net/ipv4/ip_forward
};
struct DeleteLink {
  std::string ns, name;
};
// Silo's tag on a link it made (ifalias "silo:net=<id>", "silo:ep=<id>"); reconcile
// finds its leftovers by it.
struct SetAlias {
  std::string ns, name, alias;
};
// hairpin_mode on a bridge port: a container reaches its own published port.
struct SetHairpin {
  std::string ns, name;
  bool on = true;
};

using LinkStep = std::variant<CreateBridge, CreateVeth, CreateMacvlan, SetMaster, SetLink,
                              AddAddress, AddRoute, SetSysctl, DeleteLink, SetAlias, SetHairpin>;
using LinkPlan = std::vector<LinkStep>;

// One line per step, as `ip` would say it: "create bridge silo-nat0 in /run/netns/h".
std::string describe(const LinkStep& step);

// Applies `plan` in order. On the first failure, deletes the links this call created
// (newest first) and returns the error with the step in front, plus a hint for the
// usual causes ("File exists — another interface has that name; ...").
[[nodiscard]] Status apply_links(const LinkPlan& plan, Netlink& nl);

// Applies a teardown plan: runs every step even after a failure, treats a link that is
// already gone as done, and returns the first other error.
[[nodiscard]] Status teardown_links(const LinkPlan& plan, Netlink& nl);

}  // namespace silo::network
