#include "network/reconcile.h"

#include "network/netns.h"

namespace silo::network {

namespace {

constexpr std::string_view kNet = "silo:net=", kEp = "silo:ep=";

// True when `tag` is Silo's and names something the engine does not know.
bool stray_tag(std::string_view tag, const KnownState& known) {
  if (tag.starts_with(kNet)) return !known.networks.contains(std::string(tag.substr(kNet.size())));
  if (tag.starts_with(kEp)) return !known.endpoints.contains(std::string(tag.substr(kEp.size())));
  return false;
}

}  // namespace

Strays plan_reconcile(const NftState& nft, const std::vector<LinkInfo>& links,
                      const KnownState& known, const std::string& host_ns) {
  Strays s;
  for (const auto& r : nft.rules) {
    if (!stray_tag(r.comment, known)) continue;
    s.nft.commands.push_back("delete rule " + std::string(kNftTable) + " " + r.chain + " handle " +
                             std::to_string(r.handle));
    s.found.push_back("rule " + r.chain + " handle " + std::to_string(r.handle) + " (" + r.comment +
                      ")");
  }
  for (const auto& b : nft.bridges) {
    if (known.bridges.contains(b)) continue;
    s.nft.commands.push_back("delete element " + std::string(kNftTable) + " bridges { \"" + b +
                             "\" }");
    s.found.push_back("bridges set element " + b);
  }
  for (const auto& l : links) {
    if (!stray_tag(l.alias, known)) continue;
    s.links.push_back(DeleteLink{host_ns, l.name});
    s.found.push_back("interface " + l.name + " (" + l.alias + ")");
  }
  return s;
}

Result<Strays> find_strays(Netlink& nl, Nftables& nft, const std::string& host_ns,
                           const KnownState& known) {
  auto ns = open_netns(host_ns);
  if (!ns) return wrap(ns.error(), "reconcile");
  auto state = list_silo(nft, ns->get());
  if (!state) return wrap(state.error(), "reconcile");
  auto links = nl.list_links(ns->get());
  if (!links) return wrap(links.error(), "reconcile: list interfaces");
  return plan_reconcile(*state, *links, known, host_ns);
}

Status remove_strays(Netlink& nl, Nftables& nft, const std::string& host_ns, const Strays& strays) {
  Status fw;
  if (!strays.nft.empty()) {
    auto ns = open_netns(host_ns);
    fw = ns ? nft.run(ns->get(), strays.nft.script()) : Status(std::unexpected(ns.error()));
  }
  auto links = teardown_links(strays.links, nl);
  if (!fw) return wrap(fw.error(), "reconcile: remove stray rules");
  if (!links) return wrap(links.error(), "reconcile: remove stray interfaces");
  return {};
}

}  // namespace silo::network
