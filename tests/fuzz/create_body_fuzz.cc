// Fuzz target for the container create body: arbitrary bytes parsed as JSON, then
// parse_create_request (type checks, image merge, every HostConfig check) and, when it
// accepts, build_oci_spec and inspect_json on the result. Invariants checked: nothing
// throws or crashes; an accepted request yields a spec the runtime's own parser accepts
// (or an Invalid error naming why not); every error has a non-empty message.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/container_config.h"
#include "engine/store.h"
#include "runtime/spec.h"

namespace {

using namespace silo;
using namespace silo::engine;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto body = parse_json(std::string_view(reinterpret_cast<const char*>(data), size), "body");
  if (!body) return 0;
  ImageConfig image;
  image.env = {"PATH=/usr/bin:/bin", "HOME=/root"};
  image.cmd = {"sh"};
  image.labels = {{"org.example", "image"}};
  auto req = parse_create_request(*body, image);
  if (!req) {
    check(!req.error().message.empty());
    return 0;
  }
  // Normalised: every Config and HostConfig field dockerd always shows is present.
  check(req->config.contains("Env") && req->config.contains("Cmd"));
  check(req->host_config.contains("Memory") && req->host_config.contains("NetworkMode"));
  SpecPaths paths;
  paths.rootfs = "/nonexistent-silo-fuzz-rootfs";
  paths.cgroups_path = "silo/fuzz";
  paths.init_path = "/usr/bin/true";
  for (const char* v : {"vol", "v", "data"}) paths.volumes[v] = std::string("/vols/") + v;
  auto spec = build_oci_spec(*req, std::string(64, 'f'), paths);
  if (spec) {
    auto parsed = runtime::parse_spec(*spec);
    check(parsed.has_value());
    check(!parsed->process.args.empty());
  } else {
    check(!spec.error().message.empty());
  }
  ContainerRecord rec;
  rec.id = std::string(64, 'f');
  rec.name = "fuzz";
  rec.config = req->config;
  rec.host_config = req->host_config;
  Json j = inspect_json(rec, "/r/containers/x/x-json.log", "/r/containers/x/rootfs");
  check(j.is_object() && j.contains("State") && j.contains("Mounts"));
  (void)j.dump();
  return 0;
}
