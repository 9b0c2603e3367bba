#include "network/link_plan.h"

#include <cerrno>
#include <map>

#include "network/netns.h"

namespace silo::network {

namespace {

template <class... F>
struct Overload : F... {
  using F::operator()...;
};

// The namespaces a plan names, each opened once.
class NsTable {
 public:
  Result<int> fd(const std::string& path) {
    if (auto it = fds_.find(path); it != fds_.end()) return it->second.get();
    auto f = open_netns(path);
    if (!f) return std::unexpected(f.error());
    int raw = f->get();
    fds_.emplace(path, std::move(*f));
    return raw;
  }

 private:
  std::map<std::string, UniqueFd> fds_;
};

Status run_step(const LinkStep& step, Netlink& nl, NsTable& ns) {
  auto in = [&](const std::string& path, auto&& fn) -> Status {
    auto f = ns.fd(path);
    if (!f) return std::unexpected(f.error());
    return fn(*f);
  };
  return std::visit(
      Overload{
          [&](const CreateBridge& s) {
            return in(s.ns, [&](int f) { return nl.create_bridge(f, s.name); });
          },
          [&](const CreateVeth& s) {
            return in(s.ns, [&](int f) {
              return in(s.peer_ns,
                        [&](int p) { return nl.create_veth(f, s.name, p, s.peer_name); });
            });
          },
          [&](const CreateMacvlan& s) {
            return in(s.ns, [&](int f) {
              return in(s.target_ns,
                        [&](int t) { return nl.create_macvlan(f, s.parent, s.name, t); });
            });
          },
          [&](const SetMaster& s) {
            return in(s.ns, [&](int f) { return nl.set_master(f, s.name, s.master); });
          },
          [&](const SetLink& s) {
            return in(s.ns, [&](int f) { return nl.set_link(f, s.name, s.up, s.mtu, s.mac); });
          },
          [&](const AddAddress& s) {
            return in(s.ns, [&](int f) { return nl.add_address(f, s.name, s.address); });
          },
          [&](const AddRoute& s) {
            return in(s.ns, [&](int f) { return nl.add_route(f, s.dst, s.gateway, s.dev); });
          },
          [&](const SetSysctl& s) {
            return in(s.ns, [&](int f) { return nl.set_sysctl(f, s.key, s.value); });
          },
          [&](const DeleteLink& s) {
            return in(s.ns, [&](int f) { return nl.delete_link(f, s.name); });
          },
          [&](const SetAlias& s) {
            return in(s.ns, [&](int f) { return nl.set_alias(f, s.name, s.alias); });
          },
          [&](const SetHairpin& s) {
            return in(s.ns, [&](int f) { return nl.set_hairpin(f, s.name, s.on); });
          },
      },
      step);
}

// What to do about the usual failures, by step and errno.
std::string hint(const LinkStep& step, int err) {
  if (err == EEXIST && std::holds_alternative<CreateBridge>(step))
    return " — another interface has that name; pick another network name or bridge name";
  if (err == EEXIST &&
      (std::holds_alternative<CreateVeth>(step) || std::holds_alternative<CreateMacvlan>(step)))
    return " — another interface has that name (a leftover endpoint?); disconnect it or remove the "
           "interface";
  if (err == ENODEV && std::holds_alternative<CreateMacvlan>(step))
    return " — name an existing parent interface in the network's options";
  if (err == EPERM) return " — this needs CAP_NET_ADMIN (run silod as root)";
  return "";
}

// The link a step creates in the namespace that will keep it (for rollback).
std::optional<DeleteLink> undo_of(const LinkStep& step) {
  if (auto* b = std::get_if<CreateBridge>(&step)) return DeleteLink{b->ns, b->name};
  if (auto* v = std::get_if<CreateVeth>(&step)) return DeleteLink{v->ns, v->name};
  if (auto* m = std::get_if<CreateMacvlan>(&step)) return DeleteLink{m->target_ns, m->name};
  return std::nullopt;
}

}  // namespace

std::string describe(const LinkStep& step) {
  return std::visit(
      Overload{
          [](const CreateBridge& s) { return "create bridge " + s.name + " in " + s.ns; },
          [](const CreateVeth& s) {
            return "create veth pair " + s.name + " in " + s.ns + " / " + s.peer_name + " in " +
                   s.peer_ns;
          },
          [](const CreateMacvlan& s) {
            return "create macvlan " + s.name + " on " + s.parent + " in " + s.target_ns;
          },
          [](const SetMaster& s) {
            return "attach " + s.name + " to bridge " + s.master + " in " + s.ns;
          },
          [](const SetLink& s) {
            std::string out = "set " + s.name;
            if (s.up) out += *s.up ? " up" : " down";
            if (s.mtu) out += " mtu " + std::to_string(*s.mtu);
            if (!s.mac.empty()) out += " address " + s.mac;
            return out + " in " + s.ns;
          },
          [](const AddAddress& s) {
            return "add address " + s.address.str() + " to " + s.name + " in " + s.ns;
          },
          [](const AddRoute& s) {
            return "add route " + (s.dst.len == 0 ? std::string("default") : s.dst.str()) +
                   (s.gateway ? " via " + s.gateway->str() : std::string()) + " dev " + s.dev +
                   " in " + s.ns;
          },
          [](const SetSysctl& s) { return "set " + s.key + "=" + s.value + " in " + s.ns; },
          [](const DeleteLink& s) { return "delete interface " + s.name + " in " + s.ns; },
          [](const SetAlias& s) { return "set " + s.name + " alias " + s.alias + " in " + s.ns; },
          [](const SetHairpin& s) {
            return "set bridge port " + s.name + " hairpin " + (s.on ? "on" : "off") + " in " +
                   s.ns;
          },
      },
      step);
}

Status apply_links(const LinkPlan& plan, Netlink& nl) {
  NsTable ns;
  std::vector<DeleteLink> created;
  for (const auto& step : plan) {
    auto r = run_step(step, nl, ns);
    if (!r) {
      for (auto it = created.rbegin(); it != created.rend(); ++it) (void)run_step(*it, nl, ns);
      Error e = r.error().wrap(describe(step));
      e.message += hint(step, e.sys_errno);
      return std::unexpected(std::move(e));
    }
    if (auto undo = undo_of(step)) created.push_back(*undo);
  }
  return {};
}

Status teardown_links(const LinkPlan& plan, Netlink& nl) {
  NsTable ns;
  Status first;
  for (const auto& step : plan) {
    auto r = run_step(step, nl, ns);
    bool gone = !r && std::holds_alternative<DeleteLink>(step) &&
                (r.error().code == Code::NotFound || r.error().sys_errno == ENODEV);
    if (!r && !gone && first) first = wrap(r.error(), describe(step));
  }
  return first;
}

}  // namespace silo::network
