// Reconcile over the fakes: only tagged, unknown objects are removed.

#include <gtest/gtest.h>

#include "fakes.h"
#include "network/reconcile.h"

namespace silo::network {
namespace {

using testing::FakeNetlink;
using testing::FakeNftables;

const std::string kNs = "/proc/self/ns/net";

const char* kListing = R"({"nftables": [
  {"metainfo": {"json_schema_version": 1}},
  {"table": {"family": "inet", "name": "silo", "handle": 1}},
  {"set": {"family": "inet", "table": "silo", "name": "bridges", "elem": ["silo-keep", "silo-gone"]}},
  {"rule": {"family": "inet", "table": "silo", "chain": "forward", "handle": 7, "comment": "silo:net=keep"}},
  {"rule": {"family": "inet", "table": "silo", "chain": "forward", "handle": 8, "comment": "silo:net=gone"}},
  {"rule": {"family": "inet", "table": "silo", "chain": "prerouting", "handle": 9, "comment": "silo:ep=e-gone"}},
  {"rule": {"family": "inet", "table": "silo", "chain": "prerouting", "handle": 10, "comment": "silo:ep=e-keep"}},
  {"rule": {"family": "inet", "table": "silo", "chain": "forward", "handle": 11}}
]})";

KnownState known() {
  return {{"keep"}, {"e-keep"}, {"silo-keep"}};
}

std::vector<LinkInfo> links() {
  return {
      {.index = 1, .name = "lo"},
      {.index = 2, .name = "silo-keep", .kind = "bridge", .alias = "silo:net=keep"},
      {.index = 3, .name = "silo-gone", .kind = "bridge", .alias = "silo:net=gone"},
      {.index = 4, .name = "vethgone", .kind = "veth", .alias = "silo:ep=e-gone"},
      {.index = 5, .name = "vethkeep", .kind = "veth", .alias = "silo:ep=e-keep"},
      // Named like Silo's but not tagged: someone else's, never touched.
      {.index = 6, .name = "silo-foreign", .kind = "bridge"},
      {.index = 7, .name = "veth0", .kind = "veth", .alias = "my laptop"},
  };
}

TEST(Reconcile, RemovesOnlyTaggedUnknownObjects) {
  auto st = parse_nft_json(kListing);
  ASSERT_TRUE(st);
  Strays s = plan_reconcile(*st, links(), known(), kNs);
  EXPECT_EQ(s.nft.commands, (std::vector<std::string>{
                                "delete rule inet silo forward handle 8",
                                "delete rule inet silo prerouting handle 9",
                                "delete element inet silo bridges { \"silo-gone\" }",
                            }));
  std::vector<std::string> deleted;
  for (const auto& step : s.links) deleted.push_back(describe(step));
  EXPECT_EQ(deleted, (std::vector<std::string>{"delete interface silo-gone in " + kNs,
                                               "delete interface vethgone in " + kNs}));
  EXPECT_EQ(s.found.size(), 5u);
}

TEST(Reconcile, NothingStrayIsAnEmptyPlan) {
  auto st = parse_nft_json(kListing);
  KnownState all{{"keep", "gone"}, {"e-keep", "e-gone"}, {"silo-keep", "silo-gone"}};
  EXPECT_TRUE(plan_reconcile(*st, links(), all, kNs).empty());
  EXPECT_TRUE(plan_reconcile(NftState{}, {}, KnownState{}, kNs).empty());
}

TEST(Reconcile, FindAndRemoveOverTheFakes) {
  FakeNetlink nl;
  nl.links = links();
  FakeNftables nft;
  nft.listing = kListing;
  auto s = find_strays(nl, nft, kNs, known());
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(remove_strays(nl, nft, kNs, *s));
  ASSERT_EQ(nft.scripts.size(), 1u);  // one transaction
  EXPECT_NE(nft.scripts[0].find("handle 8"), std::string::npos);
  EXPECT_EQ(nl.calls, (std::vector<std::string>{"delete_link silo-gone", "delete_link vethgone"}));
}

TEST(Reconcile, FirewallFailureStillRemovesLinksAndIsReported) {
  FakeNetlink nl;
  nl.links = links();
  FakeNftables nft;
  nft.listing = kListing;
  nft.fail_run = true;
  auto s = find_strays(nl, nft, kNs, known());
  ASSERT_TRUE(s);
  auto r = remove_strays(nl, nft, kNs, *s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("reconcile: remove stray rules"), std::string::npos);
  EXPECT_EQ(nl.calls.size(), 2u);
}

}  // namespace
}  // namespace silo::network
