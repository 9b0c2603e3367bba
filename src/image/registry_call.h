#pragma once
// Private to the registry client: one operation's context and the error wording shared by
// registry.cc, registry_pull.cc and registry_push.cc.

#include <string>
#include <vector>

#include "image/registry.h"

namespace silo::image {

struct RegistryClient::Call {
  Endpoint ep;
  std::vector<std::string> scopes;  // "repository:library/busybox:pull"
  bool push = false;                // for the wording of access errors
};

namespace registry_detail {

inline Status wrap_status(Status s, std::string_view context) {
  if (!s) return wrap(s.error(), context);
  return {};
}

// "/v2/<repository>/<rest>".
std::string v2_path(const Endpoint& ep, const std::string& rest);

// The registry's {"errors":[{code,message}]} as Docker prints them: "manifest unknown:
// manifest unknown"; "" when the body has none.
std::string error_text(const HttpResponse& r);
// True when the body's errors include `code` (e.g. "MANIFEST_UNKNOWN").
bool has_error_code(const HttpResponse& r, std::string_view code);

// "pull access denied for X, repository does not exist or may require 'docker login': ..."
// (or push), NotFound for 404, Permission for 401/403.
Error access_denied(const RegistryClient::Call& call, const HttpResponse& r);
// Any other unexpected status: "<what> at <host>: HTTP 500: <errors>".
Error unexpected_status(const RegistryClient::Call& call, std::string_view what,
                        const HttpResponse& r);

}  // namespace registry_detail
}  // namespace silo::image
