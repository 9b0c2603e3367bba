#pragma once
// Recording fakes of Netlink and Nftables: what would be done, and failures on demand.

#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include "network/netlink.h"
#include "network/nft.h"

namespace silo::network::testing {

class FakeNetlink : public Netlink {
 public:
  std::vector<std::string> calls;
  std::map<std::string, int> fail_on;  // call text -> errno to fail it with

  Status create_bridge(int, const std::string& n) override { return rec("create_bridge " + n); }
  Status create_veth(int, const std::string& n, int, const std::string& p) override {
    return rec("create_veth " + n + " " + p);
  }
  Status create_macvlan(int, const std::string& parent, const std::string& n, int) override {
    return rec("create_macvlan " + n + " on " + parent);
  }
  Status set_master(int, const std::string& n, const std::string& m) override {
    return rec("set_master " + n + " " + m);
  }
  Status set_link(int, const std::string& n, std::optional<bool> up, std::optional<unsigned> mtu,
                  const std::string& mac) override {
    std::string s = "set_link " + n;
    if (up) s += *up ? " up" : " down";
    if (mtu) s += " mtu " + std::to_string(*mtu);
    if (!mac.empty()) s += " mac " + mac;
    return rec(s);
  }
  Status add_address(int, const std::string& n, const Prefix& a) override {
    return rec("add_address " + n + " " + a.str());
  }
  Status add_route(int, const Prefix& d, const std::optional<IpAddress>& g,
                   const std::string& dev) override {
    return rec("add_route " + d.str() + (g ? " via " + g->str() : "") + " dev " + dev);
  }
  Status delete_link(int, const std::string& n) override { return rec("delete_link " + n); }
  Status set_alias(int, const std::string& n, const std::string& a) override {
    return rec("set_alias " + n + " " + a);
  }
  Status set_hairpin(int, const std::string& n, bool on) override {
    return rec("set_hairpin " + n + (on ? " on" : " off"));
  }
  // Answers from `links` (by name); nullopt for any other name.
  Result<std::optional<LinkInfo>> find_link(int, const std::string& n) override {
    for (const auto& l : links)
      if (l.name == n) return l;
    return std::nullopt;
  }
  Result<std::vector<LinkInfo>> list_links(int) override { return links; }
  Result<std::vector<RouteInfo>> list_routes(int) override { return routes; }
  Status set_sysctl(int, const std::string& k, const std::string& v) override {
    return rec("sysctl " + k + "=" + v);
  }

  std::vector<RouteInfo> routes;
  std::vector<LinkInfo> links;  // what find_link and list_links see

 private:
  Status rec(std::string call) {
    calls.push_back(call);
    if (auto it = fail_on.find(call); it != fail_on.end()) return fail_errno(it->second, "fake");
    return {};
  }
};

class FakeNftables : public Nftables {
 public:
  std::vector<std::string> scripts;
  std::string listing;  // what list_json returns
  bool fail_run = false;

  Status run(int, const std::string& script) override {
    scripts.push_back(script);
    if (fail_run) return fail(Code::Internal, "nft: Error: Could not process rule");
    return {};
  }
  Result<std::string> list_json(int) override { return listing; }
};

}  // namespace silo::network::testing
