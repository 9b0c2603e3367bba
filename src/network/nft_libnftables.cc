// Nftables over libnftables: the nft language parser and the netlink batch are
// Debian's; Silo only writes scripts for its own table.

#include <nftables/libnftables.h>

#include <memory>

#include "network/netns.h"
#include "network/nft.h"

namespace silo::network {

namespace {

struct CtxFree {
  void operator()(nft_ctx* c) const { nft_ctx_free(c); }
};

// Runs one script with buffered output; returns stdout, or the error text nft printed.
// Called on a thread inside the target namespace: the context's netlink socket is
// opened there, so it talks to that namespace's nftables.
Result<std::string> run_script(const std::string& script, unsigned output_flags) {
  std::unique_ptr<nft_ctx, CtxFree> ctx(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ctx) return fail(Code::Internal, "nftables: cannot create a context");
  nft_ctx_output_set_flags(ctx.get(), output_flags);
  nft_ctx_buffer_output(ctx.get());
  nft_ctx_buffer_error(ctx.get());
  int rc = nft_run_cmd_from_buffer(ctx.get(), script.c_str());
  std::string out = nft_ctx_get_output_buffer(ctx.get());
  std::string err = nft_ctx_get_error_buffer(ctx.get());
  if (rc != 0) {
    while (!err.empty() && err.back() == '\n') err.pop_back();
    Code code = err.find("Operation not permitted") != std::string::npos     ? Code::Permission
                : err.find("No such file or directory") != std::string::npos ? Code::NotFound
                                                                             : Code::Internal;
    return fail(code, "nft: " + (err.empty() ? std::string("failed") : err));
  }
  return out;
}

class LibNftables final : public Nftables {
 public:
  Status run(int ns, const std::string& script) override {
    return run_in_netns(ns, [&]() -> Status {
      auto r = run_script(script, 0);
      if (!r) return std::unexpected(r.error());
      return {};
    });
  }

  Result<std::string> list_json(int ns) override {
    std::string out;
    auto st = run_in_netns(ns, [&]() -> Status {
      auto r = run_script("list table inet silo", NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
      if (!r && r.error().code == Code::NotFound) return {};  // no table yet: nothing listed
      if (!r) return std::unexpected(r.error());
      out = std::move(*r);
      return {};
    });
    if (!st) return std::unexpected(st.error());
    return out;
  }
};

}  // namespace

std::unique_ptr<Nftables> make_nftables() {
  return std::make_unique<LibNftables>();
}

}  // namespace silo::network
