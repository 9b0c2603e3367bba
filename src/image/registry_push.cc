// Push: blob existence, cross-repository mount, monolithic upload, manifests.

#include <unistd.h>

#include <cerrno>
#include <memory>

#include "image/registry.h"
#include "image/registry_call.h"

namespace silo::image {

namespace {

using registry_detail::access_denied;
using registry_detail::unexpected_status;
using registry_detail::v2_path;

std::vector<std::string> push_scopes(const Reference& repo) {
  return {"repository:" + repo.path + ":pull,push"};
}

// The digest as a query value ("sha256%3A…"), as Docker's url.Values encodes it.
std::string digest_query(const Digest& d) {
  return d.algorithm + "%3A" + d.hex;
}

}  // namespace

Result<bool> RegistryClient::blob_exists(const Reference& repo, const Digest& blob) {
  Call call{resolve_endpoint(repo, options_), push_scopes(repo), /*push=*/true};
  HttpRequest req;
  req.method = "HEAD";
  req.url = v2_path(call.ep, "blobs/" + blob.str());
  auto r = send(call, req);
  if (!r) return wrap(r.error(), "check blob " + blob.short_str());
  if (r->status == 200) return true;
  if (r->status == 404) return false;
  if (r->status == 401 || r->status == 403) return std::unexpected(access_denied(call, *r));
  return std::unexpected(unexpected_status(call, "check blob " + blob.str(), *r));
}

// Where to PUT the blob: "" when a mount made the upload unnecessary.
Result<std::string> RegistryClient::upload_location(Call& call, const Digest& blob,
                                                    const std::optional<std::string>& mount_from) {
  HttpRequest req;
  req.method = "POST";
  req.url = v2_path(call.ep, "blobs/uploads/");
  if (mount_from) req.url += "?mount=" + digest_query(blob) + "&from=" + *mount_from;
  auto r = send(call, req);
  if (!r) return std::unexpected(r.error());
  if (r->status == 201 && mount_from) return std::string();  // mounted
  if (r->status == 401 || r->status == 403 || r->status == 404)
    return std::unexpected(access_denied(call, *r));
  if (r->status != 202) return std::unexpected(unexpected_status(call, "start upload", *r));
  std::string loc = r->header("location");
  if (loc.empty())
    return fail(Code::Invalid, "registry " + call.ep.host +
                                   " started an upload without a Location; it is misconfigured");
  // A relative Location is relative to the registry; an absolute one is used as given.
  if (!loc.starts_with("/") && !loc.starts_with("http://") && !loc.starts_with("https://"))
    loc = "/" + loc;
  return loc;
}

Status RegistryClient::push_blob(const Reference& repo, const Descriptor& blob,
                                 const BlobStore& store,
                                 const std::optional<std::string>& mount_from,
                                 const ProgressFn& progress) {
  const Digest& d = blob.digest;
  std::string what = "push blob " + d.short_str() + " to " + repo.familiar_name();
  auto size = store.size(d);
  if (!size) return wrap(size.error(), what);
  auto exists = blob_exists(repo, d);
  if (!exists) return wrap(exists.error(), what);
  if (*exists) {
    if (progress) progress(d, *size, *size);
    return {};
  }
  std::vector<std::string> scopes = push_scopes(repo);
  if (mount_from) scopes.push_back("repository:" + *mount_from + ":pull");
  Call call{resolve_endpoint(repo, options_), scopes, /*push=*/true};
  auto loc = upload_location(call, d, mount_from);
  if (!loc) return wrap(loc.error(), what);
  if (loc->empty()) {
    if (progress) progress(d, *size, *size);
    return {};
  }
  HttpRequest req;
  req.method = "PUT";
  req.url = *loc + (loc->find('?') == std::string::npos ? "?" : "&") + "digest=" + digest_query(d);
  req.headers.emplace_back("Content-Type", "application/octet-stream");
  req.body_size = *size;
  // Opened per send, so an auth retry reads the blob from its start again.
  req.open_body = [&store, d, total = *size, progress]() -> Result<ReadFn> {
    auto fd = store.open(d);
    if (!fd) return std::unexpected(fd.error());
    auto shared = std::make_shared<UniqueFd>(std::move(*fd));
    auto done = std::make_shared<uint64_t>(0);
    return ReadFn([shared, done, d, total, progress](char* buf, size_t len) -> Result<size_t> {
      ssize_t n;
      do n = ::read(shared->get(), buf, len);
      while (n < 0 && errno == EINTR);
      if (n < 0) return fail_errno(errno, "read blob " + d.str());
      *done += static_cast<uint64_t>(n);
      if (progress) progress(d, *done, total);
      return static_cast<size_t>(n);
    });
  };
  auto r = send(call, req);
  if (!r) return wrap(r.error(), what);
  if (r->status == 401 || r->status == 403) return std::unexpected(access_denied(call, *r));
  if (r->status != 201 && r->status != 204)
    return std::unexpected(unexpected_status(call, "upload blob " + d.str(), *r));
  return {};
}

Result<Digest> RegistryClient::put_manifest(const Reference& ref, std::string_view media_type,
                                            std::string_view body) {
  Call call{resolve_endpoint(ref, options_), push_scopes(ref), /*push=*/true};
  Digest digest = Digest::of(body);
  std::string which = ref.digest ? ref.digest->str() : ref.tag.empty() ? "latest" : ref.tag;
  HttpRequest req;
  req.method = "PUT";
  req.url = v2_path(call.ep, "manifests/" + which);
  req.headers.emplace_back("Content-Type", std::string(media_type));
  req.body = std::string(body);
  auto r = send(call, req);
  std::string what = "push manifest " + call.ep.display + ":" + which;
  if (!r) return wrap(r.error(), what);
  if (r->status == 401 || r->status == 403) return std::unexpected(access_denied(call, *r));
  if (r->status != 201 && r->status != 200)
    return std::unexpected(unexpected_status(call, what, *r));
  std::string got = r->header("docker-content-digest");
  if (!got.empty() && got != digest.str())
    return fail(Code::Invalid, what + ": registry " + call.ep.host + " stored digest " + got +
                                   " but the manifest sent is " + digest.str() +
                                   "; the registry altered it");
  return digest;
}

}  // namespace silo::image
