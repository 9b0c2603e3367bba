// Pull: manifests (GET/HEAD) and blobs streamed into the blob store.

#include <atomic>
#include <thread>

#include "image/registry.h"
#include "image/registry_call.h"

namespace silo::image {

namespace {

using registry_detail::access_denied;
using registry_detail::has_error_code;
using registry_detail::unexpected_status;
using registry_detail::v2_path;
using registry_detail::wrap_status;

constexpr uint64_t kMaxManifest = 4u << 20;  // as containerd: a manifest is small

std::string bare_type(std::string_view ct) {
  std::string_view s = ct.substr(0, ct.find(';'));
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

// The media type from the body when the registry's Content-Type says nothing useful.
std::string type_from_body(std::string_view body) {
  auto m = parse_manifest(body);
  if (!m) return "";
  return std::visit([](const auto& v) { return v.media_type; }, *m);
}

}  // namespace

Result<FetchedManifest> RegistryClient::get_manifest(const Reference& ref) {
  return manifest(ref, /*head=*/false);
}

Result<FetchedManifest> RegistryClient::head_manifest(const Reference& ref) {
  return manifest(ref, /*head=*/true);
}

Result<FetchedManifest> RegistryClient::manifest(const Reference& ref, bool head) {
  Call call{resolve_endpoint(ref, options_), {"repository:" + ref.path + ":pull"}};
  std::string tag = ref.tag.empty() ? std::string(kDefaultTag) : ref.tag;
  std::string which = ref.digest ? ref.digest->str() : tag;
  HttpRequest req;
  req.method = head ? "HEAD" : "GET";
  req.url = v2_path(call.ep, "manifests/" + which);
  req.headers.emplace_back("Accept", manifest_accept_header());
  auto r = send(call, req);
  std::string display = call.ep.display + (ref.digest ? "@" : ":") + which;
  if (!r) return wrap(r.error(), "manifest for " + display);
  if (r->status == 404 && (head || has_error_code(*r, "MANIFEST_UNKNOWN")))
    return fail(Code::NotFound,
                "manifest for " + display + " not found: " +
                    (head ? std::string("manifest unknown") : registry_detail::error_text(*r)));
  if (r->status == 401 || r->status == 403 || r->status == 404)
    return std::unexpected(access_denied(call, *r));
  if (r->status != 200) return std::unexpected(unexpected_status(call, "manifest " + which, *r));
  FetchedManifest m;
  m.media_type = bare_type(r->header("content-type"));
  m.size = head ? std::strtoull(r->header("content-length").c_str(), nullptr, 10) : r->body.size();
  if (m.size > kMaxManifest)
    return fail(Code::Invalid, "manifest for " + display + " is " + std::to_string(m.size) +
                                   " bytes, more than a manifest may be; refusing it");
  std::string header_digest = r->header("docker-content-digest");
  if (head) {
    auto d = ref.digest ? Result<Digest>(*ref.digest) : Digest::parse(header_digest);
    if (!d)
      return wrap(d.error(), "manifest for " + display + ": registry " + call.ep.host +
                                 " sent no usable Docker-Content-Digest");
    m.digest = *d;
    return m;
  }
  m.body = std::move(r->body);
  m.digest = Digest::of(m.body);
  // By digest the body must be that digest; by tag it must match what the registry claims.
  std::optional<Digest> want = ref.digest;
  if (!want && !header_digest.empty()) {
    auto d = Digest::parse(header_digest);
    if (d && d->algorithm == "sha256") want = *d;
  }
  if (want && *want != m.digest)
    return fail(Code::Invalid, "manifest for " + display + " from " + call.ep.host +
                                   " is corrupt: expected digest " + want->str() + ", got " +
                                   m.digest.str() + "; pull again or check the registry");
  if (m.media_type.empty() || m.media_type == "application/json" || m.media_type == "text/plain")
    m.media_type = type_from_body(m.body);
  return m;
}

Status RegistryClient::fetch_blob(const Reference& repo, const Descriptor& blob, BlobStore& store,
                                  const ProgressFn& progress) {
  const Digest& d = blob.digest;
  uint64_t total = blob.size > 0 ? static_cast<uint64_t>(blob.size) : 0;
  std::optional<uint64_t> size;
  if (blob.size > 0) size = total;
  if (store.exists(d)) {
    if (progress) progress(d, total, total);
    return {};
  }
  Call call{resolve_endpoint(repo, options_), {"repository:" + repo.path + ":pull"}};
  std::string what = "blob " + d.short_str() + " of " + call.ep.display;
  for (int attempt = 0;; ++attempt) {
    auto in = store.begin(d, size);
    if (!in) return wrap(in.error(), what);
    if (size && in->offset() == *size) return wrap_status(in->commit(), what);
    HttpRequest req;
    req.url = v2_path(call.ep, "blobs/" + d.str());
    // Resume: ask only for what the partial ingest lacks.
    if (in->offset() > 0)
      req.headers.emplace_back("Range", "bytes=" + std::to_string(in->offset()) + "-");
    if (progress) progress(d, in->offset(), total);
    bool started = false;
    auto r = send(call, req, [&](const HttpResponse& head, std::string_view chunk) -> Status {
      if (!started) {
        started = true;
        // 200 to a Range request: the registry sends the whole blob, so start over.
        if (head.status == 200 && in->offset() > 0) {
          in->abort();
          auto again = store.begin(d, size);
          if (!again) return std::unexpected(again.error());
          *in = std::move(*again);
        }
      }
      SILO_TRY(in->write(chunk));
      if (progress) progress(d, in->offset(), total);
      return {};
    });
    if (!r) return wrap(r.error(), what);    // the partial ingest stays for a resume
    if (r->status == 416 && attempt == 0) {  // our partial file is longer than the blob
      in->abort();
      continue;
    }
    if (r->status == 401 || r->status == 403) return std::unexpected(access_denied(call, *r));
    if (r->status == 404)
      return fail(Code::NotFound, what + " is unknown to registry " + call.ep.host + ": " +
                                      registry_detail::error_text(*r) +
                                      "; the image there is incomplete, push it again");
    if (r->status != 200 && r->status != 206)
      return std::unexpected(unexpected_status(call, "blob " + d.str(), *r));
    return wrap_status(in->commit(), what);
  }
}

Status RegistryClient::fetch_blobs(const Reference& repo, const std::vector<Descriptor>& blobs,
                                   BlobStore& store, const ProgressFn& progress,
                                   const StoredFn& stored) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::optional<Error> first;
  auto worker = [&] {
    for (size_t i; (i = next++) < blobs.size();) {
      {
        std::lock_guard lock(mu);
        if (first) return;  // stop starting new blobs after a failure
      }
      auto s = fetch_blob(repo, blobs[i], store, progress);
      if (s && stored) s = stored(blobs[i]);
      if (!s) {
        std::lock_guard lock(mu);
        if (!first) first = s.error();
      }
    }
  };
  size_t n = std::min<size_t>(std::max(1, options_.parallel_downloads), blobs.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (first) return std::unexpected(*first);
  return {};
}

}  // namespace silo::image
