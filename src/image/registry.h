#pragma once
// A Distribution (registry v2) client: manifests, blobs streamed into the blob store with
// resume and progress, Bearer and Basic auth, and push with cross-repository mounts.
// The HTTP goes through a Transport (libcurl in the daemon, a fake in unit tests).
//
// Errors name the registry and the repository and say what to do, as Docker's do:
//   pull access denied for localhost:5000/nope, repository does not exist or may require
//   'docker login'
//   manifest for localhost:5000/app:v2 not found: manifest unknown: manifest unknown
//   ...: server gave HTTP response to HTTPS client; add "reg:5000" to insecure-registries

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "image/blob_store.h"
#include "image/digest.h"
#include "image/http_transport.h"
#include "image/manifest.h"
#include "image/reference.h"

namespace silo::image {

struct Credentials {
  std::string username, password;
};

struct RegistryOptions {
  // daemon.json insecure-registries: "host[:port]" entries reached over http (after an https
  // try that skips certificate checks, as Docker). localhost, 127.0.0.0/8 and ::1 are always
  // insecure, as in Docker.
  std::vector<std::string> insecure_registries;
  // CA bundles trusted per registry ("host[:port]" -> file), as certs.d/<host>/ca.crt.
  std::map<std::string, std::string> ca_files;
  // Credentials per registry host as the user gave them ("docker.io" for Docker Hub).
  std::map<std::string, Credentials> credentials;
  // Blobs fetched at once by fetch_blobs.
  int parallel_downloads = 3;
};

// Where a repository lives: the host to talk to and the schemes to try, in order.
struct Endpoint {
  std::string host;                  // "registry-1.docker.io", "localhost:5000"
  std::string repository;            // "library/busybox"
  std::vector<std::string> schemes;  // {"https"} or, for an insecure registry, {"https", "http"}
  bool insecure = false;
  std::string ca_file;
  std::string display;  // the familiar repository name for messages: "localhost:5000/app"
};

// docker.io -> registry-1.docker.io; schemes from the insecure list; the CA from ca_files.
Endpoint resolve_endpoint(const Reference& ref, const RegistryOptions& options);

struct FetchedManifest {
  std::string body;        // empty for head_manifest
  std::string media_type;  // Content-Type without parameters
  Digest digest;           // verified against the body when there is one
  uint64_t size = 0;
};

// Bytes of one blob moved so far, and its size; called from the worker threads.
using ProgressFn = std::function<void(const Digest& blob, uint64_t done, uint64_t total)>;
// Called by fetch_blobs from its worker thread once a blob is in the store (e.g. to unpack
// a layer while the others still download); an error fails the fetch.
using StoredFn = std::function<Status(const Descriptor& blob)>;

class RegistryClient {
 public:
  // `transport` must outlive the client. Thread-safe.
  RegistryClient(Transport& transport, RegistryOptions options);

  // GET /v2/<repo>/manifests/<digest or tag> with every manifest type in Accept. When `ref`
  // has a digest, that is fetched and the body must hash to it (Invalid otherwise); by tag,
  // the body must hash to Docker-Content-Digest when the registry sends one. NotFound for an
  // unknown manifest or repository, Permission when access is denied.
  [[nodiscard]] Result<FetchedManifest> get_manifest(const Reference& ref);
  // HEAD of the same: digest, media type and size, no body.
  [[nodiscard]] Result<FetchedManifest> head_manifest(const Reference& ref);

  // Fetches blob `blob` of repository `repo` into `store`, verified; at once when stored.
  // Resumes a partial ingest with a Range request. Progress is reported per chunk.
  [[nodiscard]] Status fetch_blob(const Reference& repo, const Descriptor& blob, BlobStore& store,
                                  const ProgressFn& progress = {});
  // fetch_blob for each of `blobs`, options.parallel_downloads at a time. The first error is
  // returned once the running fetches end; partial blobs stay for a resume.
  [[nodiscard]] Status fetch_blobs(const Reference& repo, const std::vector<Descriptor>& blobs,
                                   BlobStore& store, const ProgressFn& progress = {},
                                   const StoredFn& stored = {});

  // HEAD /v2/<repo>/blobs/<digest>.
  [[nodiscard]] Result<bool> blob_exists(const Reference& repo, const Digest& blob);
  // Uploads `blob` from `store` to `repo` unless the registry has it. With `mount_from` (a
  // repository path on the same registry known to hold it) a cross-repository mount is tried
  // first. Monolithic upload (POST, then PUT with the whole body).
  [[nodiscard]] Status push_blob(const Reference& repo, const Descriptor& blob,
                                 const BlobStore& store,
                                 const std::optional<std::string>& mount_from = std::nullopt,
                                 const ProgressFn& progress = {});
  // PUT /v2/<repo>/manifests/<tag or digest of ref>; returns the manifest's digest.
  [[nodiscard]] Result<Digest> put_manifest(const Reference& ref, std::string_view media_type,
                                            std::string_view body);

  // docker login: GET /v2/ on registry `host` ("docker.io" for Docker Hub, "reg:5000") the
  // way every request goes (schemes, insecure registries, CA files), authenticated with
  // options' credentials for `host`: Basic, or a Bearer token fetched with them. Errors:
  // Permission `Get "https://host/v2/": unauthorized: incorrect username or password` when
  // the registry or its token service refuses them; Unavailable naming the host when it
  // cannot be reached or does not answer as a Docker registry.
  [[nodiscard]] Status check_login(const std::string& host);

  struct Call;  // one registry operation: its endpoint, scope and wording (registry.cc)

 private:
  Result<HttpResponse> send(Call& call, HttpRequest req, const BodySink& sink = {});
  Result<HttpResponse> send_once(Call& call, HttpRequest& req, const BodySink& sink,
                                 const std::string& scheme);
  Status authorize(Call& call, const HttpResponse& challenge);
  Result<std::string> fetch_token(Call& call, const std::map<std::string, std::string>& params,
                                  const std::string& basic);
  Result<FetchedManifest> manifest(const Reference& ref, bool head);
  Result<std::string> upload_location(Call& call, const Digest& blob,
                                      const std::optional<std::string>& mount_from);

  Transport& transport_;
  RegistryOptions options_;
  std::mutex mu_;
  std::map<std::string, std::string> auth_;    // "host scope" -> Authorization header value
  std::map<std::string, std::string> scheme_;  // host -> the scheme that answered
};

}  // namespace silo::image
