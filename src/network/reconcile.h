#pragma once
// Reconcile: after a crash or an unclean stop, find what Silo made in the kernel that the
// engine no longer knows of, and remove it. Only objects carrying Silo's tag are
// candidates: rules in `inet silo` with a "silo:net=<id>"/"silo:ep=<id>" comment,
// elements of its `bridges` set, and links whose ifalias is such a tag (set when Silo
// created them). A link is never judged by its name: a `silo-x` bridge someone else
// made has no tag and stays.

#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "network/link_plan.h"
#include "network/netlink.h"
#include "network/nft.h"

namespace silo::network {

// What the engine believes exists.
struct KnownState {
  std::set<std::string> networks;   // network ids
  std::set<std::string> endpoints;  // endpoint ids
  std::set<std::string> bridges;    // bridge names of nat networks
};

struct Strays {
  NftPlan nft;                     // one transaction removing stray rules and set elements
  LinkPlan links;                  // deletes of stray tagged links
  std::vector<std::string> found;  // one line per stray, for the log
  bool empty() const { return nft.empty() && links.empty(); }
};

// Pure: what in `nft` and `links` (of the namespace `host_ns`) is tagged and unknown.
Strays plan_reconcile(const NftState& nft, const std::vector<LinkInfo>& links,
                      const KnownState& known, const std::string& host_ns);

// Lists the table and the links of `host_ns`, then plan_reconcile.
[[nodiscard]] Result<Strays> find_strays(Netlink& nl, Nftables& nft, const std::string& host_ns,
                                         const KnownState& known);
// Applies the plan: the nftables transaction, then the link deletes (all attempted).
[[nodiscard]] Status remove_strays(Netlink& nl, Nftables& nft, const std::string& host_ns,
                                   const Strays& strays);

}  // namespace silo::network
